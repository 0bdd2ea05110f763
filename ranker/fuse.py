"""Rank fusion, and aggregation of passage scores to articles (the fuse stage).

Reciprocal-rank fusion (Cormack et al. 2009): score(p) = sum over stages of
1 / (k + rank_stage(p)), ranks starting at 1; a passage a stage did not return adds
nothing. With k = 60:

>>> fused = rrf({"bm25": [7, 3], "dense": [3, 9]}, k=60)
>>> round(fused[3], 5), round(fused[7], 5), round(fused[9], 5)
(0.03252, 0.01639, 0.01613)

Weighted RRF multiplies each stage's terms by its weight, score(p) = sum over stages of
w_stage / (k + rank_stage(p)) (``SearchConfig.rrf_weights``; equal weights are plain
RRF). Each stage's first passage ties under plain RRF; weighting BM25 twice puts its
first passage ahead of the dense one's:

>>> plain = rrf({"bm25": [7, 3], "dense": [9, 3]}, k=60)
>>> plain[7] == plain[9]
True
>>> fused = rrf({"bm25": [7, 3], "dense": [9, 3]}, k=60, weights={"bm25": 2.0, "dense": 1.0})
>>> sorted(fused, key=fused.get, reverse=True)
[3, 7, 9]

A stage weighted 0 contributes nothing, not even its candidates:

>>> rrf({"bm25": [7, 3], "dense": [3, 9]}, k=60, weights={"bm25": 1.0, "dense": 0.0}) == (
...     rrf({"bm25": [7, 3]}, k=60))
True

Weighted linear fusion min-max scales each stage's scores to [0, 1] first:

>>> linear({"bm25": ([1, 2], [10.0, 5.0]), "dense": ([2], [0.9])}, {"bm25": 0.5, "dense": 0.5})
{1: 0.5, 2: 0.5}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from indexer.hits import Hits
from newsrank.config import SearchConfig
from ranker.ranking import ArticleScore, Ranking, StageScore


def rrf(
    rankings: Mapping[str, Sequence[int]],
    k: int = 60,
    weights: Mapping[str, float] | None = None,
) -> dict[int, float]:
    """(Weighted) reciprocal-rank fusion of ranked id lists (best first).

    ``weights``: stage name -> non-negative weight (None: every stage 1, plain RRF); a
    stage weighted 0 is left out entirely.
    """
    if k < 1:
        raise ValueError(f"k={k}: the RRF constant must be a positive integer (60 is standard)")
    fused: dict[int, float] = {}
    for name, ids in rankings.items():
        weight = 1.0 if weights is None else weights.get(name)
        if weight is None:
            raise ValueError(
                f"no RRF weight for stage {name!r}; give one for each of {sorted(rankings)}"
            )
        if weight < 0:
            raise ValueError(f"RRF weight {weight} for stage {name!r} must be >= 0")
        if weight == 0:
            continue
        for rank, item in enumerate(ids, start=1):
            fused[int(item)] = fused.get(int(item), 0.0) + weight / (k + rank)
    return fused


def minmax(scores: Sequence[float]) -> np.ndarray:
    """Scale to [0, 1]; a constant list scales to all ones.

    >>> minmax([2.0, 4.0, 3.0]).tolist()
    [0.0, 1.0, 0.5]
    """
    values = np.asarray(scores, dtype=np.float64)
    if len(values) == 0:
        return values
    span = values.max() - values.min()
    return np.ones_like(values) if span == 0 else (values - values.min()) / span


def linear(
    stages: Mapping[str, tuple[Sequence[int], Sequence[float]]], weights: Mapping[str, float]
) -> dict[int, float]:
    """Weighted sum of min-max scaled stage scores; missing from a stage counts 0."""
    fused: dict[int, float] = {}
    for name, (ids, scores) in stages.items():
        weight = weights.get(name)
        if weight is None:
            raise ValueError(f"no weight for stage {name!r}; give one for each of {sorted(stages)}")
        for item, scaled in zip(ids, minmax(scores)):
            fused[int(item)] = fused.get(int(item), 0.0) + weight * float(scaled)
    return fused


def stage_scores(ids: Sequence[int], scores: Sequence[float]) -> dict[int, StageScore]:
    """One stage's ranked list as id -> (rank, score)."""
    return {int(i): StageScore(rank, float(s)) for rank, (i, s) in enumerate(zip(ids, scores), 1)}


def aggregate(
    passage_scores: Mapping[int, float], passage_article: np.ndarray
) -> list[ArticleScore]:
    """Article score = its best passage's score; best first (ties: lower article row first).

    >>> [(a.article, a.score, a.best_passage)
    ...  for a in aggregate({0: 0.2, 1: 0.9, 2: 0.5}, np.array([0, 0, 1]))]
    [(0, 0.9, 1), (1, 0.5, 2)]
    """
    best: dict[int, ArticleScore] = {}
    for pid, score in passage_scores.items():
        article = int(passage_article[pid])
        current = best.get(article)
        if current is None or score > current.score:
            best[article] = ArticleScore(article, float(score), int(pid))
    return sorted(best.values(), key=lambda a: (-a.score, a.article))


def article_stage_scores(
    ids: Sequence[int], scores: Sequence[float], passage_article: np.ndarray
) -> dict[int, StageScore]:
    """A stage's passage ranking seen per article: rank among articles, best passage's score.

    >>> got = article_stage_scores([5, 4, 6], [3.0, 2.0, 1.0], np.array([0, 0, 0, 0, 1, 0, 2]))
    >>> {article: (s.rank, s.score) for article, s in got.items()}
    {0: (1, 3.0), 1: (2, 2.0), 2: (3, 1.0)}
    """
    out: dict[int, StageScore] = {}
    for pid, score in zip(ids, scores):
        article = int(passage_article[pid])
        if article not in out:
            out[article] = StageScore(len(out) + 1, float(score))
    return out


def fuse(hits: Mapping[str, Hits], passage_article: np.ndarray, config: SearchConfig) -> Ranking:
    """The fuse stage: the retrievers' passage lists -> articles by fused score, with
    each retriever's article-level rank and score kept under its name and ``fused``."""
    if config.fusion == "linear":
        weights = dict(zip(("bm25", "dense"), config.linear_weights))
        passages = linear({n: (h.ids, h.scores) for n, h in hits.items()}, weights)
    else:
        weights = dict(zip(("bm25", "dense"), config.rrf_weights))
        passages = rrf({n: h.ids for n, h in hits.items()}, k=config.rrf_k, weights=weights)
    articles = aggregate(passages, passage_article)
    stages = {
        name: article_stage_scores(h.ids, h.scores, passage_article) for name, h in hits.items()
    }
    stages["fused"] = {a.article: StageScore(r, a.score) for r, a in enumerate(articles, 1)}
    return Ranking(articles, stages, passages)
