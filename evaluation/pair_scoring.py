"""The cross-encoder an evaluation reranks with: the shipped head loaded with a clear
error when it is missing, and a wrapper that caches its scores and prices them."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from newsrank.errors import NewsrankError
from newsrank.protocols import PairScorer


def load_reranker(name: str = "reranker", precision: str = "auto") -> PairScorer:
    """The cross-encoder head, or a clear error when it is not trained yet."""
    from heads.registry import SHIPPED, is_available, resolve_head

    path = resolve_head(name)
    if name in SHIPPED and not is_available(name):
        raise NewsrankError(
            f"the rerank stage needs the fine-tuned reranker at {path}, which does not exist; "
            "train it (`newsrank train reranker ...`), pass --reranker DIR, or drop 'rerank' "
            "from --stages"
        )
    from heads.cross_encoder import CrossEncoder

    return CrossEncoder(path, precision=precision)


class CachedScorer:
    """Wraps a pair scorer: remembers scores, counts the pairs scored and the time spent.

    The rerank-depth curve reruns the same queries at several depths; cached scores
    make the extra depths free, and ``ms_per_pair`` prices them.

    >>> class Len:
    ...     def predict(self, pairs): return np.array([len(b) for _, b in pairs], dtype=float)
    >>> c = CachedScorer(Len())
    >>> c.predict([("q", "ab"), ("q", "abc")]).tolist(), c.predict([("q", "ab")]).tolist(), c.pairs
    ([2.0, 3.0], [2.0], 2)
    """

    def __init__(self, scorer: PairScorer) -> None:
        self.scorer = scorer
        self.cache: dict[tuple[str, str], float] = {}
        self.pairs = 0
        self.seconds = 0.0
        self.requests: list[int] = []  # pairs asked for by each call (cached or not)

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        pairs = [tuple(p) for p in pairs]
        self.requests.append(len(pairs))
        missing = [p for p in dict.fromkeys(pairs) if p not in self.cache]
        if missing:
            t = time.perf_counter()
            scores = np.asarray(self.scorer.predict(missing), dtype=float).reshape(-1)
            self.seconds += time.perf_counter() - t
            self.pairs += len(missing)
            self.cache.update(zip(missing, scores.tolist()))
        return np.array([self.cache[p] for p in pairs], dtype=float)

    @property
    def ms_per_pair(self) -> float:
        return 1000 * self.seconds / self.pairs if self.pairs else 0.0
