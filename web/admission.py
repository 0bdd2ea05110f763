"""Admission control: a bounded number of searches in progress, the rest turned away.

``max_searches`` searches run at once (more would only share the same CPU cores and
all get slower); up to ``max_queued`` more wait for a slot, at most ``queue_wait_s``
seconds. Anything past that is refused at once with :class:`Overloaded`, which the
app answers with ``503 Service Unavailable`` and a ``Retry-After`` header, so under a
burst the server stays responsive instead of queueing without bound.

>>> gate = SearchGate(max_searches=1, max_queued=0)
>>> with gate.admit():
...     gate.in_progress
1
>>> gate.in_progress
0
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Overloaded(Exception):
    """Too many searches in progress and waiting: retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SearchGate:
    """Counts searches in progress and waiting; refuses those past the bound."""

    def __init__(self, max_searches: int, max_queued: int, queue_wait_s: float = 1.0) -> None:
        if max_searches < 1 or max_queued < 0 or queue_wait_s < 0:
            raise ValueError(
                f"max_searches={max_searches} must be >= 1, max_queued={max_queued} and "
                f"queue_wait_s={queue_wait_s} >= 0"
            )
        self.max_searches, self.max_queued, self.queue_wait_s = (
            max_searches,
            max_queued,
            queue_wait_s,
        )
        self._slots = threading.BoundedSemaphore(max_searches)
        self._lock = threading.Lock()
        self._admitted = 0  # running + waiting
        self.in_progress = 0
        self.refused = 0

    @property
    def retry_after(self) -> int:
        """Seconds a refused client should wait (whole seconds, at least 1)."""
        return max(1, math.ceil(self.queue_wait_s))

    def _refuse(self, why: str) -> Overloaded:
        with self._lock:
            self.refused += 1
        return Overloaded(self.retry_after, f"the server is busy ({why}); retry shortly")

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Run the body as one admitted search, or raise :class:`Overloaded`."""
        with self._lock:
            full = self._admitted >= self.max_searches + self.max_queued
            if not full:
                self._admitted += 1
        if full:
            raise self._refuse(f"{self.max_searches} searches running, {self.max_queued} waiting")
        try:
            if not self._slots.acquire(timeout=self.queue_wait_s):
                raise self._refuse(f"no search slot within {self.queue_wait_s:g} s")
            try:
                with self._lock:
                    self.in_progress += 1
                yield
            finally:
                with self._lock:
                    self.in_progress -= 1
                self._slots.release()
        finally:
            with self._lock:
                self._admitted -= 1
