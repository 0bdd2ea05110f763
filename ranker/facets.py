"""The facets stage: counts of topic, source and entity over every matching article.

Counted over the whole ranking, not one page, so the numbers beside a facet say how
many results a click on it keeps.
"""

from __future__ import annotations

from indexer.store import ArticleStore
from ranker.ranking import Ranking


def facet_counts(store: ArticleStore, ranking: Ranking) -> dict[str, dict[str, int]]:
    """``{"topic": {label: n}, "source": {...}, "entity": {"TYPE=text": n}}``."""
    return store.facet_counts([a.article for a in ranking.articles])
