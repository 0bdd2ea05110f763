"""Which segments a writer merges (:meth:`indexer.writer.IndexWriter.maybe_merge`): a
:class:`MergePolicy` picks groups of committed segments; the writer merges each group
into one new segment, dropping deleted rows, as one commit."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from indexer.manifest import SegmentEntry


class MergePolicy(Protocol):
    def select(self, segments: Sequence[SegmentEntry]) -> list[list[str]]:
        """Groups of segment names to merge, each group into one segment (adjacent in
        commit order, so that article order is kept); empty: nothing to merge."""
        ...


@dataclass(frozen=True)
class LogMergePolicy:
    """Merge ``factor`` adjacent segments of the same size level (Lucene's
    LogMergePolicy): level = floor(log_factor(live articles)). Sizes grow
    geometrically, so there are O(factor * log N) segments and every article is copied
    O(log N) times. A segment with at least ``max_deleted`` of its rows deleted is
    rewritten to drop them.

    >>> s = [SegmentEntry(f"s{i}", articles=5, passages=5) for i in range(4)]
    >>> LogMergePolicy(factor=3).select(s)
    [['s0', 's1', 's2']]
    >>> LogMergePolicy(factor=3).select([SegmentEntry("x", 10, 10, deleted=6)])
    [['x']]
    """

    factor: int = 10
    max_deleted: float = 0.5

    def level(self, entry: SegmentEntry) -> int:
        return int(math.log(max(entry.live_articles, 1), self.factor))

    def select(self, segments: Sequence[SegmentEntry]) -> list[list[str]]:
        groups: list[list[str]] = []
        taken: set[str] = set()
        run: list[SegmentEntry] = []
        for entry in [*segments, None]:
            if run and (entry is None or self.level(entry) != self.level(run[0])):
                while len(run) >= self.factor:
                    groups.append([e.name for e in run[: self.factor]])
                    taken.update(groups[-1])
                    run = run[self.factor :]
                run = []
            if entry is not None:
                run.append(entry)
        for entry in segments:
            if entry.name not in taken and entry.deleted >= self.max_deleted * entry.articles:
                groups.append([entry.name])
        return groups
