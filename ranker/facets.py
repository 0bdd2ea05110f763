"""The facets stage: counts of topic, source, entity and month over every matching article.

Counted over the whole ranking, not one page, so the numbers beside a facet say how
many results a click on it keeps.
"""

from __future__ import annotations

from indexer.store import ArticleStore
from ranker.ranking import Ranking


def facet_counts(store: ArticleStore, ranking: Ranking) -> dict[str, dict[str, int]]:
    """``{"topic": {label: n}, "source": {...}, "entity": {"TYPE=text": n},
    "date": {"YYYY-MM": n}}`` (months oldest first; undated articles are in no month)."""
    nums = [a.article for a in ranking.articles]
    return {**store.facet_counts(nums), "date": store.month_counts(nums)}
