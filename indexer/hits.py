"""What a retriever returns: passage ids and their scores, best first.

BM25 (:mod:`indexer.lexical`) and the dense index (:mod:`indexer.dense`) both answer
with :class:`Hits`; fusion (:mod:`ranker.fuse`) and the sharded search read them.

>>> import numpy as np
>>> a = Hits(np.array([3, 1]), np.array([2.0, 1.0], dtype=np.float32))
>>> a == Hits(np.array([3, 1]), np.array([2.0, 1.0], dtype=np.float32))
True
>>> a == Hits(np.array([3, 1]), np.array([2.0, 1.0]))  # float64 scores: not the same hits
False
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Hits:
    """Passage ids and scores, best first; equal when both arrays are (dtype included)."""

    ids: np.ndarray
    scores: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hits):
            return NotImplemented
        return all(
            a.dtype == b.dtype and np.array_equal(a, b)
            for a, b in ((self.ids, other.ids), (self.scores, other.scores))
        )
