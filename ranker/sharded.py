"""Search over a sharded index: fan out to the shards, merge their top lists.

A sharded index (:mod:`indexer.shards`) is N segmented indexes. Each shard is searched
by a :class:`ranker.shard_search.ShardSearcher` (its :class:`indexer.reader.IndexReader`:
BM25 postings and FAISS vectors), in this process (``shard_search.LocalBackend``) or in a
Ray actor per shard (:class:`ranker.cluster.RayBackend`); both are a ``ShardBackend``.
The coordinator, :class:`ShardedIndex`, holds what the later stages need of every shard:
the article stores (one commit-wide :class:`indexer.store.ArticleStore`, shard after
shard) and the near-duplicate signatures. It looks like an ``IndexReader`` to the :class:`Searcher`,
so fusion, rerank, read, collapse, facets and rendering run unchanged on the merged
candidates, with the heads loaded once, in the coordinator.

A query, per stage:

- **bm25**, two rounds as Elasticsearch's ``dfs_query_then_fetch``: every shard reports
  its :class:`indexer.bm25_formulas.TermStats` for the query's terms (live passages, their
  total length, each term's document frequency); the coordinator adds them up and every
  shard scores its passages with the sums and returns its ``depth`` best. Scores are
  then those of one index holding every shard's passages.
- **dense**: one round, each shard's ``depth`` nearest (exact per shard for flat
  FAISS indexes, so the merged list is the global one).

The coordinator merges each stage's per-shard lists by score (ties: lower
commit-wide passage number first) and keeps ``depth``. Shard passage ``p`` is
commit-wide ``passage_base[shard] + p``; a request's filter is the commit-wide passage
mask, cut into each shard's range.

Faults: a shard that fails a round (its process died, a timeout) is asked once more
(the Ray backend's actors are restarted by Ray); a shard that fails again is left out
of the answer, which says so: ``"shards": {"total": N, "ok": N - 1, "failed": 1}``
and a warning. A search never fails because a shard did.

Commits: each call names the shard commit (generation) the coordinator holds; a shard
searcher keeps the commit it was asked for and the newest one, so a search that started
on a commit finishes on it while the shards reopen.

>>> merge_hits([Hits(np.array([1, 0]), np.array([0.9, 0.5], "float32")),
...             Hits(np.array([0]), np.array([0.7], "float32"))], [0, 10], k=2).ids.tolist()
[1, 10]
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.analysis import Tokenizer
from indexer.bm25_formulas import TermStats
from indexer.dense import Embedder
from indexer.hits import Hits
from indexer.manifest import Manifest
from indexer.reader import (
    CommitDuplicates,
    check_embedder,
    commit_stamp,
    manifest_embedder,
)
from indexer.shard_commit import ShardCommit, summed_manifest
from indexer.shards import ShardLayout, read_layout
from indexer.store import ArticleStore
from newsrank.config import IndexConfig
from newsrank.errors import NewsrankError
from ranker.retrieve import QueryEncoder, Retriever, ms_since
from ranker.shard_search import LocalBackend, Pending, ShardBackend, ShardReply, no_hits

log = logging.getLogger(__name__)

#: backends a sharded index can be searched with (``NEWSRANK_SHARD_BACKEND``)
BACKENDS = ("ray", "local")


def merge_hits(parts: Sequence[Hits], bases: Sequence[int], k: int) -> Hits:
    """The ``k`` best of several shards' hits (shard passage + its base = commit-wide
    passage), by score, ties by commit-wide passage number."""
    if not parts:
        return no_hits()
    ids = np.concatenate([np.asarray(h.ids, np.int64) + int(b) for h, b in zip(parts, bases)])
    scores = np.concatenate([np.asarray(h.scores, np.float32) for h in parts])
    order = np.lexsort((ids, -scores))[: max(k, 0)]
    return Hits(ids=ids[order], scores=scores[order])


@dataclass
class ShardTally:
    """Which shards answered a search: the response's ``shards`` field."""

    total: int
    failed: dict[int, str] = field(default_factory=dict)  # shard -> what went wrong

    def record(self, replies: Sequence[ShardReply]) -> None:
        for reply in replies:
            if not reply.ok:
                self.failed.setdefault(reply.shard, str(reply.error))

    def to_dict(self) -> dict:
        data: dict = {
            "total": self.total,
            "ok": self.total - len(self.failed),
            "failed": len(self.failed),
        }
        if self.failed:
            data["warnings"] = [
                f"shard {s} did not answer ({why}); results are from the other shards"
                for s, why in sorted(self.failed.items())
            ]
        return data


class ShardedIndex(CommitDuplicates):
    """One commit of every shard, seen as one index by the searcher (the surface of
    :class:`indexer.reader.IndexReader` it uses: ``store``, ``bm25``, ``dense``,
    ``manifest``, ``duplicates``, ``reopen``...). Numbers are commit-wide: shard 0's
    articles and passages first, then shard 1's, ..."""

    def __init__(
        self,
        directory: Path,
        layout: ShardLayout,
        backend: ShardBackend,
        commits: Sequence[ShardCommit],
        ef_search: int = 128,
    ) -> None:
        self.directory, self.layout, self.backend = directory, layout, backend
        self.commits = list(commits)
        self.ef_search = ef_search
        self.store = ArticleStore(
            [p for c in self.commits for p in c.parts],
            labelled=any(bool(c.manifest.enrichment) for c in self.commits),
        )
        sizes = [c.n_passages for c in self.commits]
        #: the first commit-wide passage number of each shard
        self.passage_base = np.cumsum([0, *sizes])[:-1].astype(np.int64)
        self.passage_sizes = sizes
        self.manifest: Manifest = summed_manifest(
            [c.manifest for c in self.commits], [c.name for c in self.commits]
        )
        self.bm25 = ShardedBM25(self)
        self.dense = ShardedDense(self)
        self._lazy: dict = {}
        self._lazy_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        index_dir: str | Path,
        *,
        backend: str | ShardBackend | None = None,
        ef_search: int = 128,
        address: str | None = None,
    ) -> ShardedIndex:
        """Open the sharded index at ``index_dir``: ``backend`` ``"ray"`` (one actor per
        shard; the default, or ``NEWSRANK_SHARD_BACKEND``), ``"local"`` (this process)
        or a ready :class:`ShardBackend`; ``address``: the Ray cluster (default: the
        ``RAY_ADDRESS`` variable, else a local Ray started for this process)."""
        directory = Path(index_dir)
        layout = read_layout(directory)
        if backend is None:
            backend = os.environ.get("NEWSRANK_SHARD_BACKEND", "ray")
        if backend == "local":
            backend = LocalBackend(layout, directory, ef_search)
        elif backend == "ray":
            from ranker.cluster import RayBackend

            backend = RayBackend(layout, directory, ef_search=ef_search, address=address)
        elif isinstance(backend, str):
            raise ValueError(f"shard backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        commits = _synced(backend, layout, directory, None)
        return cls(directory, layout, backend, commits, ef_search)

    # -- the IndexReader surface

    @property
    def n_shards(self) -> int:
        return self.layout.shards

    @property
    def generation(self) -> int:
        return self.manifest.generation

    @property
    def generations(self) -> list[int]:
        return [c.generation for c in self.commits]

    @property
    def settings(self) -> IndexConfig:
        return IndexConfig(**self.manifest.settings)

    def is_current(self) -> bool:
        """Whether every shard's newest commit is the one held (one ``stat`` each)."""
        return all(c.is_current() for c in self.commits)

    def newest_stamp(self) -> tuple:
        """What changes when any shard commits: every shard manifest's (inode, mtime)."""
        return tuple(commit_stamp(c.directory) for c in self.commits)

    def reopen(self) -> ShardedIndex | None:
        """The newest commit of every shard (shard searchers reopened too), or None when
        nothing changed; segments the commits share are not reopened."""
        if self.is_current():
            return None
        commits = _synced(self.backend, self.layout, self.directory, self.commits)
        if [c.generation for c in commits] == self.generations:
            return None
        return ShardedIndex(self.directory, self.layout, self.backend, commits, self.ef_search)

    def _signature_parts(self) -> tuple[list[np.ndarray | None], list[int]]:
        """Every shard's signatures, in order: a story's versions in two shards are one
        group (:class:`indexer.reader.CommitDuplicates`)."""
        return (
            [m for c in self.commits for m in c.minhash],
            [p.store.n_articles for p in self.store.parts],
        )

    def open_embedder(self) -> Embedder:
        return manifest_embedder(self.manifest, self.directory)

    def check_embedder(self, embedder: object) -> None:
        check_embedder(self.manifest, self.directory, embedder)

    def close(self) -> None:
        self.backend.close()

    # -- fan-out

    def shard_masks(self, mask: np.ndarray | None) -> list[np.ndarray | None]:
        """A commit-wide passage mask cut into each shard's range."""
        if mask is None:
            return [None] * self.n_shards
        return [mask[int(b) : int(b) + n] for b, n in zip(self.passage_base, self.passage_sizes)]

    def submit_dense(self, vector: np.ndarray, k: int, mask: np.ndarray | None) -> Pending:
        masks = self.shard_masks(mask)
        calls = {
            i: (c.generation, vector, k, masks[i])
            for i, c in enumerate(self.commits)
            if self.passage_sizes[i] and (masks[i] is None or masks[i].any())
        }
        return self.backend.submit("dense", calls)

    def merge(self, replies: Sequence[ShardReply], k: int, tally: ShardTally | None) -> Hits:
        if tally is not None:
            tally.record(replies)
        ok = [r for r in replies if r.ok]
        return merge_hits([r.value for r in ok], [self.passage_base[r.shard] for r in ok], k)

    def search_bm25(
        self, tokens: Sequence[str], k: int, mask: np.ndarray | None, tally: ShardTally | None
    ) -> Hits:
        """The two BM25 rounds: statistics from every shard, then each shard's top ``k``
        scored with their sums; merged."""
        gens = {i: (c.generation, list(tokens)) for i, c in enumerate(self.commits)}
        stats_replies = self.backend.submit("stats", gens).result()
        if tally is not None:
            tally.record(stats_replies)
        ok = [r for r in stats_replies if r.ok]
        total = TermStats.sum([r.value for r in ok])
        if not any(total.df.values()):
            return no_hits()
        masks = self.shard_masks(mask)
        # bm25l and bm25+ score a passage without any query term above 0: ask every shard
        every = self.bm25.method in ("bm25l", "bm25+")
        calls = {
            r.shard: (self.commits[r.shard].generation, list(tokens), k, masks[r.shard], total)
            for r in ok
            if (every or any(r.value.df.values()))
            and (masks[r.shard] is None or masks[r.shard].any())
        }
        return self.merge(self.backend.submit("bm25", calls).result(), k, tally)


def _synced(
    backend: ShardBackend,
    layout: ShardLayout,
    directory: Path,
    previous: Sequence[ShardCommit] | None,
) -> list[ShardCommit]:
    """The coordinator's view of each shard at the generation its searcher holds
    (reopening both until they agree: a writer may commit between the two)."""
    for _ in range(5):
        generations = backend.reopen()
        held = backend.commits(previous)
        if held is not None:
            return held
        commits = [
            ShardCommit.open(name, path, previous[i] if previous else None)
            for i, (name, path) in enumerate(zip(layout.dirs, layout.paths(directory)))
        ]
        if [c.generation for c in commits] == list(generations):
            return commits
        previous = commits
    raise NewsrankError(
        f"the shards of {directory} keep changing under the searcher (commits "
        f"{[c.generation for c in commits]} against {generations}); try again"
    )


class ShardedBM25:
    """The BM25 stage of a sharded index, as the retriever and renderer see it."""

    def __init__(self, index: ShardedIndex) -> None:
        self.index = index
        settings = index.settings
        self.tokenizer = Tokenizer()
        self.method, self.k1, self.b = settings.bm25_method, settings.bm25_k1, settings.bm25_b

    def __len__(self) -> int:
        return int(sum(self.index.passage_sizes))

    def retrieve(
        self,
        query: str,
        k: int = 10,
        mask: np.ndarray | None = None,
        tally: ShardTally | None = None,
    ) -> Hits:
        return self.index.search_bm25(self.tokenizer(query), k, mask, tally)


class ShardedDense:
    """The dense stage of a sharded index: each shard's nearest, merged."""

    def __init__(self, index: ShardedIndex) -> None:
        self.index = index
        self.kind = index.manifest.dense_kind

    def __len__(self) -> int:
        return int(sum(self.index.passage_sizes))

    def search(
        self,
        query: np.ndarray,
        k: int = 10,
        mask: np.ndarray | None = None,
        tally: ShardTally | None = None,
    ) -> Hits:
        replies = self.index.submit_dense(np.asarray(query, np.float32), k, mask).result()
        return self.index.merge(replies, k, tally)

    def vectors_of(self, pids: Sequence[int]) -> np.ndarray:
        """The stored vectors of commit-wide passages (asked of their shards)."""
        index = self.index
        pids = [int(p) for p in pids]
        shard_of = np.searchsorted(index.passage_base, pids, side="right") - 1
        calls: dict[int, tuple] = {}
        for shard in sorted(set(shard_of.tolist())):
            local = [
                p - int(index.passage_base[shard]) for p, s in zip(pids, shard_of) if s == shard
            ]
            calls[shard] = (index.commits[shard].generation, local)
        replies = {r.shard: r for r in index.backend.submit("vectors_of", calls).result()}
        rows, seen = [], dict.fromkeys(calls, 0)
        for shard in shard_of.tolist():
            reply = replies[shard]
            if not reply.ok:
                raise NewsrankError(f"shard {shard} did not answer: {reply.error}")
            rows.append(reply.value[seen[shard]])
            seen[shard] += 1
        dim = index.manifest.embedding_dim
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)


class ShardedRetriever(Retriever):
    """The retrieve stage over a sharded index: the dense round is sent first, the two
    BM25 rounds run while the shards search their vectors, then both are merged."""

    def __init__(
        self, index: ShardedIndex, embedder: QueryEncoder, *, stages: Sequence[str]
    ) -> None:
        super().__init__(index.bm25, index.dense, embedder, stages=stages)  # type: ignore[arg-type]
        self.index = index

    def run(
        self,
        query: str,
        depth: int,
        mask: np.ndarray | None,
        timings: dict[str, float],
        vector: np.ndarray | None = None,
        shards: ShardTally | None = None,
    ) -> dict[str, Hits]:
        hits: dict[str, Hits] = {}
        pending = None
        t = time.perf_counter()
        if "dense" in self.stages:
            if vector is None:
                vector = self.embedder.encode([query], queries=True)[0]
                timings["embed"] = ms_since(t)
            t = time.perf_counter()
            pending = self.index.submit_dense(np.asarray(vector, np.float32), depth, mask)
        if "bm25" in self.stages:
            tb = time.perf_counter()
            hits["bm25"] = self.index.search_bm25(self.bm25.tokenizer(query), depth, mask, shards)
            timings["bm25"] = ms_since(tb)
        if pending is not None:
            hits["dense"] = self.index.merge(pending.result(), depth, shards)
            timings["dense"] = ms_since(t)  # sent before BM25: includes the overlap
        hits = {stage: hits[stage] for stage in self.stages if stage in hits}
        return hits
