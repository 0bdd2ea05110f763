"""A few training steps on tiny fixtures lower the loss, for every head; seeds repeat."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from heads.decoding import bio_labels
from heads.loading import HeadSpec
from training.common import pad_collate
from training.config import TrainConfig
from training.trainer import fit, length_batches, make_model, setup

FIX = Path(__file__).parent / "fixtures" / "heads"


@pytest.fixture(scope="module")
def tok():
    from transformers import AutoTokenizer

    from newsrank.modelpath import resolve_model

    return AutoTokenizer.from_pretrained(resolve_model("sentence-transformers/all-MiniLM-L6-v2"))


def _loss(model, batch, loss_fn=None) -> float:
    model.eval()  # no dropout: compare like with like
    with torch.no_grad():
        return float(loss_fn(model, batch) if loss_fn else model(**batch).loss)


def _config(feats, steps, **settings):
    """A tiny run: one batch of all ``feats`` per epoch, ``steps`` epochs, no warm-up."""
    base = dict(lr=3e-3, lora_r=4, lora_alpha=8, seed=3, warmup=0.0, eval_every=10_000)
    return TrainConfig(epochs=steps, batch_size=len(feats), patience=100, **(base | settings))


def _train(spec, feats, collate, loss_fn=None, lengths=None, steps=6, lr=3e-3):
    cfg = _config(feats, steps, lr=lr)
    device = setup(cfg)
    model = make_model(spec, cfg, device)
    batch = collate(feats)
    before = _loss(model, batch, loss_fn)
    fit(model, feats, collate, lambda m: {"m": 0.0}, "m", cfg, device, loss_fn, lengths)
    return before, _loss(model, batch, loss_fn), model


def test_classifier_steps_lower_loss(tok):
    from corpora.classify import load_csv
    from training.classifier import encode

    rows = load_csv(FIX / "topics.csv")
    labels = sorted({lab for _, lab in rows})
    feats = encode(tok, rows, {lab: i for i, lab in enumerate(labels)}, 32)
    spec = HeadSpec(task="classifier", labels=labels, lora_r=4, lora_alpha=8)
    before, after, _ = _train(spec, feats, pad_collate())
    assert after < before


def test_tagger_steps_lower_loss(tok):
    from corpora.conll import ENTITY_TYPES, read_conll
    from training.tagger import encode

    sents = read_conll(FIX / "conll" / "train.txt")
    labels = bio_labels(ENTITY_TYPES)
    feats = encode(tok, sents, {lab: i for i, lab in enumerate(labels)}, 32)
    spec = HeadSpec(task="tagger", labels=labels, lora_r=4, lora_alpha=8)
    before, after, _ = _train(spec, feats, pad_collate())
    assert after < before


def test_reader_steps_lower_loss(tok):
    from corpora.squad import load_squad
    from training.reader import qa_features

    exs = load_squad(FIX / "squad_tiny.json")
    feats = qa_features(tok, exs, 64, 16)
    assert all(f["start_positions"] > 0 for f in feats)  # every answer is inside its window
    first = feats[0]
    answer = tok.decode(first["input_ids"][first["start_positions"] : first["end_positions"] + 1])
    assert answer == "mask makers"
    before, after, _ = _train(HeadSpec(task="reader", lora_r=4, lora_alpha=8), feats, pad_collate())
    assert after < before


def test_reranker_steps_lower_loss(tok):
    from training.rerank_groups import Group
    from training.reranker import group_collate, pair_features, relevance_loss

    groups = [
        Group("oil prices", "Oil prices rose as markets reacted.", ["The striker scored.", "Tea."]),
        Group("eiffel tower", "The Eiffel Tower is in Paris.", ["Oil rose.", "A cat sat."]),
    ]
    feats = []
    for g in groups:
        enc = pair_features(tok, [(g.query, d) for d in [g.positive, *g.negatives]], 32)
        feats.append(
            {
                "input_ids": enc["input_ids"],
                "token_type_ids": enc["token_type_ids"],
                "labels": [1.0, 0.0, 0.0],
            }
        )
    spec = HeadSpec(task="cross-encoder", labels=["relevance"], lora_r=4, lora_alpha=8)
    before, after, _ = _train(spec, feats, group_collate, relevance_loss, lengths=[3, 3])
    assert after < before


def test_same_seed_same_weights(tok):
    from corpora.classify import load_csv
    from training.classifier import encode

    rows = load_csv(FIX / "topics.csv")
    feats = encode(tok, rows, {"business": 0, "sport": 1}, 32)
    spec = HeadSpec(task="classifier", labels=["business", "sport"], lora_r=4, lora_alpha=8)
    _, a, m1 = _train(spec, feats, pad_collate(), steps=2)
    _, b, m2 = _train(spec, feats, pad_collate(), steps=2)
    assert a == pytest.approx(b, abs=1e-6)
    w1 = dict(m1.named_parameters())["base_model.model.classifier.weight"]
    w2 = dict(m2.named_parameters())["base_model.model.classifier.weight"]
    assert torch.equal(w1, w2)


def test_max_steps_cuts_the_run_short_on_the_full_runs_schedule(tok):
    """A run cut at step 2 of 6 ends with step 2's weights of the uncut run, not a 2-step run's."""
    from corpora.classify import load_csv
    from training.classifier import encode
    from training.trainer import trainable_state

    rows = load_csv(FIX / "topics.csv")
    feats = encode(tok, rows, {"business": 0, "sport": 1}, 32)
    spec = HeadSpec(task="classifier", labels=["business", "sport"], lora_r=4, lora_alpha=8)

    def run(epochs, max_steps=None):
        cfg = _config(feats, epochs, eval_every=1, max_steps=max_steps)
        device = setup(cfg)
        model = make_model(spec, cfg, device)
        states, calls = [], iter(range(1, 100))
        result = fit(
            model,
            feats,
            pad_collate(),
            lambda m: {"m": float(next(calls))},
            "m",
            cfg,
            device,
            on_best=lambda m: states.append(trainable_state(m)),
        )
        return result, states

    full, full_states = run(6)
    cut, cut_states = run(6, max_steps=2)
    short, short_states = run(2)
    assert (full.steps, cut.steps, short.steps) == (6, 2, 2)
    assert [h["step"] for h in cut.history] == [1, 2]
    for name, value in cut_states[-1].items():
        assert torch.equal(value, full_states[1][name]), name
    assert any(not torch.equal(v, short_states[-1][k]) for k, v in cut_states[-1].items())


def test_length_batches_cover_every_example_once():
    batches = length_batches([5, 1, 4, 2, 3, 9, 7], batch_size=3, seed=1)
    assert sorted(i for b in batches for i in b) == list(range(7))
    assert batches == length_batches([5, 1, 4, 2, 3, 9, 7], batch_size=3, seed=1)


def test_train_config_rejects_bad_values():
    with pytest.raises(ValueError, match="method"):
        TrainConfig(method="adapter")
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="max_steps=0"):
        TrainConfig(max_steps=0)


def test_scifact_source_reads_train_qrels_in_file_order(tmp_path):
    from training.rerank_groups import scifact_source

    src = scifact_source(str(FIX / "beir"))  # train qrels: q1 -> d1, q3 -> d3
    assert src.name == "scifact"
    assert src.queries == ["do masks protect against viruses", "why did oil prices rise"]
    assert src.positives == [{0}, {2}]
    assert src.docs[:2] == [  # "title. text", stripped of ". " at both ends (as trained)
        "Masks. N95 respirator masks guard against viruses",
        "Towers. The Eiffel Tower stands in Paris",
    ]
    # qrels file order, not queries order; a 0 score is no positive; an untitled doc has
    # no leading ". "; a query without a text is skipped
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text(
        '{"_id": "a", "title": "", "text": "alpha"}\n{"_id": "b", "title": "B", "text": "beta"}\n'
    )
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "1", "text": "one"}\n{"_id": "2", "text": "two"}\n{"_id": "3", "text": "x"}\n'
    )
    (tmp_path / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n2\tb\t1\n1\ta\t0\n1\tb\t2\n3\ta\t0\n9\ta\t1\n"
    )
    src = scifact_source(str(tmp_path))
    assert src.queries == ["two", "one"] and src.positives == [{1}, {1}]
    assert src.docs == ["alpha", "B. beta"]


def test_train_cli_names_a_missing_dependency(monkeypatch, tmp_path, capsys):
    import sys

    from newsrank.cli import main

    monkeypatch.delitem(sys.modules, "training.tagger", raising=False)
    monkeypatch.setitem(sys.modules, "seqeval", None)  # importing it now fails
    argv = ["train", "tagger", "--data", str(FIX / "conll"), "--out", str(tmp_path / "t")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "train tagger" in err and "seqeval" in err and "newsrank[train]" in err
    assert not (tmp_path / "t").exists()


def test_train_cli_registers_every_head_without_torch():
    import subprocess
    import sys

    code = (
        "import argparse, sys\n"
        "from training import cli\n"
        "p = argparse.ArgumentParser()\n"
        "cli.register(p.add_subparsers())\n"
        "a = p.parse_args(['train', 'reranker', '--data', 'bbc', '--out', 'x', '--hard', '3'])\n"
        "assert a.hard == 3 and a.head == 'reranker' and a.method == 'lora', a\n"
        "heavy = ('torch', 'transformers', 'training.reranker')\n"
        "assert not [m for m in heavy if m in sys.modules], sorted(sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=120)


def test_reranker_trains_on_the_groups_another_run_prepared(tmp_path):
    """``--write-data`` mines here; ``--data prepared:FILE`` trains on exactly those
    groups (a GPU machine without the corpora), the held-out queries included."""
    import argparse
    import json

    from newsrank.cli import main
    from training.reranker import read_prepared, training_data

    data = f"scifact:{FIX / 'beir'}"
    common = ["--hard", "1", "--random", "1", "--val-queries", "1", "--max-length", "32"]
    prepared = tmp_path / "groups.json.gz"
    argv = ["train", "reranker", "--data", data, "--out", str(tmp_path / "unused")]
    assert main([*argv, *common, "--write-data", str(prepared)]) == 0
    assert not (tmp_path / "unused").exists()  # mined and written, nothing trained
    args = argparse.Namespace(
        data=data, val_queries=1, per_source=1000, hard=1, random=1, ict_terse=0.0
    )
    mined = training_data(args, TrainConfig(max_length=32))
    assert read_prepared(prepared) == mined and mined.groups and mined.val
    out = tmp_path / "head"
    argv = ["train", "reranker", "--data", f"prepared:{prepared}", "--out", str(out)]
    assert main([*argv, *common, "--max-steps", "1", "--batch-size", "1", "--threads", "1"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"]["groups"] == mined.counts and metrics["data"]["val_queries"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["reranker", "--data", "bogus:x"], "unknown reranker source 'bogus'"),
        (["reranker", "--data", "bbc", "--max-steps", "0"], "max_steps=0"),
        (["embedder", "--data", "prepared:/no/such.json.gz"], "cannot be read"),
        (["embedder", "--data", "prepared:/no/such.json.gz,news#5"], "give it alone"),
        (["reranker", "--data", "scifact:/no/such/dir"], "/no/such/dir"),
        (["embedder", "--data", "news#5", "--val-queries", "0"], "--val-queries 0"),
    ],
)
def test_train_cli_input_errors_are_one_line_and_exit_1(argv, message, tmp_path, capsys):
    from newsrank.cli import main

    assert main(["train", argv[0], "--out", str(tmp_path / "h"), *argv[1:]]) == 1
    err = capsys.readouterr().err
    assert err.startswith("newsrank: error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "h").exists()


def test_sources_without_held_out_queries_are_refused_before_a_file_is_written(tmp_path, capsys):
    from newsrank.cli import main

    prepared = tmp_path / "groups.json.gz"
    argv = ["train", "reranker", "--data", f"scifact:{FIX / 'beir'}", "--out", str(tmp_path / "h")]
    assert main([*argv, "--val-queries", "0", "--write-data", str(prepared)]) == 1
    assert "leaves no validation queries" in capsys.readouterr().err
    assert not prepared.exists() and not (tmp_path / "h").exists()
