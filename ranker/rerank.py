"""The rerank stage: the cross-encoder rescores the best fused articles.

Depth counts *articles*: the top ``depth`` articles of the fused ranking are scored,
one (query, "title. best passage") pair each, so a page of ``k <= depth`` results is
reranked through and through. The search asks for at least one page
(``max(rerank_depth, k)``).

The reranked articles are ordered by a weighted sum of their min-max-scaled scores
(``HeadsConfig.rerank_mix``: cross-encoder, fused, bm25, dense; constant scores scale to
1, :func:`ranker.fuse.minmax`), each scaled over the reranked articles; an article a
retriever did not return counts as that retriever's lowest among them. The cross-encoder
alone, ``(1, 0, 0, 0)``, keeps its raw scores. Mixing in the retrievers' own scores keeps
what plain RRF throws away, how far ahead BM25's or the dense retriever's best article
is (docs/results_notes.md). Articles past the depth keep their fused order and score,
after the reranked ones.

>>> from ranker.ranking import ArticleScore
>>> fused = [ArticleScore(0, 0.9, 7), ArticleScore(1, 0.5, 1), ArticleScore(2, 0.2, 4)]
>>> ce_only = (1.0, 0.0, 0.0, 0.0)
>>> [(a.article, a.score) for a in rerank_articles(fused, {0: -1.0, 1: 3.0}, ce_only)]
[(1, 3.0), (0, -1.0), (2, 0.2)]
>>> [(a.article, a.score) for a in rerank_articles(fused, {0: -1.0, 1: 3.0}, (0.25, 0.75, 0, 0))]
[(0, 0.75), (1, 0.25), (2, 0.2)]
>>> bm25 = {0: 2.0, 1: 9.0}  # BM25 is sure of article 1
>>> [a.article for a in rerank_articles(fused, {0: 1.0, 1: 0.0}, (0.4, 0, 0.6, 0), {"bm25": bm25})]
[1, 0, 2]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from indexer.passages import rerank_text
from indexer.store import ArticleStore
from newsrank.config import RERANK_MIX_SCORES, HeadsConfig, check_rerank_mix
from newsrank.protocols import PairScorer
from ranker.fuse import minmax
from ranker.ranking import ArticleScore, Ranking, StageScore


def stage_values(
    articles: Sequence[ArticleScore], scores: Mapping[int, float] | None
) -> np.ndarray:
    """One retriever's score of each article; one it did not return gets the lowest of
    the others (0 when it returned none of them).

    >>> a = [ArticleScore(n, 0.0, n) for n in range(3)]
    >>> stage_values(a, {0: 2.0, 2: 5.0}).tolist(), stage_values(a, None).tolist()
    ([2.0, 2.0, 5.0], [0.0, 0.0, 0.0])
    """
    scores = scores or {}
    got = [scores.get(a.article) for a in articles]
    low = min((v for v in got if v is not None), default=0.0)
    return np.array([low if v is None else v for v in got], dtype=np.float64)


def rerank_articles(
    fused_articles: Sequence[ArticleScore],
    rerank_scores: Mapping[int, float],
    mix: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
    stage_scores: Mapping[str, Mapping[int, float]] | None = None,
) -> list[ArticleScore]:
    """Articles with a rerank score first, ordered by ``mix`` (see the module docstring)
    over their scores: the cross-encoder's, their fused score, and ``stage_scores``
    (retriever name -> article -> score); the rest keep their fused order and score."""
    mix = check_rerank_mix(mix)
    reranked = [a for a in fused_articles if a.article in rerank_scores]
    if not reranked:
        return list(fused_articles)
    raw = np.array([rerank_scores[a.article] for a in reranked], dtype=np.float64)

    def values(name: str) -> np.ndarray:
        if name == "rerank":
            return raw
        if name == "fused":
            return np.array([a.score for a in reranked], dtype=np.float64)
        return stage_values(reranked, (stage_scores or {}).get(name))

    # the cross-encoder alone keeps its raw scores (scaling could merge near-equal ones)
    if mix[1:] == (0.0, 0.0, 0.0):
        mixed = raw
    else:
        total = sum(mix)
        mixed = sum(
            (w / total) * minmax(values(name)) for name, w in zip(RERANK_MIX_SCORES, mix) if w
        )
    scored = [
        ArticleScore(a.article, float(mixed[i]), a.best_passage) for i, a in enumerate(reranked)
    ]
    order = sorted(range(len(scored)), key=lambda i: (-scored[i].score, scored[i].article))
    return [scored[i] for i in order] + [
        a for a in fused_articles if a.article not in rerank_scores
    ]


class RerankStage:
    """Scores the top ``depth`` articles' best passages with a cross-encoder."""

    def __init__(
        self,
        scorer: PairScorer,
        store: ArticleStore,
        *,
        mix: Sequence[float] = HeadsConfig.rerank_mix,
    ) -> None:
        self.scorer, self.store, self.mix = scorer, store, check_rerank_mix(mix)

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
        retrievers = {}  # each retriever's scores of the reranked articles, all the mix reads
        for name in RERANK_MIX_SCORES[2:]:
            got = ranking.stages.get(name, {})
            retrievers[name] = {a.article: got[a.article].score for a in top if a.article in got}
        articles = rerank_articles(ranking.articles, by_article, self.mix, retrievers)
        stage = {
            a.article: StageScore(r, by_article[a.article])
            for r, a in enumerate(articles[: len(top)], 1)
        }
        return ranking.reordered(articles, "rerank", stage)
