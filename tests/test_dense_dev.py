"""benchmarks/dense_dev.py: its metrics agree with the product's (ranx) on any ranking."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

dense_dev = pytest.importorskip("dense_dev")
pytest.importorskip("ranx")

DOCS = [f"d{i}" for i in range(15)]


@settings(max_examples=60, deadline=None)
@given(
    ranked=st.lists(st.sampled_from(DOCS), min_size=1, max_size=15, unique=True),
    grades=st.dictionaries(st.sampled_from(DOCS), st.integers(1, 3), min_size=1, max_size=6),
)
def test_mrr_and_ndcg_match_ranx(ranked, grades):
    from evaluation.scoring import measure

    run = {"q": {d: float(len(ranked) - i) for i, d in enumerate(ranked)}}
    want = measure({"q": grades}, {"r": run})["r"]
    assert dense_dev.mrr_at_10(ranked, grades) == pytest.approx(want["mrr@10"], abs=1e-4)
    assert dense_dev.ndcg_at_10(ranked, grades) == pytest.approx(want["ndcg@10"], abs=1e-4)
    assert dense_dev.recall_at_100(ranked, grades) == pytest.approx(want["recall@100"], abs=1e-4)


def test_score_ranks_articles_by_their_best_passage(tmp_path):
    """``score`` on a hand-made pack with the packaged MiniLM: each query finds the
    article one of whose passages says what it asks, and the results file holds every
    set and the mean."""
    import gzip
    import json

    pack = {
        "format": dense_dev.PACK_FORMAT,
        "corpora": {
            "c": [
                ["oil", "Markets\nStock markets opened the week flat."],
                ["oil", "Oil\nCrude oil prices fell sharply as demand collapsed."],
                ["cup", "Football\nRovers won the cup final after extra time."],
                ["rain", "Weather\nHeavy rain flooded the valley towns overnight."],
            ]
        },
        "sets": {
            "s": {
                "corpus": "c",
                "queries": {"q1": "why did the price of crude fall", "q2": "who won the final"},
                "qrels": {"q1": {"oil": 1}, "q2": {"cup": 2}},
            }
        },
    }
    path = tmp_path / "pack.json.gz"
    with gzip.open(path, "wt") as fh:
        json.dump(pack, fh)
    out = tmp_path / "scores.json"
    model = "sentence-transformers/all-MiniLM-L6-v2"
    argv = ["score", "--pack", str(path), "--embedder", model, "--device", "cpu"]
    assert dense_dev.main([*argv, "--out", str(out)]) == 0
    got = json.loads(out.read_text())[model]
    assert got["s"] == {"mrr@10": 1.0, "ndcg@10": 1.0, "recall@100": 1.0}
    assert got["mean"] == got["s"]


def test_score_refuses_a_file_that_is_not_a_pack(tmp_path):
    from training.prepared import write_record

    other = write_record(tmp_path / "groups.json.gz", "newsrank-rerank-groups/1", {})
    for path in (other, tmp_path / "missing.json.gz"):
        with pytest.raises(SystemExit, match="dense_dev.py pack --out FILE"):
            dense_dev.main(["score", "--pack", str(path), "--embedder", "unused"])
