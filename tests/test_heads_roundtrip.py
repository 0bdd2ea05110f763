"""Save/load round trip of every head, and the inference classes on a saved head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from heads.decoding import bio_labels
from heads.loading import HeadLoadError, HeadSpec, build_model, load_head
from heads.registry import resolve_head, shipped_dir
from training.export import add_lora, save_head

CASES = {
    "classifier": ["business", "sport"],
    "cross-encoder": ["relevance"],
    "tagger": bio_labels(["PER", "LOC"]),
    "reader": [],
}


def _outputs(model, tok, task):
    enc = tok(["Who wrote it?"], ["Ada Lovelace wrote it in London."], return_tensors="pt")
    with torch.inference_mode():
        out = model(**enc)
    return (out.start_logits if task == "reader" else out.logits).float().numpy()


def _saved_head(task: str, path: Path, method: str = "lora") -> tuple[HeadSpec, np.ndarray]:
    from transformers import AutoTokenizer

    from newsrank.modelpath import resolve_model

    spec = HeadSpec(
        task=task,
        labels=CASES[task],
        lora_r=4,
        lora_alpha=8,
        max_length=64,
        method=method,
        options={"stride": 16} if task == "reader" else {},
    )
    torch.manual_seed(0)
    model = build_model(spec)
    if method == "lora":
        model = add_lora(model, spec)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "lora_B" in name:
                    p.normal_(0, 0.05)
    model.eval()
    save_head(model, spec, path)
    tok = AutoTokenizer.from_pretrained(resolve_model(spec.backbone))
    return spec, _outputs(model, tok, task)


@pytest.mark.parametrize("task", list(CASES))
def test_lora_round_trip_gives_same_outputs(task, tmp_path):
    spec, before = _saved_head(task, tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert names >= {"adapter.safetensors", "head.json", "labels.json"}
    assert (tmp_path / "adapter.safetensors").stat().st_size < 5_000_000
    model, tok, spec2 = load_head(str(tmp_path), task)
    assert spec2 == spec
    np.testing.assert_allclose(_outputs(model, tok, task), before, atol=2e-2)


def test_full_round_trip(tmp_path):
    _, before = _saved_head("classifier", tmp_path, method="full")
    assert (tmp_path / "model.safetensors").is_file()
    model, tok, spec = load_head(str(tmp_path), "classifier")
    assert spec.method == "full" and spec.labels == CASES["classifier"]
    np.testing.assert_allclose(_outputs(model, tok, "classifier"), before, atol=1e-4)


def test_inference_classes_on_saved_heads(tmp_path):
    from heads.classifier import TextClassifier
    from heads.cross_encoder import CrossEncoder
    from heads.reader import Reader
    from heads.tagger import EntityTagger

    for task in CASES:
        _saved_head(task, tmp_path / task)
    clf = TextClassifier(str(tmp_path / "classifier"), batch_size=2)
    preds = clf.predict(["Arsenal won", "Shares fell", "Oil rose"])
    assert len(preds) == 3 and {s.label for s in preds[0]} == set(CASES["classifier"])
    assert preds[0][0].score >= preds[0][1].score
    assert sum(s.score for s in preds[0]) == pytest.approx(1.0, abs=1e-4)

    ce = CrossEncoder(str(tmp_path / "cross-encoder"))
    scores = ce.predict([("oil", "Oil prices rose"), ("oil", "Arsenal won")])
    assert scores.shape == (2,) and ((scores >= 0) & (scores <= 1)).all()
    ranked = ce.rank("oil", ["Arsenal won", "Oil prices rose", "x"], top_k=2)
    assert len(ranked) == 2 and ranked[0].score >= ranked[1].score

    tagger = EntityTagger(str(tmp_path / "tagger"))
    text = "Ada Lovelace lived in London."
    ents = tagger.tag([text, ""])
    assert len(ents) == 2 and ents[1] == []
    assert all(text[e.start : e.end] == e.text for e in ents[0])

    reader = Reader(str(tmp_path / "reader"))
    contexts = ["Ada Lovelace wrote the first program.", "Paris is in France. " * 40]
    answers = reader.answer("Who wrote the first program?", contexts, top_k=3)
    assert 1 <= len(answers) <= 3
    for a in answers:
        assert contexts[a.context_index][a.start : a.end] == a.text
        assert 0.0 <= a.score <= 1.0
    with pytest.raises(ValueError, match="question"):
        reader.answer("  ", contexts)


def test_errors_name_the_problem(tmp_path):
    _saved_head("classifier", tmp_path / "clf")
    with pytest.raises(HeadLoadError, match="classifier head, not a reader"):
        load_head(str(tmp_path / "clf"), "reader")
    (tmp_path / "empty").mkdir()
    with pytest.raises(HeadLoadError, match="head.json"):
        load_head(str(tmp_path / "empty"), "reader")
    with pytest.raises(ValueError, match="task"):
        HeadSpec(task="summarizer")


def test_resolve_head_maps_shipped_names():
    assert resolve_head("reader") == str(shipped_dir() / "reader")
    assert (shipped_dir() / "reader" / "head.json").is_file()
    assert resolve_head("some/hub-id") == "some/hub-id"


def test_case_segment_tagger_sees_capitals(tmp_path):
    """The uncased backbone cannot tell "Apple" from "apple"; a ``case_segment`` tagger
    can, and its trained segment embedding survives save/load."""
    from safetensors.torch import load_file

    from heads.tagger import EntityTagger

    for case in (False, True):
        spec = HeadSpec(
            task="tagger",
            labels=CASES["tagger"],
            lora_r=4,
            lora_alpha=8,
            max_length=32,
            options={"case_segment": case},
        )
        torch.manual_seed(0)
        model = add_lora(build_model(spec), spec)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "token_type_embeddings" in name:
                    p[1].normal_(0, 1.0)  # a segment-1 vector far from the pretrained one
        save_head(model, spec, tmp_path / str(case))
        saved = load_file(str(tmp_path / str(case) / "adapter.safetensors"))
        assert any("token_type_embeddings" in k for k in saved) == case
        tagger = EntityTagger(str(tmp_path / str(case)))
        upper, lower = tagger.tag_words([["Apple", "rose"], ["apple", "rose"]])
        same = all(a[1] == pytest.approx(b[1], abs=1e-5) for a, b in zip(upper, lower))
        assert same != case
