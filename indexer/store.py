"""The articles of one commit: the segments' stores seen as one, deleted articles left out.

A commit (:mod:`indexer.manifest`) names its segments in order; each has its own
immutable SQLite store (:mod:`indexer.segment_store`) and the rows its deletion marker
removes. Here they get commit-wide numbers: article ``n`` of segment ``i`` is
``article_base[i] + n``, passage ``p`` is ``passage_base[i] + p``. Those numbers are
valid for this commit only (a search keeps the store it started with); article ids
are the stable names. Every count, facet and lookup here skips deleted articles, so a
deleted or replaced article is gone from everything as soon as its commit is open.

>>> import tempfile, pathlib
>>> from indexer.article import Article
>>> from indexer.segment_store import write_store
>>> path = pathlib.Path(tempfile.mkdtemp()) / "store.sqlite"
>>> write_store(path, [Article("a", "T", "one two"), Article("b", "U", "three")],
...             [[(0, 7)], [(0, 5)]])
(2, 2)
>>> store = ArticleStore([StorePart("s0", SegmentStore(path), deleted=[0])])
>>> store.num_of("a"), store.num_of("b"), store.n_live
(None, 1, 1)
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.entity_names import EntityGroups, merge_entities
from indexer.entity_names import label as entity_label
from indexer.segment_store import EntityFilter, SegmentStore, StoredArticle
from newsrank.types import ArticleLabels


@dataclass(frozen=True)
class StorePart:
    """One segment of a commit: its name, its store and its deleted article rows."""

    name: str
    store: SegmentStore
    deleted: Sequence[int] = field(default_factory=tuple)


class ArticleStore:
    """Read access to the articles of one commit (thread-safe, commit-wide numbers)."""

    def __init__(self, parts: Sequence[StorePart], labelled: bool | None = None) -> None:
        self.parts = list(parts)
        sizes = [p.store.n_articles for p in self.parts]
        passages = [p.store.n_passages for p in self.parts]
        #: first commit-wide article / passage number of each segment
        self.article_base = np.cumsum([0, *sizes])[:-1].astype(np.int64)
        self.passage_base = np.cumsum([0, *passages])[:-1].astype(np.int64)
        self.n_articles = int(sum(sizes))
        #: live[n]: article n is not deleted
        self.live = np.ones(self.n_articles, dtype=bool)
        for base, part in zip(self.article_base, self.parts):
            self.live[base + np.asarray(part.deleted, dtype=np.int64)] = False
        #: passage id -> article number
        self.passage_article: np.ndarray = (
            np.concatenate(
                [p.store.passage_article + b for p, b in zip(self.parts, self.article_base)]
            )
            if self.parts
            else np.zeros(0, dtype=np.int64)
        )
        self._spans = (
            np.concatenate([p.store.passage_spans for p in self.parts])
            if self.parts
            else np.zeros((0, 2), dtype=np.int64)
        )
        #: passage_live[p]: passage p belongs to a live article
        self.passage_live: np.ndarray = self.live[self.passage_article]
        #: False when nothing is labelled: label filters match nothing
        self.has_labels = (
            any(p.store.labelled for p in self.parts) if labelled is None else labelled
        )
        self._groups: EntityGroups | None = None  # entity_groups(), read on first use
        self._groups_lock = threading.Lock()

    @classmethod
    def open(cls, path: str | Path) -> ArticleStore:
        """The store of a single segment file, nothing deleted (tools and tests)."""
        return cls([StorePart(Path(path).parent.name, SegmentStore(Path(path)))])

    @property
    def n_passages(self) -> int:
        return len(self.passage_article)

    @property
    def n_live(self) -> int:
        """Articles not deleted."""
        return int(self.live.sum())

    # -- number translation

    def _split(self, nums: Sequence[int]) -> Iterator[tuple[StorePart, int, list[int]]]:
        """``(part, base, local rows)`` for the parts the article numbers fall in."""
        nums = np.asarray([int(n) for n in nums], dtype=np.int64)
        if not len(nums) or not self.parts:
            return
        which = np.searchsorted(self.article_base, nums, side="right") - 1
        for i in np.unique(which):
            base = int(self.article_base[i])
            yield self.parts[i], base, [int(n) - base for n in nums[which == i]]

    def _mapped(self, method: str, nums: Sequence[int], *args: object) -> dict[int, object]:
        out: dict[int, object] = {}
        for part, base, local in self._split(nums):
            found = getattr(part.store, method)(*args, local)
            out.update({base + n: v for n, v in found.items()})
        return out

    # -- lookups by article number (callers pass live numbers: they come from a search)

    def articles(self, nums: Sequence[int]) -> dict[int, StoredArticle]:
        """Fetch articles by number."""
        found = self._mapped("articles", nums)
        return {n: dataclasses.replace(a, num=n) for n, a in found.items()}  # type: ignore[type-var]

    def ids(self, nums: Sequence[int]) -> dict[int, str]:
        """Article ids by number (without fetching the texts)."""
        return self._mapped("column", nums, "id")  # type: ignore[return-value]

    def dates(self, nums: Sequence[int]) -> dict[int, str | None]:
        """Publication dates (``YYYY-MM-DD`` or None) by number."""
        return self._mapped("column", nums, "date")  # type: ignore[return-value]

    def digests(self, nums: Sequence[int]) -> dict[int, str]:
        """Text digests by number (the full-text cache's keys)."""
        return self._mapped("column", nums, "digest")  # type: ignore[return-value]

    def labels(self, nums: Sequence[int]) -> dict[int, ArticleLabels]:
        """Topic and entities of the given articles (empty labels when not enriched)."""
        return self._mapped("labels", nums)  # type: ignore[return-value]

    def num_of(self, article_id: str) -> int | None:
        """The number of the live article with this id, or None when there is none."""
        for base, part in zip(reversed(self.article_base), reversed(self.parts)):
            local = part.store.num_of(article_id)
            if local is not None and self.live[base + local]:
                return int(base + local)
        return None

    def held(self, article_ids: Sequence[str]) -> set[str]:
        """Which of ``article_ids`` are live articles of this commit."""
        out: set[str] = set()
        for base, part in zip(self.article_base, self.parts):
            for article_id, row in part.store.nums_of(article_ids).items():
                if self.live[base + row]:
                    out.add(article_id)
        return out

    def passage_span(self, pid: int) -> tuple[int, int]:
        start, end = self._spans[pid]
        return int(start), int(end)

    def passage_text(self, pid: int) -> str:
        start, end = self.passage_span(pid)
        num = int(self.passage_article[pid])
        return self.articles([num])[num].text[start:end]

    # -- filters

    def article_mask(
        self,
        sources: Sequence[str] = (),
        date_from: str | None = None,
        date_to: str | None = None,
        topics: Sequence[str] = (),
        entities: Sequence[tuple[str, str]] = (),
    ) -> np.ndarray | None:
        """Boolean mask over article numbers matching the filters (deleted articles never
        match), or None when unfiltered.

        Sources, topics and entities match case-insensitively; dates are inclusive
        ISO strings, and an article without a date never matches a date filter.
        Several values of one filter are alternatives, except entities: an article
        must name every (type, text) entity given, where an entity is the merged group
        of :meth:`entity_groups` (its case variants, aliases and types: what its facet
        counted), or, for a name no group knows, that type and text in any case.
        """
        if not (sources or date_from or date_to or topics or entities):
            return None
        if (topics or entities) and not self.has_labels:
            return np.zeros(self.n_articles, dtype=bool)  # nothing is labelled
        resolved: list[EntityFilter] = []
        for type_, text in entities:
            group = self.entity_groups().find(type_.upper(), text)
            if group is None:
                resolved.append(("any-case", (type_.upper(), text)))
            else:
                resolved.append(("variants", tuple(group.variants)))
        masks = [
            p.store.article_mask(sources, date_from, date_to, topics, resolved) for p in self.parts
        ]
        mask = np.concatenate([m for m in masks if m is not None] or [np.zeros(0, bool)])
        return mask & self.live

    # -- aggregates

    def entity_groups(self) -> EntityGroups:
        """The live articles' entities with case variants, aliases and types merged
        (:mod:`indexer.entity_names`), read once on first use."""
        with self._groups_lock:
            if self._groups is None:
                counts: Counter = Counter()
                if self.has_labels:
                    for part in self.parts:
                        for type_, text, n in part.store.entity_counts(part.deleted):
                            counts[(type_, text)] += n
                self._groups = merge_entities(counts)
            return self._groups

    def _counted(self, facet: str, nums: Sequence[int]) -> Counter:
        counts: Counter = Counter()
        for part, _, local in self._split(nums):
            for value, n in part.store.count_by(facet, local):
                counts[value] += n
        return counts

    def facet_counts(self, nums: Sequence[int], top_entities: int = 12) -> dict[str, dict]:
        """Counts of topic, source and entity over the given articles.

        ``entity``: ``{"TYPE=text": articles}`` for the ``top_entities`` most named
        entities, each the merged group of :meth:`entity_groups` under its key (its
        filter matches the same articles); ``entity_labels``: ``{"TYPE=text": "text ·
        kind"}`` for the same keys.
        """
        facets: dict[str, dict] = {"topic": {}, "source": {}, "entity": {}, "entity_labels": {}}
        if not len(nums):
            return facets
        for name in ("topic", "source"):
            if name == "source" or self.has_labels:
                counts = self._counted(name, nums)
                facets[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        if self.has_labels:
            facets["entity"], facets["entity_labels"] = self._entity_facet(nums, top_entities)
        return facets

    def _entity_facet(self, nums: Sequence[int], top: int) -> tuple[dict[str, int], dict[str, str]]:
        """Articles naming each merged entity (the ``top`` most named), and the labels."""
        groups = self.entity_groups().by_variant
        labels: dict[str, str] = {}
        named = set()
        for part, base, local in self._split(nums):
            for article, type_, text in part.store.entity_pairs(local):
                group = groups.get((type_, text))
                key = group.key if group is not None else f"{type_}={text}"
                labels[key] = group.label if group is not None else entity_label(type_, text)
                named.add((base + article, key))
        counts = Counter(key for _, key in named)
        best = sorted(counts.items(), key=lambda kn: (-kn[1], kn[0]))[: int(top)]
        return dict(best), {key: labels[key] for key, _ in best}

    def month_counts(self, nums: Sequence[int]) -> dict[str, int]:
        """``{"YYYY-MM": articles}`` over the given articles, oldest month first; the
        undated are not counted."""
        return dict(sorted(self._counted("month", nums).items()))

    def iter_texts(self, batch: int = 256) -> Iterator[tuple[str, str]]:
        """Every live article's ``(title, text)``, segment by segment."""
        return itertools.chain.from_iterable(
            p.store.iter_texts(p.deleted, batch) for p in self.parts
        )

    def source_summary(self) -> list[tuple[str | None, int, int, str | None, str | None]]:
        """``(source, articles, undated, first date, last date)`` per source over the live
        articles, the largest first (source None: articles without one)."""
        merged: dict[str | None, list] = defaultdict(lambda: [0, 0, None, None])
        for part in self.parts:
            for source, n, undated, lo, hi in part.store.source_summary(part.deleted):
                row = merged[source]
                row[0] += n
                row[1] += undated
                row[2] = lo if row[2] is None or (lo is not None and lo < row[2]) else row[2]
                row[3] = hi if row[3] is None or (hi is not None and hi > row[3]) else row[3]
        rows = [(s, n, u, lo, hi) for s, (n, u, lo, hi) in merged.items() if n]
        return sorted(rows, key=lambda r: (-r[1], r[0] is None, r[0] or ""))

    def source_counts(self) -> dict[str, int]:
        return {s: n for s, n, *_ in self.source_summary() if s is not None}

    def date_range(self) -> tuple[str | None, str | None]:
        """The oldest and newest date of the live articles (None, None when none is dated)."""
        rows = self.source_summary()
        lows = [r[3] for r in rows if r[3] is not None]
        highs = [r[4] for r in rows if r[4] is not None]
        return (min(lows) if lows else None, max(highs) if highs else None)
