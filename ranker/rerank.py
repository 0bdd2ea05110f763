"""The rerank stage: the cross-encoder rescores the best fused articles.

Depth counts *articles*: the top ``depth`` articles of the fused ranking are scored,
one (query, "title. best passage") pair each, so a page of ``k <= depth`` results is
reranked through and through. The search asks for at least one page
(``max(rerank_depth, k)``).

With ``weight=1`` the reranked articles are ordered by the cross-encoder alone. A
smaller weight interpolates, over the reranked articles:
``weight * minmax(rerank) + (1 - weight) * minmax(fused)`` (constant scores scale to
1, :func:`ranker.fuse.minmax`); the shipped reranker is only better than the fused
order when mixed this way (docs/heads.md). Articles past the depth keep their fused
order and score, after the reranked ones.

>>> from ranker.ranking import ArticleScore
>>> fused = [ArticleScore(0, 0.9, 7), ArticleScore(1, 0.5, 1), ArticleScore(2, 0.2, 4)]
>>> [(a.article, a.score) for a in rerank_articles(fused, {0: -1.0, 1: 3.0})]
[(1, 3.0), (0, -1.0), (2, 0.2)]
>>> [(a.article, a.score) for a in rerank_articles(fused, {0: -1.0, 1: 3.0}, 0.25)]
[(0, 0.75), (1, 0.25), (2, 0.2)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from indexer.passages import rerank_text
from indexer.store import ArticleStore
from newsrank.protocols import PairScorer
from ranker.fuse import minmax
from ranker.ranking import ArticleScore, Ranking, StageScore


def rerank_articles(
    fused_articles: Sequence[ArticleScore],
    rerank_scores: Mapping[int, float],
    weight: float = 1.0,
) -> list[ArticleScore]:
    """Articles with a rerank score first, by that score (or its mix with the fused
    score, see the module docstring); the rest keep their fused order and score."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight={weight} must be between 0 (fused only) and 1 (rerank only)")
    reranked = [a for a in fused_articles if a.article in rerank_scores]
    if not reranked:
        return list(fused_articles)
    ce = minmax([rerank_scores[a.article] for a in reranked])
    mixed = (
        ce if weight == 1.0 else weight * ce + (1 - weight) * minmax([a.score for a in reranked])
    )
    raw = [float(rerank_scores[a.article]) for a in reranked]
    scored = [
        ArticleScore(a.article, raw[i] if weight == 1.0 else float(mixed[i]), a.best_passage)
        for i, a in enumerate(reranked)
    ]
    order = sorted(range(len(scored)), key=lambda i: (-float(mixed[i]), scored[i].article))
    return [scored[i] for i in order] + [
        a for a in fused_articles if a.article not in rerank_scores
    ]


class RerankStage:
    """Scores the top ``depth`` articles' best passages with a cross-encoder."""

    def __init__(self, scorer: PairScorer, store: ArticleStore, *, weight: float = 0.2) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"rerank weight={weight} must be between 0 and 1")
        self.scorer, self.store, self.weight = scorer, store, weight

    def pairs(self, query: str, articles: Sequence[ArticleScore]) -> list[tuple[str, str]]:
        """``(query, "title. best passage")`` of each article, one store query for all."""
        stored = self.store.articles([a.article for a in articles])
        out = []
        for a in articles:
            start, end = self.store.passage_span(a.best_passage)
            doc = stored[a.article]
            out.append((query, rerank_text(doc.title, doc.text[start:end])))
        return out

    def run(self, query: str, ranking: Ranking, depth: int) -> Ranking:
        """``ranking`` with its first ``depth`` articles reranked, and a ``rerank`` stage:
        each reranked article's rank in the new order and its cross-encoder score."""
        top = ranking.articles[:depth]
        if not top:
            return ranking
        scores = [float(s) for s in self.scorer.predict(self.pairs(query, top))]
        by_article = {a.article: s for a, s in zip(top, scores)}
        articles = rerank_articles(ranking.articles, by_article, self.weight)
        stage = {
            a.article: StageScore(r, by_article[a.article])
            for r, a in enumerate(articles[: len(top)], 1)
        }
        return ranking.reordered(articles, "rerank", stage)
