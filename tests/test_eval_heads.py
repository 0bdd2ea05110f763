"""Head evaluation: metrics, SMART reader, the eval/train CLIs on tiny fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.heads import classification_scores
from evaluation.smart import parse_qrels, read_smart
from evaluation.squad_metric import f1_score, normalize_answer, squad_scores

FIX = Path(__file__).parent / "fixtures" / "heads"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_squad_metric_official_normalisation():
    assert normalize_answer("The N95, masks!") == "n95 masks"
    assert f1_score("mask makers insist", "mask makers") == pytest.approx(0.8)
    assert squad_scores(["1889", "Lyon"], [["1889"], ["Paris"]]) == {
        "exact_match": 50.0,
        "f1": 50.0,
        "n": 2,
    }


def test_classification_scores_confusion_and_macro_f1():
    s = classification_scores(["a", "a", "b", "c"], ["a", "b", "b", "c"], ["a", "b", "c"])
    assert s.accuracy == 0.75 and s.n == 4
    assert s.confusion == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert s.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    with pytest.raises(ValueError, match="not one of"):
        classification_scores(["z"], ["a"], ["a"])


def test_smart_reader_on_fixture_and_time_format():
    c = read_smart(FIX / "smart")
    assert c.corpus["2"].startswith("blood oxygen") and c.queries["2"] == "glucose in fetal plasma"
    assert c.qrels == {"1": {"1": 1}, "2": {"3": 1}}
    assert parse_qrels("1  268 288\n\n2  326\n", lists=True) == {
        "1": {"268": 1, "288": 1},
        "2": {"326": 1},
    }


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

    import ranker.heads.loading as loading
    from ranker.heads.decoding import bio_labels

    spec = loading.HeadSpec(
        task="tagger", labels=bio_labels(["PER", "ORG", "LOC", "MISC"]), lora_r=4, lora_alpha=8
    )
    loading.save_head(loading.add_lora(loading.build_model(spec), spec), spec, tmp_path / "tag")
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
    assert 0 <= r["precision"] <= 1 and r["dtype"] in ("fp32", "bf16")  # not overwritten


def test_eval_missing_file_is_a_clean_error(capsys):
    from newsrank.cli import main

    assert main(["eval", "reader", "--data", "/nonexistent/squad.json", "--json"]) == 1
    assert "not found" in capsys.readouterr().err


def test_rerank_beir_on_fixture(tmp_path, capsys):
    from test_heads_roundtrip import _saved_head

    from evaluation import rerank_beir

    _saved_head("cross-encoder", tmp_path / "ce")
    argv = [
        "--model",
        str(tmp_path / "ce"),
        "--beir",
        str(FIX / "beir"),
        "--smart",
        str(FIX / "smart"),
        "--depth",
        "3",
        "--cache",
        "",
        "--json",
    ]
    assert rerank_beir.main(argv) == 0
    r = json.loads(capsys.readouterr().out)
    assert 0.0 <= r["alpha"] <= 1.0 and "alpha_search" in r
    for name in ("beir", "smart"):
        assert set(r[name]) >= {"bm25", "dense", "hybrid", "rerank"}
        assert all(0.0 <= r[name][k] <= 1.0 for k in ("bm25", "dense", "hybrid", "rerank"))


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
    assert 0.0 <= metrics["test"]["f1"] <= 1.0


def test_time_records_are_numbered_by_position():
    from evaluation.smart import parse_records

    text = "*TEXT 017 01/04/63 PAGE 020\n\nFIRST STORY .\n\n*TEXT 020 01/04/63\nSECOND .\n*STOP\n"
    assert parse_records(text) == {"1": "FIRST STORY .", "2": "SECOND ."}
