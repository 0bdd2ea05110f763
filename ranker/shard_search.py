"""One shard's search stages (:class:`ShardSearcher`) and the backends that run them on
every shard of a sharded index (:class:`ShardBackend`): in this process
(:class:`LocalBackend`) or one Ray actor per shard (:class:`ranker.cluster.RayBackend`).
The coordinator that fans a query out and merges the replies is
:class:`ranker.sharded.ShardedIndex`."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from indexer.bm25_formulas import TermStats
from indexer.hits import Hits
from indexer.reader import IndexReader
from indexer.shard_commit import ShardCommit
from indexer.shards import ShardLayout
from newsrank.errors import NewsrankError


def no_hits() -> Hits:
    return Hits(ids=np.zeros(0, dtype=np.int64), scores=np.zeros(0, dtype=np.float32))


class ShardGenerationError(NewsrankError):
    """A shard was asked for a commit it no longer (or does not yet) hold."""


class ShardSearcher:
    """The search stages of one shard: what a Ray actor holds (or the local backend).

    Holds the newest commit it has opened and the commit before it; every call names
    the commit (``generation``) it is for.
    """

    def __init__(self, directory: str | Path, ef_search: int = 128) -> None:
        self.directory = Path(directory)
        self.ef_search = ef_search
        reader = IndexReader.open(self.directory, ef_search=ef_search)
        self._readers: dict[int, IndexReader] = {reader.generation: reader}
        self._newest = reader
        self._lock = threading.Lock()

    @property
    def reader(self) -> IndexReader:
        return self._newest

    def pid(self) -> int:
        """The process this shard searcher runs in (tests kill it)."""
        return os.getpid()

    def generation(self) -> int:
        return self._newest.generation

    def node(self) -> str | None:
        """The Ray node this shard searcher runs on (None: not in a Ray worker)."""
        ray = sys.modules.get("ray")
        if ray is None or not ray.is_initialized():
            return None
        return str(ray.get_runtime_context().get_node_id())

    def reopen(self) -> int:
        """Open the newest commit (keeping the previous one); its generation."""
        with self._lock:
            fresh = self._newest.reopen()
            if fresh is not None:
                self._readers = {self._newest.generation: self._newest, fresh.generation: fresh}
                self._newest = fresh
            return self._newest.generation

    def _at(self, generation: int) -> IndexReader:
        reader = self._readers.get(generation)
        if reader is None and generation > self._newest.generation:
            self.reopen()
            reader = self._readers.get(generation)
        if reader is None:
            raise ShardGenerationError(
                f"shard {self.directory} holds commits {sorted(self._readers)}, not "
                f"{generation}: reopen the sharded index"
            )
        return reader

    def stats(self, generation: int, tokens: Sequence[str]) -> TermStats:
        return self._at(generation).bm25.term_stats(tokens)

    def bm25(
        self,
        generation: int,
        tokens: Sequence[str],
        k: int,
        mask: np.ndarray | None,
        stats: TermStats,
    ) -> Hits:
        bm25 = self._at(generation).bm25
        return bm25.retrieve("", k, mask, tokens=tokens, stats=stats)

    def dense(self, generation: int, vector: np.ndarray, k: int, mask: np.ndarray | None) -> Hits:
        dense = self._at(generation).dense
        if len(dense) == 0:
            return no_hits()
        return dense.search(vector, k, mask)

    def vectors_of(self, generation: int, pids: Sequence[int]) -> np.ndarray:
        return self._at(generation).dense.vectors_of(pids)


@dataclass(frozen=True)
class ShardReply:
    """One shard's answer to one call: ``value``, or the ``error`` it failed with."""

    shard: int
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Pending(Protocol):
    def result(self) -> list[ShardReply]:
        """Every shard's reply, in shard order (waiting for them)."""
        ...


class ShardBackend(Protocol):
    """Runs a :class:`ShardSearcher` method on every shard asked (``calls``: shard ->
    positional arguments), concurrently where it can; a failing shard is retried once,
    then answers with its ``error``, never raises."""

    n: int

    def submit(self, method: str, calls: dict[int, tuple]) -> Pending: ...

    def reopen(self) -> list[int]:
        """Every shard searcher's newest generation after reopening."""
        ...

    def commits(self, previous: Sequence[ShardCommit] | None) -> list[ShardCommit] | None:
        """What the coordinator needs of each shard's commit, when the backend holds it
        (in process); None: the coordinator reads it from the shard directories."""
        ...

    def close(self) -> None: ...


@dataclass
class _Done:
    replies: list[ShardReply]

    def result(self) -> list[ShardReply]:
        return self.replies


class LocalBackend:
    """Every shard searched in this process, one after another: no Ray needed (tests,
    small indexes). A shard whose call raises is retried once, then reported failed."""

    def __init__(self, layout: ShardLayout, directory: Path, ef_search: int = 128) -> None:
        self.n = layout.shards
        self.names = layout.dirs
        self.searchers = [ShardSearcher(p, ef_search) for p in layout.paths(directory)]

    def submit(self, method: str, calls: dict[int, tuple]) -> Pending:
        replies = []
        for shard, args in sorted(calls.items()):
            error = ""
            for _ in range(2):
                try:
                    value = getattr(self.searchers[shard], method)(*args)
                except Exception as exc:  # a shard's failure is reported, not raised
                    error = f"{type(exc).__name__}: {exc}"
                    continue
                replies.append(ShardReply(shard, value))
                break
            else:
                replies.append(ShardReply(shard, error=error))
        return _Done(replies)

    def reopen(self) -> list[int]:
        return [s.reopen() for s in self.searchers]

    def commits(self, previous: Sequence[ShardCommit] | None) -> list[ShardCommit]:
        return [ShardCommit.of_reader(n, s.reader) for n, s in zip(self.names, self.searchers)]

    def close(self) -> None:
        pass
