import numpy as np
import pytest

from ranker.fuse import StageScore, aggregate, article_stage_scores, linear, minmax, rrf


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
