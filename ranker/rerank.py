"""Reranking with the cross-encoder: which passages to score, and the new article order.

Pure functions; the cross-encoder itself is any object with
``predict(pairs) -> scores`` (``ranker.heads.cross_encoder.CrossEncoder``).

With ``weight=1`` the reranked articles are ordered by their best passage's
cross-encoder score alone. A smaller weight interpolates, over the reranked
articles: ``weight * minmax(rerank) + (1 - weight) * minmax(fused)``; the shipped
reranker is only better than the fused order when mixed this way (docs/heads.md).

>>> top_passages({4: 0.2, 7: 0.9, 1: 0.5}, depth=2)
[7, 1]
>>> from ranker.fuse import ArticleScore
>>> fused = [ArticleScore(0, 0.9, 7), ArticleScore(1, 0.5, 1), ArticleScore(2, 0.2, 4)]
>>> owner = [0, 1, 0, 0, 2, 0, 0, 0]  # passage id -> article
>>> [(a.article, a.score) for a in rerank_articles(fused, {7: -1.0, 1: 3.0}, owner)]
[(1, 3.0), (0, -1.0), (2, 0.2)]
>>> [(a.article, a.score) for a in rerank_articles(fused, {7: -1.0, 1: 3.0}, owner, 0.25)]
[(0, 0.75), (1, 0.25), (2, 0.2)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ranker.fuse import ArticleScore, aggregate, minmax


def top_passages(fused: Mapping[int, float], depth: int) -> list[int]:
    """The ``depth`` best passages by fused score (ties: lower id first)."""
    return sorted(fused, key=lambda pid: (-fused[pid], pid))[:depth]


def rerank_articles(
    fused_articles: Sequence[ArticleScore],
    rerank_scores: Mapping[int, float],
    passage_article: Sequence[int],
    weight: float = 1.0,
) -> list[ArticleScore]:
    """Articles with a reranked passage first, by rerank score (or its mix with the
    fused score, see the module docstring); the rest keep their fused order and score."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight={weight} must be between 0 (fused only) and 1 (rerank only)")
    reranked = aggregate(rerank_scores, passage_article)
    if weight < 1.0 and reranked:
        fused = {a.article: a.score for a in fused_articles}
        mixed = weight * minmax([a.score for a in reranked]) + (1 - weight) * minmax(
            [fused.get(a.article, 0.0) for a in reranked]
        )
        reranked = sorted(
            (ArticleScore(a.article, float(m), a.best_passage) for a, m in zip(reranked, mixed)),
            key=lambda a: (-a.score, a.article),
        )
    seen = {a.article for a in reranked}
    return reranked + [a for a in fused_articles if a.article not in seen]
