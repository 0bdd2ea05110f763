"""A per-request time budget: which optional stages still fit before the deadline.

The rerank and read stages are optional refinements of a ranking that is already
complete after fusion. Under load, a request that would miss its budget skips them
and says so (``SearchResponse.degraded``) instead of failing or queueing. Whether a
stage fits is judged from how long it has recently taken (an exponentially weighted
moving average per stage, shared by all requests of a searcher).

>>> costs = StageCosts()
>>> costs.observe("rerank", 100.0)
>>> Budget(deadline=None).fits("rerank", costs, now=0.0)
True
>>> Budget(deadline=0.05).fits("rerank", costs, now=0.0)  # 50 ms left, rerank takes ~100
False
>>> Budget(deadline=0.5).fits("rerank", costs, now=0.0)
True
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


class StageCosts:
    """Recent milliseconds per stage (EWMA, ``alpha`` weight of the newest run)."""

    def __init__(self, alpha: float = 0.2) -> None:
        self.alpha = alpha
        self._ms: dict[str, float] = {}
        self._lock = threading.Lock()

    def observe(self, stage: str, ms: float) -> None:
        with self._lock:
            old = self._ms.get(stage)
            self._ms[stage] = ms if old is None else (1 - self.alpha) * old + self.alpha * ms

    def expected(self, stage: str) -> float:
        """Expected milliseconds of ``stage`` (0 before it has run once)."""
        return self._ms.get(stage, 0.0)


@dataclass(frozen=True)
class Budget:
    """The deadline of one request (``time.perf_counter()`` seconds; None: no budget)."""

    deadline: float | None = None

    @classmethod
    def of(cls, budget_ms: float | None, start: float | None = None) -> Budget:
        """A budget of ``budget_ms`` milliseconds from ``start`` (default: now)."""
        if budget_ms is None:
            return cls(None)
        return cls((time.perf_counter() if start is None else start) + budget_ms / 1000)

    def fits(self, stage: str, costs: StageCosts, now: float | None = None) -> bool:
        """Whether ``stage`` is expected to finish before the deadline."""
        if self.deadline is None:
            return True
        now = time.perf_counter() if now is None else now
        return now + costs.expected(stage) / 1000 <= self.deadline
