"""The retrieve stage: BM25 and dense passage candidates, filters applied inside each.

The query embedder is any object with ``encode(texts, queries=True) -> vectors``
(:class:`indexer.dense.Embedder`); it is only called when the dense retriever runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from indexer.dense import DenseIndex
from indexer.hits import Hits
from indexer.lexical import BM25Index


class QueryEncoder(Protocol):
    dim: int

    def encode(
        self, texts: Sequence[str], show_progress: bool = False, queries: bool = False
    ) -> np.ndarray: ...


class Retriever:
    """Fetches the ``depth`` best passages from each of ``stages`` (``bm25``, ``dense``)."""

    def __init__(
        self,
        bm25: BM25Index,
        dense: DenseIndex,
        embedder: QueryEncoder,
        *,
        stages: Sequence[str] = ("bm25", "dense"),
    ) -> None:
        self.bm25, self.dense, self.embedder = bm25, dense, embedder
        self.stages = tuple(stages)

    def embed(self, queries: Sequence[str]) -> np.ndarray | None:
        """Query vectors (float32, as one query alone gets), or None without dense."""
        if "dense" not in self.stages:
            return None
        return self.embedder.encode(list(queries), queries=True)

    def run(
        self,
        query: str,
        depth: int,
        mask: np.ndarray | None,
        timings: dict[str, float],
        vector: np.ndarray | None = None,
        shards: object | None = None,
    ) -> dict[str, Hits]:
        """Each stage's passages, best first; ``vector``: the query's embedding if known;
        ``shards``: which shards answered, for a sharded index (``ranker.sharded``)."""
        hits: dict[str, Hits] = {}
        if "bm25" in self.stages:
            t = time.perf_counter()
            hits["bm25"] = self.bm25.retrieve(query, depth, mask)
            timings["bm25"] = ms_since(t)
        if "dense" in self.stages:
            if vector is None:
                t = time.perf_counter()
                vector = self.embedder.encode([query], queries=True)[0]
                timings["embed"] = ms_since(t)
            t = time.perf_counter()
            hits["dense"] = self.dense.search(vector, depth, mask)
            timings["dense"] = ms_since(t)
        return hits


def ms_since(start: float) -> float:
    """Milliseconds since ``start`` (a ``time.perf_counter()`` value), to 0.001 ms."""
    return round((time.perf_counter() - start) * 1000, 3)
