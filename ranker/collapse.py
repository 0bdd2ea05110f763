"""The collapse stage: one entry per story.

Near-duplicate articles (a wire copy re-published by several outlets, a story re-run
with a new headline; :mod:`indexer.duplicates`) collapse into the best-ranked of them,
which lists the others it stands for. Only the matching articles collapse (those in
the ranking, so filters still apply to the versions listed), and the kept article
keeps its place, scores and stage ranks. It runs after ranking (rerank, freshness) and
before the reader, the facets and the page, so the reader reads distinct stories, and
``total``, facet counts and pages count stories, as a news site does.

>>> import numpy as np
>>> from indexer.duplicates import DuplicateGroups
>>> groups = DuplicateGroups.of(np.array([-1, 1, -1, 1]))
>>> ranking = Ranking([ArticleScore(3, 0.9, 30), ArticleScore(0, 0.8, 0), ArticleScore(1, 0.7, 10)])
>>> out = collapse(ranking, groups)
>>> [a.article for a in out.ranking.articles], out.duplicates
([3, 0], {3: [1]})
"""  # noqa: E501

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from indexer.duplicates import DuplicateGroups
from ranker.ranking import ArticleScore, Ranking


@dataclass(frozen=True)
class Collapsed:
    """A ranking with one article per story, and the articles each kept one stands for
    (article numbers, in their ranking order)."""

    ranking: Ranking
    duplicates: dict[int, list[int]] = field(default_factory=dict)


def collapse(ranking: Ranking, groups: DuplicateGroups) -> Collapsed:
    """Keep the first (best-ranked) article of each duplicate group in ``ranking``; the
    group's other matching articles are listed under the kept one."""
    if not groups.n_groups or not ranking.articles:
        return Collapsed(ranking)
    kept: list[ArticleScore] = []
    first_of: dict[int, int] = {}  # group -> the article kept for it
    duplicates: dict[int, list[int]] = {}
    for scored in ranking.articles:
        group = groups.group_of(scored.article)
        if group < 0:
            kept.append(scored)
        elif group in first_of:
            duplicates.setdefault(first_of[group], []).append(scored.article)
        else:
            first_of[group] = scored.article
            kept.append(scored)
    if not duplicates:
        return Collapsed(ranking)
    return Collapsed(dataclasses.replace(ranking, articles=kept), duplicates)
