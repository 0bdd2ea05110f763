"""The search engine behind the app: opened once per process in ``init_app``.

The searcher (index, embedder, reranker, reader) and the two enrichment heads
(topic classifier, entity tagger, for the Analyze page and API) are loaded when
the app is created, never at import and never per request; every handler shares
them (they are safe to call from the WSGI server's threads).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app, jsonify, render_template, request

from indexer.fulltext import FullTextEntities
from newsrank.config import HeadsConfig, WebConfig
from newsrank.protocols import QuestionAnswerer, Tagger, TopicClassifier
from ranker.budget import Budget
from ranker.request import SearchRequest
from ranker.results import SearchResponse
from ranker.search import Searcher
from web.admission import Overloaded, SearchGate


@dataclass
class Engine:
    """What the handlers share: the searcher, the heads the pages use on their own, and
    the admission gate every search passes (``web.admission``)."""

    searcher: Searcher
    topic: TopicClassifier | None = None
    tagger: Tagger | None = None
    reader: QuestionAnswerer | None = None
    warnings: list[str] = field(default_factory=list)
    web: WebConfig = field(default_factory=WebConfig)
    gate: SearchGate | None = None

    def __post_init__(self) -> None:
        if self.gate is None:
            w = self.web
            self.gate = SearchGate(w.max_searches, w.max_queued, w.queue_wait_s)

    def search(self, search_request: SearchRequest) -> SearchResponse:
        """One search through the gate (``Overloaded`` past it), within the time budget
        (``WebConfig.search_budget_ms``, counted from admission: waiting counts too)."""
        budget = Budget.of(self.web.search_budget_ms)
        assert self.gate is not None
        with self.gate.admit():
            return self.searcher.search(search_request, budget=budget)


def init_app(app: Flask) -> None:
    engine = app.config.get("ENGINE")
    if engine is None:
        engine = _load(app)
    app.extensions["newsrank.engine"] = engine
    app.register_error_handler(Overloaded, _overloaded)


def _overloaded(exc: Overloaded):
    """503 with Retry-After: JSON for the API, the search page with a notice otherwise."""
    headers = {"Retry-After": str(exc.retry_after)}
    if request.path.startswith("/api/"):
        return jsonify({"error": str(exc)}), 503, headers
    body = render_template("busy.html", message=str(exc), retry_after=exc.retry_after)
    return body, 503, headers


def _load(app: Flask) -> Engine:
    settings = app.config["SETTINGS"]
    searcher = app.config.get("SEARCHER")
    if searcher is not None:  # tests: a ready searcher, heads as it has them
        return Engine(searcher, reader=searcher.reader, web=settings.web)
    from heads.loaders import load_heads

    heads = load_heads(settings.heads)
    searcher = Searcher.open(
        app.config["INDEX_DIR"],
        config=settings.search,
        reranker=heads.reranker,
        reader=heads.reader,
        heads=settings.heads,
    )
    warnings = list(heads.warnings)
    searcher.suggester  # noqa: B018 - warm-up: built now, not on the first request
    searcher.fulltext = _fulltext(searcher, heads.tagger, settings.heads, warnings)
    return Engine(searcher, heads.topic, heads.tagger, heads.reader, warnings, settings.web)


def _fulltext(
    searcher: Searcher, tagger: Tagger | None, config: HeadsConfig, warnings: list[str]
) -> FullTextEntities | None:
    """The lazy full-text entity cache, when the index was tagged by the loaded tagger.

    An index directory that cannot be written (read-only deployment) only loses the
    lazy part: a warning, and hits keep their title and lead entities.
    """
    enrichment = searcher.manifest.enrichment or {}
    if not config.lazy_full_text or tagger is None or enrichment.get("tagger") != config.tagger:
        return None
    import sqlite3

    try:
        fulltext = FullTextEntities(
            searcher.index_dir,
            searcher.store,
            tagger,
            str(config.tagger),
            lead_words=searcher.manifest.lead_words,
        )
    except (OSError, sqlite3.Error) as exc:
        warnings.append(
            f"full-text entities off: cannot write the cache in {searcher.index_dir} ({exc})"
        )
        return None
    fulltext.start()
    return fulltext


def get_engine() -> Engine:
    return current_app.extensions["newsrank.engine"]


def get_searcher() -> Searcher:
    return get_engine().searcher
