"""Reranking with the cross-encoder: which passages to score, and the new article order.

Pure functions; the cross-encoder itself is any object with
``predict(pairs) -> scores`` (``ranker.heads.cross_encoder.CrossEncoder``).

>>> top_passages({4: 0.2, 7: 0.9, 1: 0.5}, depth=2)
[7, 1]
>>> from ranker.fuse import ArticleScore
>>> fused = [ArticleScore(0, 0.9, 7), ArticleScore(1, 0.5, 1), ArticleScore(2, 0.2, 4)]
>>> owner = [0, 1, 0, 0, 2, 0, 0, 0]  # passage id -> article
>>> [(a.article, a.score) for a in rerank_articles(fused, {7: -1.0, 1: 3.0}, owner)]
[(1, 3.0), (0, -1.0), (2, 0.2)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ranker.fuse import ArticleScore, aggregate


def top_passages(fused: Mapping[int, float], depth: int) -> list[int]:
    """The ``depth`` best passages by fused score (ties: lower id first)."""
    return sorted(fused, key=lambda pid: (-fused[pid], pid))[:depth]


def rerank_articles(
    fused_articles: Sequence[ArticleScore],
    rerank_scores: Mapping[int, float],
    passage_article: Sequence[int],
) -> list[ArticleScore]:
    """Articles with a reranked passage first, by their best rerank score; the rest
    keep their fused order (and fused score) after them."""
    reranked = aggregate(rerank_scores, passage_article)
    seen = {a.article for a in reranked}
    return reranked + [a for a in fused_articles if a.article not in seen]
