"""Full-text entities, lazily: the part of each article the index build did not tag.

The index build tags the title and the lead (``indexer.enrich``): that is what fits
the first ``make demo`` on 2 cores. The rest of an article's text is tagged *when the
article is first shown* in search results: the search queues it, a background worker
thread tags it, and the entities go into a cache, ``fulltext-entities.sqlite`` in the
index directory, keyed by the digest of each article's text, so that it survives
segment changes (merges renumber articles) and can never describe a text that
changed. Until an article is done, its hits carry the title and lead entities only;
afterwards they carry all of them. ``newsrank index enrich-rest`` fills the
cache for every article ahead of time.

Filters and facets stay on the index-time entities (``FoundEntity.in_index``), so
their counts do not change with what happened to be viewed; the page offers the later
ones as searches for their name instead of filters.

>>> rest_of("one two three four", lead_words=2)
(7, ' three four')
>>> rest_of("one two", lead_words=2)
(7, '')
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from indexer.enrich import lead
from indexer.store import ArticleStore
from newsrank.config import IndexConfig
from newsrank.protocols import Tagger
from newsrank.types import FoundEntity

CACHE = "fulltext-entities.sqlite"
#: keys per ``IN (...)`` query (SQLite allows 999 parameters in old builds)
MAX_PARAMS = 900
SCHEMA = """
CREATE TABLE IF NOT EXISTS done (key TEXT PRIMARY KEY, tagger TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entities (
    key TEXT NOT NULL, type TEXT NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, score REAL
);
CREATE INDEX IF NOT EXISTS entities_key ON entities(key);
"""


def rest_of(text: str, lead_words: int = IndexConfig.lead_words) -> tuple[int, str]:
    """``(offset, rest)``: the text after its lead, and where that starts."""
    start = len(lead(text, lead_words))
    return start, text[start:]


class FullTextEntities:
    """The lazily filled cache of full-text entities of one index.

    Keyed by each article's text digest (``StoredArticle.digest``), not by its number
    in a commit: the cache stays valid across segment changes (a merge renumbers
    articles) and a replaced article with a new text is simply not found. Methods that
    take article numbers also take the :class:`ArticleStore` those numbers belong to
    (the caller's commit). ``tagger`` is any object with ``tag(texts) -> [[Entity]]``
    (``EntityTagger``); ``tagger_name`` is recorded with each article so that a cache
    filled by another tagger is not mixed in. Safe to use from several threads; only
    the worker (or ``tag_articles``) writes.
    """

    def __init__(
        self,
        index_dir: str | Path,
        tagger: Tagger,
        tagger_name: str,
        lead_words: int = IndexConfig.lead_words,
        batch: int = 4,
    ) -> None:
        self.path = Path(index_dir) / CACHE
        self.tagger, self.tagger_name = tagger, tagger_name
        self.lead_words, self.batch = lead_words, batch
        self._local = threading.local()
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self.errors: list[str] = []
        conn = sqlite3.connect(self.path)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            conn.commit()
        finally:
            conn.close()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._local.conn = conn
        return conn

    def done(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` (text digests) have their full text tagged (by this tagger).

        Asked in chunks, so that a whole corpus stays under SQLite's bound on the
        number of query parameters.
        """
        keys = list(keys)
        out: set[str] = set()
        for first in range(0, len(keys), MAX_PARAMS):
            chunk = keys[first : first + MAX_PARAMS]
            rows = self._conn().execute(
                f"SELECT key FROM done WHERE tagger = ? AND key IN ({','.join('?' * len(chunk))})",
                [self.tagger_name, *chunk],
            )
            out.update(r[0] for r in rows)
        return out

    def count(self) -> int:
        """How many texts have their full text tagged."""
        sql = "SELECT COUNT(*) FROM done WHERE tagger = ?"
        return int(self._conn().execute(sql, (self.tagger_name,)).fetchone()[0])

    def cached(
        self, store: ArticleStore, nums: Sequence[int], queue_missing: bool = False
    ) -> dict[int, list[FoundEntity]]:
        """Entities of the rest of the text, for the articles of ``nums`` (numbers of
        ``store``) that are done; ``queue_missing``: also queue the others for the
        worker (what a search does)."""
        keys = store.digests(nums)
        ready = self.done(keys.values())
        if queue_missing:
            self._enqueue(store, [n for n, k in keys.items() if k not in ready])
        out: dict[int, list[FoundEntity]] = {n: [] for n, k in keys.items() if k in ready}
        if not out:
            return out
        by_key: dict[str, list[FoundEntity]] = {k: [] for k in ready}
        marks = ",".join("?" * len(ready))
        rows = self._conn().execute(
            f"SELECT key, type, text, start, end, score FROM entities "
            f"WHERE key IN ({marks}) ORDER BY key, start",
            sorted(ready),
        )
        for key, *entity in rows:
            by_key[key].append(FoundEntity(*entity, field="text", in_index=False))
        return {n: by_key[keys[n]] for n in out}

    def request(self, store: ArticleStore, nums: Iterable[int]) -> int:
        """Queue the articles of ``nums`` not done yet; returns how many were queued."""
        keys = store.digests(list(nums))
        ready = self.done(keys.values())
        return self._enqueue(store, [n for n, k in keys.items() if k not in ready])

    def _enqueue(self, store: ArticleStore, nums: Sequence[int]) -> int:
        """Queue the texts of ``nums`` that are not queued already."""
        if not nums:
            return 0
        articles = store.articles(nums)
        with self._lock:
            todo = {a.digest: a.text for a in articles.values() if a.digest not in self._pending}
            self._pending |= set(todo)
        for key in sorted(todo):
            self._queue.put((key, todo[key]))
        return len(todo)

    def tag_articles(self, store: ArticleStore, nums: Sequence[int]) -> int:
        """Tag the rest of the text of ``nums`` now and cache it; returns how many."""
        articles = store.articles(nums)
        return self._tag({a.digest: a.text for a in articles.values()})

    def _tag(self, texts: dict[str, str]) -> int:
        keys = sorted(set(texts) - self.done(texts))
        for first in range(0, len(keys), self.batch):
            chunk = keys[first : first + self.batch]
            rests = [rest_of(texts[k], self.lead_words) for k in chunk]
            found = self.tagger.tag([r for _, r in rests])
            conn = self._conn()
            with conn:
                for key, (offset, _), ents in zip(chunk, rests, found, strict=True):
                    moved = [FoundEntity.of(e, "text", offset, in_index=False) for e in ents]
                    conn.execute("DELETE FROM entities WHERE key = ?", (key,))
                    conn.executemany(
                        "INSERT INTO entities VALUES (?,?,?,?,?,?)",
                        ((key, e.type, e.text, e.start, e.end, e.score) for e in moved),
                    )
                    conn.execute(
                        "INSERT OR REPLACE INTO done VALUES (?, ?)", (key, self.tagger_name)
                    )
        return len(keys)

    def run_pending(self, limit: int | None = None) -> int:
        """Tag queued articles in this thread (at most ``limit``); returns how many."""
        taken = self._take(limit)
        try:
            return self._tag(dict(taken))
        finally:
            self._release(taken)

    def _take(self, limit: int | None) -> list[tuple[str, str]]:
        """Queued texts, without waiting, up to ``limit``; a stop request stays queued."""
        taken: list[tuple[str, str]] = []
        while limit is None or len(taken) < limit:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # for the worker, which stops on it
                break
            taken.append(item)
        return taken

    def _release(self, items: list[tuple[str, str]]) -> None:
        with self._lock:
            self._pending -= {key for key, _ in items}

    def start(self) -> None:
        """Start the background worker (a daemon thread; idempotent)."""
        if self._worker is not None and self._worker.is_alive():
            return
        self._worker = threading.Thread(target=self._work, name="fulltext-entities", daemon=True)
        self._worker.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker after the article it is on."""
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout)
            self._worker = None

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            batch = [item, *self._take(self.batch - 1)]
            try:
                self._tag(dict(batch))
            except Exception as exc:  # keep serving; the failure is reported on /api/health
                self.errors = [*self.errors[-9:], f"texts {[k[:8] for k, _ in batch]}: {exc}"]
            finally:
                self._release(batch)
