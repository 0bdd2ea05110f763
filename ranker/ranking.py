"""The typed values passed between the search stages.

retrieve -> ``dict[str, Hits]`` (passages per retriever) -> fuse -> :class:`Ranking`
(articles, best first, with every stage's rank and score) -> rerank -> :class:`Ranking`
-> read, facets, render.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StageScore:
    """Where one stage put an item: 1-based rank and the stage's own score."""

    rank: int
    score: float


@dataclass(frozen=True)
class ArticleScore:
    """An article (its row number in the store), its score, and its best passage."""

    article: int
    score: float
    best_passage: int


@dataclass(frozen=True)
class Ranking:
    """Matching articles in result order, and what each stage made of them.

    ``stages[name][article]`` is that stage's :class:`StageScore` for the article
    (``bm25``, ``dense``, ``fused``, ``rerank``); ``passages`` are the fused passage
    scores the articles were aggregated from.
    """

    articles: list[ArticleScore]
    stages: dict[str, dict[int, StageScore]] = field(default_factory=dict)
    passages: dict[int, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.articles)

    def reordered(self, articles: list[ArticleScore], stage: str, scores: dict) -> Ranking:
        """A new ranking in the order of ``articles``, with one more stage's scores."""
        return dataclasses.replace(self, articles=articles, stages={**self.stages, stage: scores})
