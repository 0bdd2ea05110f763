import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.hits import Hits
from newsrank.config import SearchConfig
from ranker.fuse import StageScore, aggregate, article_stage_scores, fuse, linear, minmax, rrf


def test_rrf_matches_hand_computed_values():
    fused = rrf({"bm25": [10, 20, 30], "dense": [30, 10]}, k=60)
    assert fused[10] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[30] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[20] == pytest.approx(1 / 62)
    assert sorted(fused, key=fused.get, reverse=True) == [10, 30, 20]


def test_rrf_rejects_bad_k():
    with pytest.raises(ValueError, match="k=0"):
        rrf({"a": [1]}, k=0)


def test_linear_fusion_scales_each_stage():
    fused = linear(
        {"bm25": ([1, 2, 3], [9.0, 5.0, 1.0]), "dense": ([3, 1], [0.8, 0.4])},
        {"bm25": 0.3, "dense": 0.7},
    )
    assert fused == pytest.approx({1: 0.3, 2: 0.15, 3: 0.7})
    with pytest.raises(ValueError, match="no weight for stage 'dense'"):
        linear({"dense": ([1], [1.0])}, {"bm25": 1.0})


def test_minmax_edge_cases():
    assert minmax([]).tolist() == []
    assert minmax([3.0, 3.0]).tolist() == [1.0, 1.0]


def test_aggregate_takes_the_best_passage_per_article():
    passage_article = np.array([0, 0, 1, 1, 2])
    ranked = aggregate({0: 0.1, 1: 0.7, 2: 0.7, 3: 0.2, 4: 0.05}, passage_article)
    assert [(a.article, a.score, a.best_passage) for a in ranked] == [
        (0, 0.7, 1),
        (1, 0.7, 2),
        (2, 0.05, 4),
    ]


def test_article_stage_scores_rank_articles_not_passages():
    passage_article = np.array([0, 0, 1, 2])
    got = article_stage_scores([1, 0, 3, 2], [4.0, 3.0, 2.0, 1.0], passage_article)
    assert got == {0: StageScore(1, 4.0), 2: StageScore(2, 2.0), 1: StageScore(3, 1.0)}


# --- weighted RRF (SearchConfig.rrf_weights) ---------------------------------------

TWO_STAGES = {"bm25": [10, 20, 30, 40], "dense": [30, 50, 10, 60]}


def _plain_rrf(rankings, k):
    """The unweighted formula, written out independently of ranker.fuse."""
    out = {}
    for ids in rankings.values():
        for rank, item in enumerate(ids, start=1):
            out[item] = out.get(item, 0.0) + 1.0 / (k + rank)
    return out


def _order(fused):
    return sorted(fused, key=lambda i: (-fused[i], i))


def test_equal_weights_are_plain_rrf_exactly():
    for k in (1, 60):
        plain = rrf(TWO_STAGES, k=k)
        weighted = rrf(TWO_STAGES, k=k, weights={"bm25": 1.0, "dense": 1.0})
        assert weighted == plain == _plain_rrf(TWO_STAGES, k)  # bit for bit, not approx


def test_weights_multiply_each_stages_terms():
    fused = rrf(TWO_STAGES, k=60, weights={"bm25": 2.0, "dense": 0.5})
    assert fused[10] == pytest.approx(2 / 61 + 0.5 / 63)
    assert fused[50] == pytest.approx(0.5 / 62)
    assert fused[40] == pytest.approx(2 / 64)


@pytest.mark.parametrize("kept, dropped", [("bm25", "dense"), ("dense", "bm25")])
def test_weight_zero_is_the_other_stage_alone_in_order(kept, dropped):
    fused = rrf(TWO_STAGES, k=60, weights={kept: 3.0, dropped: 0.0})
    assert _order(fused) == TWO_STAGES[kept]
    assert set(fused) == set(TWO_STAGES[kept])  # the dropped stage adds no candidates


def test_rrf_weight_errors_name_the_stage():
    with pytest.raises(ValueError, match="no RRF weight for stage 'dense'"):
        rrf(TWO_STAGES, weights={"bm25": 1.0})
    with pytest.raises(ValueError, match="RRF weight -1.0 for stage 'bm25' must be >= 0"):
        rrf(TWO_STAGES, weights={"bm25": -1.0, "dense": 1.0})


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["bm25", "dense"]),
        st.lists(st.integers(0, 30), unique=True, max_size=15),
        min_size=1,
    ),
    st.floats(0.01, 10),
    # 0 (the stage off) or a real weight: a subnormal one times c can underflow to 0
    st.one_of(st.just(0.0), st.floats(1e-3, 10)),
    st.floats(1e-3, 1e3),
    st.integers(1, 100),
)
def test_scaling_both_weights_keeps_the_order(rankings, w_bm25, w_dense, c, k):
    weights = {"bm25": w_bm25, "dense": w_dense}
    fused = rrf(rankings, k=k, weights=weights)
    scaled = rrf(rankings, k=k, weights={n: c * w for n, w in weights.items()})
    assert set(scaled) == set(fused)
    for item, score in fused.items():
        assert scaled[item] == pytest.approx(c * score, rel=1e-9)
    for a in fused:  # every pair not within rounding of a tie keeps its order
        for b in fused:
            if fused[a] > fused[b] * (1 + 1e-9):
                assert scaled[a] > scaled[b]
    exact = rrf(rankings, k=k, weights={n: 4.0 * w for n, w in weights.items()})
    assert _order(exact) == _order(fused)  # a power of two scales every float exactly


def _hits(ids):
    return Hits(np.array(ids), np.linspace(1.0, 0.1, len(ids)))


def test_fuse_applies_the_configured_rrf_weights():
    passage_article = np.arange(70)
    hits = {name: _hits(ids) for name, ids in TWO_STAGES.items()}
    plain = fuse(hits, passage_article, SearchConfig())
    assert plain.passages == rrf(TWO_STAGES, k=60)
    bm25_only = fuse(hits, passage_article, SearchConfig(rrf_weights=(1.0, 0.0)))
    assert [a.article for a in bm25_only.articles] == TWO_STAGES["bm25"]
    tilted = fuse(hits, passage_article, SearchConfig(rrf_weights=(3.0, 1.0), rrf_k=1))
    assert tilted.passages == rrf(TWO_STAGES, k=1, weights={"bm25": 3.0, "dense": 1.0})


def test_search_config_rrf_weights_default_and_coercion():
    assert SearchConfig().rrf_weights == (1.0, 1.0)
    assert SearchConfig(rrf_weights=[2, 1]).rrf_weights == (2.0, 1.0)
    assert SearchConfig(stages=("bm25",), rrf_weights=(1.0, 0.0)).rrf_weights == (1.0, 0.0)
    # linear fusion does not use them: a zero for the only stage is no error there
    assert SearchConfig(stages=("dense",), fusion="linear", rrf_weights=(1.0, 0.0))


@pytest.mark.parametrize(
    "weights, message",
    [
        ((-0.5, 1.0), r"rrf_weights=\(-0.5, 1.0\): a weight is negative"),
        ((1.0, math.nan), r"rrf_weights=\(1.0, nan\): a weight is negative or not finite"),
        ((0, 0), r"rrf_weights=\(0, 0\): at least one weight must be positive"),
        ((1.0,), r"rrf_weights=\(1.0,\) has 1 values"),
        (("a", 1), r"rrf_weights=\('a', 1\) must be numbers"),
    ],
)
def test_search_config_rejects_bad_rrf_weights(weights, message):
    with pytest.raises(ValueError, match=message) as info:
        SearchConfig(rrf_weights=weights)
    assert "give two weights >= 0 (bm25, dense)" in str(info.value)  # the fix


def test_search_config_rejects_zero_weight_on_every_stage_in_use():
    with pytest.raises(ValueError, match=r"weights every stage of stages=\('dense',\) 0"):
        SearchConfig(stages=("dense",), rrf_weights=(1.0, 0.0))
