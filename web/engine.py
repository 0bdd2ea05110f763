"""The search engine behind the app: opened once per process in ``init_app``.

The searcher (index, embedder, reranker, reader) and the two enrichment heads
(topic classifier, entity tagger, for the Analyze page and API) are loaded when
the app is created, never at import and never per request; every handler shares
them (they are safe to call from the WSGI server's threads).

The index is live (``indexer.writer``): a commit by any writer (the write API of
``web.admin``, ``newsrank index add`` in another process) becomes visible near-real
time. :meth:`Engine.current` checks before each search and article lookup whether a
newer commit exists (one ``stat``) and reopens then (only the new segments are
loaded); a poller thread does the same every half second without traffic. A handler
takes the searcher once (:func:`get_searcher`) and uses that one for the whole
request, so a search that started on a commit finishes on it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import weakref

from flask import Flask, current_app, jsonify, render_template, request

from indexer.fulltext import FullTextEntities
from indexer.reader import commit_stamp
from newsrank.config import HeadsConfig, WebConfig
from newsrank.protocols import QuestionAnswerer, Tagger, TopicClassifier
from ranker.budget import Budget
from ranker.request import SearchRequest
from ranker.results import SearchResponse
from ranker.search import Searcher
from web.admission import Overloaded, SearchGate

log = logging.getLogger(__name__)

#: seconds between two checks of the poller for a newer commit
POLL_S = 0.5


class Engine:
    """What the handlers share: the current searcher (reopened when a commit lands),
    the heads the pages use on their own, and the admission gate every search passes
    (``web.admission``).

    ``heads``: the head settings the app was started with (which topic classifier and
    tagger ``topic`` and ``tagger`` are), for the write API (``web.admin``).
    """

    def __init__(
        self,
        searcher: Searcher,
        topic: TopicClassifier | None = None,
        tagger: Tagger | None = None,
        reader: QuestionAnswerer | None = None,
        warnings: list[str] | None = None,
        web: WebConfig | None = None,
        gate: SearchGate | None = None,
        *,
        heads: HeadsConfig | None = None,
    ) -> None:
        self._searcher = searcher
        self.topic, self.tagger, self.reader = topic, tagger, reader
        self.warnings: list[str] = warnings if warnings is not None else []
        self.web = web or WebConfig()
        self.heads = heads
        if gate is None:
            w = self.web
            gate = SearchGate(w.max_searches, w.max_queued, w.queue_wait_s)
        self.gate = gate
        #: one thread reopens at a time; the others wait for its searcher
        self._reopen_lock = threading.Lock()
        #: the commit whose reopen failed (not retried until another commit lands)
        self._failed_stamp: object | None = None
        #: writes through this process, one at a time (``web.admin``)
        self.write_lock = threading.Lock()
        #: the index's own topic classifier and tagger when they are not ``topic`` and
        #: ``tagger`` (loaded on the first write that needs them; ``web.admin``)
        self.index_heads: dict[str, object] = {}
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()
        #: one suggester build at a time; commits landing meanwhile ask for one more
        self._suggest_state = threading.Lock()
        self._suggest_running = False
        self._suggest_again = False

    @property
    def searcher(self) -> Searcher:
        """The searcher over the newest commit this engine has opened (no check)."""
        return self._searcher

    def current(self) -> Searcher:
        """The searcher over the newest commit: reopened first when a newer one exists
        (one ``stat`` when there is none). A reopen that fails keeps the old commit."""
        searcher = self._searcher
        if searcher.index.is_current():
            return searcher
        if self._failed_stamp is not None and _stamp(searcher) == self._failed_stamp:
            return searcher
        return self.refresh()

    def refresh(self) -> Searcher:
        """Reopen the index now if a newer commit exists; return the current searcher.

        The new commit's "did you mean" suggester is built in a background thread; the
        old one answers meanwhile.
        """
        with self._reopen_lock:
            searcher = self._searcher
            try:
                reader = searcher.index.reopen()
            except Exception as exc:  # vanished files, a corrupt commit: keep serving
                self._failed_stamp = _stamp(searcher)
                message = (
                    f"cannot open the newest commit of {searcher.index_dir} ({exc}); still "
                    f"serving generation {searcher.index.generation}"
                )
                log.warning(message)
                return searcher
            self._failed_stamp = None
            if reader is None:
                return searcher
            fresh = searcher.reopened(reader, keep_suggester=True)
            self._searcher = fresh
            log.info(
                "index %s: generation %d (%d articles)",
                reader.directory,
                reader.generation,
                reader.manifest.articles,
            )
        self._schedule_suggester()
        return fresh

    def _schedule_suggester(self) -> None:
        """Build the current commit's suggester in the background. One build runs at a
        time (it reads every text: seconds on the demo); commits that land during it
        are served by the previous suggester and get one more build when it ends, for
        the newest commit only, so a stream of commits never piles builds up."""
        with self._suggest_state:
            if self._suggest_running:
                self._suggest_again = True
                return
            self._suggest_running = True
        threading.Thread(target=_build_suggesters, args=(weakref.ref(self),), daemon=True).start()

    def search(
        self, search_request: SearchRequest, searcher: Searcher | None = None
    ) -> SearchResponse:
        """One search through the gate (``Overloaded`` past it), within the time budget
        (``WebConfig.search_budget_ms``, counted from admission: waiting counts too), on
        ``searcher`` (the request's; default: :meth:`current`)."""
        budget = Budget.of(self.web.search_budget_ms)
        searcher = searcher if searcher is not None else self.current()
        with self.gate.admit():
            return searcher.search(search_request, budget=budget)

    # -- the poller

    def start_polling(self, interval: float = POLL_S) -> None:
        """Check for a newer commit every ``interval`` seconds in a daemon thread (so a
        commit is visible within a second or two even without requests)."""
        if self._poller is not None and self._poller.is_alive():
            return
        self._stop.clear()
        self._poller = threading.Thread(
            target=_poll,
            args=(weakref.ref(self), self._stop, interval),
            name="newsrank-index-poller",
            daemon=True,
        )
        self._poller.start()

    def stop_polling(self, timeout: float | None = 5.0) -> None:
        """Stop the poller thread (if running) and wait for it."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout)
            self._poller = None

    @property
    def polling(self) -> bool:
        return self._poller is not None and self._poller.is_alive()


def _stamp(searcher: Searcher) -> object:
    """What changes when the index commits: the manifest's (inode, mtime); for a sharded
    index, every shard's (``ranker.sharded.ShardedIndex.newest_stamp``)."""
    newest = getattr(searcher.index, "newest_stamp", None)
    return newest() if newest is not None else commit_stamp(searcher.index_dir)


def _poll(ref: weakref.ref[Engine], stop: threading.Event, interval: float) -> None:
    """The poller: holds the engine weakly, so an app that is dropped takes it along."""
    while not stop.wait(interval):
        engine = ref()
        if engine is None:
            return
        try:
            engine.current()
        except Exception as exc:  # a stat that fails, anything: never kill the poller
            log.warning("index poller: %s", exc)
        del engine


def _build_suggesters(ref: weakref.ref[Engine]) -> None:
    """Build the suggester of the engine's current searcher, again while commits keep
    landing during a build (see :meth:`Engine._schedule_suggester`)."""
    while True:
        engine = ref()
        if engine is None:
            return
        searcher = engine.searcher
        del engine
        try:
            searcher.build_suggester()
        except Exception as exc:  # the old suggester keeps answering
            log.warning("cannot build the suggester of %s: %s", searcher.index_dir, exc)
        engine = ref()
        if engine is None:
            return
        with engine._suggest_state:
            if not engine._suggest_again:
                engine._suggest_running = False
                return
            engine._suggest_again = False
        del engine


def init_app(app: Flask) -> None:
    """Open the engine (or take ``ENGINE``); start the index poller for a real app, or
    when ``POLL_INDEX`` is true (tests that pass a ready ``SEARCHER``/``ENGINE`` get
    none unless they ask)."""
    engine = app.config.get("ENGINE")
    ready = engine is not None or app.config.get("SEARCHER") is not None
    if engine is None:
        engine = _load(app)
    app.extensions["newsrank.engine"] = engine
    app.register_error_handler(Overloaded, _overloaded)
    poll = app.config.get("POLL_INDEX")
    if poll or (poll is None and not ready):
        engine.start_polling()


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
        return Engine(searcher, reader=searcher.reader, web=settings.web, heads=settings.heads)
    from heads.loaders import load_heads

    heads = load_heads(settings.heads)
    # "did you mean" is built in the background (it reads every text: about 15 s per
    # 100,000 passages), so the server answers at once, without suggestions until then
    searcher = Searcher.open(
        app.config["INDEX_DIR"],
        config=dataclasses.replace(settings.search, suggest_wait=False),
        reranker=heads.reranker,
        reader=heads.reader,
        heads=settings.heads,
    )
    warnings = list(heads.warnings)
    searcher.fulltext = _fulltext(searcher, heads.tagger, settings.heads, warnings)
    engine = Engine(
        searcher,
        heads.topic,
        heads.tagger,
        heads.reader,
        warnings,
        settings.web,
        heads=settings.heads,
    )
    engine._schedule_suggester()
    # the near-duplicate groups too (seconds at a million passages): until they are
    # ready, searches are answered without collapsing copies
    searcher.index.warm_duplicates()
    return engine


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
    """The request's searcher: the newest commit's (take it once per request)."""
    return get_engine().current()
