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
