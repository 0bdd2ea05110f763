"""Under load: a bounded number of searches in progress (503 + Retry-After past it), and a
per-request time budget after which the reranker and reader are skipped, never an error."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from fakes import FakeReader

from newsrank.config import WebConfig
from ranker.budget import Budget
from ranker.request import SearchRequest
from web import create_app
from web.admission import Overloaded, SearchGate
from web.engine import Engine


class BlockingReranker:
    """Holds every call until ``release`` is set (a search that is "in progress")."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def predict(self, pairs):
        self.entered.set()
        assert self.release.wait(10)
        return np.zeros(len(pairs))


class SlowReranker:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict(self, pairs):
        time.sleep(self.seconds)
        return np.arange(len(pairs), dtype=float)


def _app(searcher, **web):
    engine = Engine(searcher, reader=searcher.reader, web=WebConfig(**web))
    return create_app({"TESTING": True, "ENGINE": engine}), engine


def test_past_the_bound_a_search_is_refused_at_once_with_retry_after(searcher):
    blocking = BlockingReranker()
    app, engine = _app(
        searcher.configured(reranker=blocking), max_searches=1, max_queued=0, queue_wait_s=3
    )
    results = {}
    first = threading.Thread(
        target=lambda: results.setdefault("first", app.test_client().get("/api/search?q=oil"))
    )
    first.start()
    try:
        assert blocking.entered.wait(10) and engine.gate.in_progress == 1
        t = time.perf_counter()
        busy = app.test_client().get("/api/search?q=oil")
        assert time.perf_counter() - t < 1.0  # at once, not after the queue wait
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "3"
        assert "busy" in busy.get_json()["error"]
        page = app.test_client().get("/?q=oil")
        assert page.status_code == 503 and page.headers["Retry-After"] == "3"
        assert "try again" in page.get_data(as_text=True)
        assert app.test_client().get("/api/health").status_code == 200  # not a search
    finally:
        blocking.release.set()
        first.join(10)
    assert results["first"].status_code == 200 and engine.gate.refused == 2


def test_a_queued_search_waits_for_a_slot(searcher):
    blocking = BlockingReranker()
    app, engine = _app(
        searcher.configured(reranker=blocking), max_searches=1, max_queued=1, queue_wait_s=10
    )
    codes: dict[str, int] = {}

    def get(name: str) -> None:
        codes[name] = app.test_client().get("/api/search?q=oil").status_code

    running = threading.Thread(target=get, args=("running",))
    running.start()
    assert blocking.entered.wait(10)
    waiting = threading.Thread(target=get, args=("waiting",))
    waiting.start()
    deadline = time.monotonic() + 5
    while engine.gate._admitted < 2 and time.monotonic() < deadline:  # noqa: SLF001
        time.sleep(0.01)
    assert app.test_client().get("/api/search?q=oil").status_code == 503  # third: refused
    blocking.release.set()
    running.join(10)
    waiting.join(10)
    assert codes == {"running": 200, "waiting": 200}


def test_a_search_that_waits_too_long_for_a_slot_is_refused():
    gate = SearchGate(max_searches=1, max_queued=1, queue_wait_s=0.05)
    with gate.admit():
        with pytest.raises(Overloaded, match="no search slot within 0.05 s"):
            with gate.admit():
                pass
    assert gate.refused == 1 and gate.in_progress == 0


def test_over_budget_the_reranker_and_reader_are_skipped_and_said_so(searcher):
    slow = searcher.configured(reranker=SlowReranker(0.05), reader=FakeReader())
    request = SearchRequest("oil prices", k=3)
    full = slow.search(request, budget=Budget.of(60_000))
    assert full.degraded == [] and "rerank" in full.results[0].stages
    assert 40 <= slow.costs.expected("rerank") < 60_000  # learnt from that run
    slow.costs.observe("rerank", 1e9)  # now expected to take "forever"
    hurried = slow.search(request, budget=Budget.of(60_000))
    assert hurried.degraded == ["rerank"]
    assert not any("rerank" in h.stages for h in hurried.results)
    fused = searcher.configured(reranker=None, reader=None).search(request)
    assert [h.id for h in hurried.results] == [h.id for h in fused.results]
    assert hurried.to_dict()["degraded"] == ["rerank"]
    slow.costs.observe("read", 1e12)
    assert slow.search(request, budget=Budget.of(60_000)).degraded == ["rerank", "read"]
    assert slow.search(request, budget=Budget()).degraded == []  # no budget: everything runs


def test_the_api_reports_degraded_stages_not_an_error(searcher):
    slow = searcher.configured(reranker=SlowReranker(0.01))
    app, _ = _app(slow, search_budget_ms=60_000)
    client = app.test_client()
    assert client.get("/api/search?q=oil").get_json()["degraded"] == []
    slow.costs.observe("rerank", 1e9)
    second = client.get("/api/search?q=oil")
    assert second.status_code == 200 and second.get_json()["degraded"] == ["rerank"]


def test_gate_settings_are_checked():
    with pytest.raises(ValueError, match="max_searches=0"):
        SearchGate(max_searches=0, max_queued=1)
