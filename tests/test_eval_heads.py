"""Head evaluation: metrics, the eval/train CLIs on tiny fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpora.conll import read_conll, seqeval_scores
from evaluation.heads import classification_scores

FIX = Path(__file__).parent / "fixtures" / "heads"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_classification_scores_confusion_and_macro_f1():
    s = classification_scores(["a", "a", "b", "c"], ["a", "b", "b", "c"], ["a", "b", "c"])
    assert s.accuracy == 0.75 and s.n == 4
    assert s.confusion == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert s.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    with pytest.raises(ValueError, match="not one of"):
        classification_scores(["z"], ["a"], ["a"])


def _run_cli(argv: list[str], capsys) -> dict:
    from newsrank.cli import main

    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def trained_classifier(tmp_path_factory):
    from newsrank.cli import main

    out = tmp_path_factory.mktemp("clf")
    argv = [
        "train",
        "classifier",
        "--data",
        str(FIX / "topics.csv"),
        "--out",
        str(out),
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--max-length",
        "32",
        "--lora-r",
        "4",
    ]
    assert main(argv) == 0
    return out


def test_train_cli_writes_head_with_metrics(trained_classifier):
    metrics = json.loads((trained_classifier / "metrics.json").read_text())
    assert "train classifier" in metrics["command"]
    assert metrics["config"]["method"] == "lora" and metrics["test"]["n"] >= 1
    assert json.loads((trained_classifier / "labels.json").read_text()) == {
        "0": "business",
        "1": "sport",
    }


def test_eval_classifier_cli_json(trained_classifier, capsys):
    r = _run_cli(
        [
            "eval",
            "classifier",
            "--data",
            str(FIX / "topics.csv"),
            "--model",
            str(trained_classifier),
            "--json",
        ],
        capsys,
    )
    assert set(r) >= {"accuracy", "macro_f1", "n", "confusion"} and r["n"] == 6


def test_eval_classifier_out_writes_report_and_confusion_plot(trained_classifier, tmp_path, capsys):
    out = tmp_path / "report"
    args = ["eval", "classifier", "--data", str(FIX / "topics.csv")]
    r = _run_cli([*args, "--model", str(trained_classifier), "--out", str(out), "--json"], capsys)
    saved = json.loads((out / "classifier.json").read_text())
    assert saved["confusion"] == r["confusion"] and sum(map(sum, saved["confusion"])) == 6
    assert saved["provenance"]["command"].startswith("newsrank eval classifier")
    assert (out / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    report = (out / "report.md").read_text()
    assert f"| {r['accuracy']:.4f} | {r['macro_f1']:.4f} | 6 |" in report
    assert "confusion.png" in report


def test_eval_reader_and_tagger_cli_json(tmp_path, capsys):
    from test_heads_roundtrip import _saved_head

    _saved_head("reader", tmp_path / "reader")
    r = _run_cli(
        [
            "--precision",
            "fp32",
            "eval",
            "reader",
            "--data",
            str(FIX / "squad_tiny.json"),
            "--model",
            str(tmp_path / "reader"),
            "--json",
        ],
        capsys,
    )
    assert set(r) == {"exact_match", "f1", "n", "dtype"} and r["n"] == 4
    assert r["dtype"] == "fp32"  # as asked; "auto" picks bf16 only on a CPU that has it

    import heads.loading as loading
    from heads.decoding import bio_labels
    from training.export import add_lora, save_head

    spec = loading.HeadSpec(
        task="tagger", labels=bio_labels(["PER", "ORG", "LOC", "MISC"]), lora_r=4, lora_alpha=8
    )
    save_head(add_lora(loading.build_model(spec), spec), spec, tmp_path / "tag")
    r = _run_cli(
        [
            "eval",
            "tagger",
            "--data",
            str(FIX / "conll" / "test.txt"),
            "--model",
            str(tmp_path / "tag"),
            "--json",
        ],
        capsys,
    )
    assert set(r) >= {"f1", "precision", "recall", "per_type", "dtype"}
    assert r["dtype"] in ("fp32", "bf16")  # not overwritten
    # the gold entities of the file, whatever the untrained head predicts: 3 sentences,
    # ORG Reuters / United Nations, LOC Tokyo / New York, PER Barack Obama
    assert r["n"] == 3
    support = {t: s["support"] for t, s in r["per_type"].items() if s["support"]}
    assert support == {"ORG": 2, "LOC": 2, "PER": 1}
    gold = [tags for _, tags in read_conll(FIX / "conll" / "test.txt")]
    assert seqeval_scores(gold, gold)["f1"] == 1.0 > r["f1"]  # untrained: below perfect


def test_eval_missing_file_is_a_clean_error(capsys):
    from newsrank.cli import main

    assert main(["eval", "reader", "--data", "/nonexistent/squad.json", "--json"]) == 1
    assert "not found" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "conll2003").is_dir(), reason="../shared/data is absent")
def test_smoke_tagger_on_shared_slice(tmp_path):
    from newsrank.cli import main

    argv = [
        "train",
        "tagger",
        "--data",
        str(SHARED / "conll2003"),
        "--out",
        str(tmp_path),
        "--epochs",
        "1",
        "--max-examples",
        "64",
        "--val-sentences",
        "32",
        "--max-length",
        "64",
        "--lora-r",
        "4",
    ]
    assert main(argv) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["data"] == {"train_sentences": 64, "val_sentences": 32}
    gold = [tags for _, tags in read_conll(SHARED / "conll2003" / "test.txt")]
    perfect = seqeval_scores(gold, gold)
    assert metrics["test"]["n"] == perfect["n"] == 3453  # scored on the whole test file
    for t, s in perfect["per_type"].items():
        assert metrics["test"]["per_type"][t]["support"] == s["support"]
    assert metrics["test"]["f1"] < perfect["f1"] == 1.0  # 64 sentences, one epoch
