"""Related stories: the articles nearest to one article by its own passage vectors.

Each of the article's passage vectors (read back from its segment's FAISS index) is
searched in the commit's dense index with the article itself and its near-duplicates
masked out; an article's score is its best passage match (max cosine), and the list
keeps one article per story (the best of each duplicate group). Deleted articles are
never found: the dense view searches live passages only. The search is asked for more
passages (doubling) until it has ``k`` stories or has seen every live passage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.reader import IndexReader

#: related stories shown for an article
RELATED_K = 6


@dataclass(frozen=True)
class RelatedStory:
    """One related article: its id, title, source, date and similarity (cosine)."""

    id: str
    title: str
    source: str | None
    date: str | None
    score: float

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "date": self.date,
            "score": self.score,
        }


def nearest_articles(
    index: IndexReader, num: int, k: int = RELATED_K, *, min_depth: int = 64
) -> list[tuple[int, float]]:
    """``(article number, score)`` of the ``k`` stories nearest to article ``num``, best
    first: never ``num`` itself, none of its duplicates, one article per other story."""
    store, dense = index.store, index.dense
    pids = np.flatnonzero(store.passage_article == num)
    if not len(pids) or k <= 0:
        return []
    groups = index.duplicates(wait=False)
    excluded = np.asarray(groups.group(num), dtype=np.int64)
    mask = ~np.isin(store.passage_article, excluded)
    available = int((mask & store.passage_live).sum())
    if not available:
        return []
    vectors = dense.vectors_of(pids)
    depth = min(available, max(min_depth, 4 * k))
    while True:
        best: dict[int, float] = {}
        for vector in vectors:
            hits = dense.search(vector, depth, mask)
            for pid, score in zip(hits.ids, hits.scores):
                article = int(store.passage_article[pid])
                if score > best.get(article, -np.inf):
                    best[article] = float(score)
        stories: list[tuple[int, float]] = []
        seen: set[int] = set()
        for article, score in sorted(best.items(), key=lambda kv: (-kv[1], kv[0])):
            group = groups.group_of(article)
            if group >= 0 and group in seen:
                continue  # another version of a story already listed
            seen.add(group)
            stories.append((article, score))
        if len(stories) >= k or depth >= available:
            return stories[:k]
        depth = min(available, depth * 2)


def related_stories(index: IndexReader, num: int, k: int = RELATED_K) -> list[RelatedStory]:
    """The stories related to article ``num`` (see :func:`nearest_articles`)."""
    nearest = nearest_articles(index, num, k)
    articles = index.store.articles([n for n, _ in nearest])
    return [
        RelatedStory(
            articles[n].id, articles[n].title, articles[n].source, articles[n].date, round(s, 4)
        )
        for n, s in nearest
    ]
