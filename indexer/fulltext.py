"""Full-text entities, lazily: the part of each article the index build did not tag.

The index build tags the title and the lead (``indexer.enrich``): that is what fits
the first ``make demo`` on 2 cores. The rest of an article's text is tagged *when the
article is first shown* in search results: the search queues it, a background worker
thread tags it, and the entities go into a cache, ``fulltext.sqlite`` in the index
directory. A rebuild swaps the whole directory, so the cache can never describe text
that changed. Until an article is done, its hits carry the title and lead entities
only; afterwards they carry all of them. ``newsrank index enrich-rest`` fills the
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

CACHE = "fulltext.sqlite"
#: article numbers per ``IN (...)`` query (SQLite allows 999 parameters in old builds)
MAX_PARAMS = 900
SCHEMA = """
CREATE TABLE IF NOT EXISTS done (article INTEGER PRIMARY KEY, tagger TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entities (
    article INTEGER NOT NULL, type TEXT NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, score REAL
);
CREATE INDEX IF NOT EXISTS entities_article ON entities(article);
"""


def rest_of(text: str, lead_words: int = IndexConfig.lead_words) -> tuple[int, str]:
    """``(offset, rest)``: the text after its lead, and where that starts."""
    start = len(lead(text, lead_words))
    return start, text[start:]


class FullTextEntities:
    """The lazily filled cache of full-text entities of one index.

    ``tagger`` is any object with ``tag(texts) -> [[Entity]]`` (``EntityTagger``);
    ``tagger_name`` is recorded with each article so that a cache filled by another
    tagger is not mixed in. Safe to use from several threads; only the worker writes.
    """

    def __init__(
        self,
        index_dir: str | Path,
        store: ArticleStore,
        tagger: Tagger,
        tagger_name: str,
        lead_words: int = IndexConfig.lead_words,
        batch: int = 4,
    ) -> None:
        self.path = Path(index_dir) / CACHE
        self.store, self.tagger, self.tagger_name = store, tagger, tagger_name
        self.lead_words, self.batch = lead_words, batch
        self._local = threading.local()
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._pending: set[int] = set()
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

    def done(self, nums: Iterable[int]) -> set[int]:
        """Which of ``nums`` have their full text tagged (by this tagger).

        Asked in chunks, so that a whole corpus stays under SQLite's bound on the
        number of query parameters.
        """
        nums = [int(n) for n in nums]
        out: set[int] = set()
        for first in range(0, len(nums), MAX_PARAMS):
            chunk = nums[first : first + MAX_PARAMS]
            rows = self._conn().execute(
                f"SELECT article FROM done WHERE tagger = ? AND article IN "
                f"({','.join('?' * len(chunk))})",
                [self.tagger_name, *chunk],
            )
            out.update(r[0] for r in rows)
        return out

    def count(self) -> int:
        """How many articles have their full text tagged."""
        sql = "SELECT COUNT(*) FROM done WHERE tagger = ?"
        return int(self._conn().execute(sql, (self.tagger_name,)).fetchone()[0])

    def cached(
        self, nums: Sequence[int], queue_missing: bool = False
    ) -> dict[int, list[FoundEntity]]:
        """Entities of the rest of the text, for the articles of ``nums`` that are done;
        ``queue_missing``: also queue the others for the worker (what a search does)."""
        ready = sorted(self.done(nums))
        if queue_missing:
            self._enqueue(set(int(n) for n in nums) - set(ready))
        out: dict[int, list[FoundEntity]] = {n: [] for n in ready}
        if not ready:
            return out
        marks = ",".join("?" * len(ready))
        rows = self._conn().execute(
            f"SELECT article, type, text, start, end, score FROM entities "
            f"WHERE article IN ({marks}) ORDER BY article, start",
            ready,
        )
        for article, *entity in rows:
            out[article].append(FoundEntity(*entity, field="text", in_index=False))
        return out

    def request(self, nums: Iterable[int]) -> int:
        """Queue the articles of ``nums`` not done yet; returns how many were queued."""
        nums = [int(n) for n in nums]
        return self._enqueue(set(nums) - self.done(nums))

    def _enqueue(self, todo: set[int]) -> int:
        """Queue the articles of ``todo`` that are not queued already."""
        with self._lock:
            todo = todo - self._pending
            self._pending |= todo
        for n in sorted(todo):
            self._queue.put(n)
        return len(todo)

    def tag_articles(self, nums: Sequence[int]) -> int:
        """Tag the rest of the text of ``nums`` now and cache it; returns how many."""
        nums = sorted(set(int(n) for n in nums) - self.done(nums))
        for first in range(0, len(nums), self.batch):
            chunk = nums[first : first + self.batch]
            articles = self.store.articles(chunk)
            rests = [rest_of(articles[n].text, self.lead_words) for n in chunk]
            found = self.tagger.tag([r for _, r in rests])
            conn = self._conn()
            with conn:
                for n, (offset, _), ents in zip(chunk, rests, found, strict=True):
                    moved = [FoundEntity.of(e, "text", offset, in_index=False) for e in ents]
                    conn.executemany(
                        "INSERT INTO entities VALUES (?,?,?,?,?,?)",
                        ((n, e.type, e.text, e.start, e.end, e.score) for e in moved),
                    )
                    conn.execute("INSERT OR REPLACE INTO done VALUES (?, ?)", (n, self.tagger_name))
        return len(nums)

    def run_pending(self, limit: int | None = None) -> int:
        """Tag queued articles in this thread (at most ``limit``); returns how many."""
        taken = self._take(limit)
        try:
            return self.tag_articles(taken)
        finally:
            self._release(taken)

    def _take(self, limit: int | None) -> list[int]:
        """Queued articles, without waiting, up to ``limit``; a stop request stays queued."""
        taken: list[int] = []
        while limit is None or len(taken) < limit:
            try:
                n = self._queue.get_nowait()
            except queue.Empty:
                break
            if n is None:
                self._queue.put(None)  # for the worker, which stops on it
                break
            taken.append(n)
        return taken

    def _release(self, nums: list[int]) -> None:
        with self._lock:
            self._pending -= set(nums)

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
        while (n := self._queue.get()) is not None:
            batch = [n, *self._take(self.batch - 1)]
            try:
                self.tag_articles(batch)
            except Exception as exc:  # keep serving; the failure is reported on /api/health
                self.errors = [*self.errors[-9:], f"articles {batch}: {exc}"]
            finally:
                self._release(batch)
