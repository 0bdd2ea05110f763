"""The order steps after rerank: the freshness boost and newest-first ordering (pure).

Freshness (``recency=H``, a half-life in days; off by default): each article's score
is multiplied by ``0.5 ** (age_days / H)``, its age counted back from the newest
article *in the index* (not today: the demo news is from 2004-05 and 2016-17); an
undated article gets the factor of the oldest. A negative score (the cross-encoder
alone, ``rerank_mix=(1, 0, 0, 0)``) is multiplied by ``2 - factor`` instead, so that older
always means lower. Reranked articles stay ahead of the merely fused ones (their
scores are on another scale): each group is re-sorted by its boosted scores.

>>> decay("2017-01-01", newest="2017-01-31", oldest="2016-01-31", half_life=30)
0.5
>>> decay(None, newest="2017-01-31", oldest="2016-12-02", half_life=30)
0.25

Newest first, the undated last, ties (same date) in relevance order:

>>> from ranker.ranking import ArticleScore
>>> arts = [ArticleScore(n, 1.0 - n / 10, n) for n in range(4)]
>>> dates = {0: "2016-05-01", 1: None, 2: "2017-02-03", 3: "2016-05-01"}
>>> [a.article for a in order_by_date(arts, dates)]
[2, 0, 3, 1]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from ranker.ranking import ArticleScore


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


def decay(day: str | None, *, newest: str, oldest: str, half_life: float) -> float:
    """``0.5 ** (age_days / half_life)``, the age of ``day`` (or of ``oldest`` when the
    article has no date) counted from ``newest``; never above 1."""
    if half_life <= 0:
        raise ValueError(f"half_life={half_life}: give a positive number of days")
    age = max((_day(newest) - _day(day or oldest)).days, 0)
    return 0.5 ** (age / half_life)


def boosted(score: float, factor: float) -> float:
    """``score * factor``; a negative score ``* (2 - factor)``, so older is always lower.

    >>> boosted(0.8, 0.5), boosted(-2.0, 0.5)
    (0.4, -3.0)
    """
    return score * factor if score >= 0 else score * (2.0 - factor)


def recency_boost(
    articles: Sequence[ArticleScore],
    dates: Mapping[int, str | None],
    *,
    newest: str,
    oldest: str,
    half_life: float,
    head: int = 0,
) -> list[ArticleScore]:
    """Articles with boosted scores, best first; the first ``head`` (the reranked ones)
    and the rest are re-sorted each on their own (ties keep their order).

    >>> arts = [ArticleScore(0, 0.9, 0), ArticleScore(1, 0.8, 1), ArticleScore(2, 0.5, 2)]
    >>> dates = {0: "2016-01-01", 1: "2017-01-01", 2: "2017-01-01"}
    >>> out = recency_boost(arts, dates, newest="2017-01-01", oldest="2016-01-01",
    ...                     half_life=366, head=2)
    >>> [(a.article, round(a.score, 2)) for a in out]
    [(1, 0.8), (0, 0.45), (2, 0.5)]
    """

    def rescore(group: Sequence[ArticleScore]) -> list[ArticleScore]:
        scored = [
            ArticleScore(
                a.article,
                boosted(
                    a.score,
                    decay(dates.get(a.article), newest=newest, oldest=oldest, half_life=half_life),
                ),
                a.best_passage,
            )
            for a in group
        ]
        return sorted(scored, key=lambda a: -a.score)  # stable: ties keep their order

    head = max(0, min(head, len(articles)))
    return rescore(articles[:head]) + rescore(articles[head:])


def order_by_date(
    articles: Sequence[ArticleScore], dates: Mapping[int, str | None]
) -> list[ArticleScore]:
    """Newest first; articles without a date last; ties keep their (relevance) order."""
    dated = [a for a in articles if dates.get(a.article)]
    undated = [a for a in articles if not dates.get(a.article)]
    # sorted() is stable with reverse=True too: equal dates keep the relevance order
    return sorted(dated, key=lambda a: str(dates[a.article])[:10], reverse=True) + undated
