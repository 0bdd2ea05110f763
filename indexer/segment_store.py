"""One segment's article store: a SQLite file of articles, passages and labels.

Written once, in one transaction, when the segment is written (:mod:`indexer.segment`),
and never changed afterwards, so readers open it ``immutable`` (no locking, no journal)
with one connection per thread. Numbers here are the segment's own: article rows and
passage ids from 0. Deleted articles are not known here; callers that aggregate over
the whole segment pass the deleted rows to leave out (``exclude``), and
:class:`indexer.store.ArticleStore` composes the segments of a commit.

>>> import tempfile, pathlib
>>> from indexer.article import Article
>>> path = pathlib.Path(tempfile.mkdtemp()) / "store.sqlite"
>>> write_store(path, [Article("a", "T", "one two")], [[(0, 7)]])
(1, 1)
>>> s = SegmentStore(path)
>>> s.passage_spans.tolist(), s.num_of("a"), s.num_of("b")
([[0, 7]], 0, None)
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from indexer.article import Article
from newsrank.errors import IndexNotFoundError
from newsrank.types import ArticleLabels, FoundEntity

SCHEMA = """
CREATE TABLE articles (
    num INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    date TEXT,
    source TEXT,
    url TEXT,
    category TEXT,
    digest TEXT NOT NULL
);
CREATE TABLE passages (
    pid INTEGER PRIMARY KEY,
    article INTEGER NOT NULL REFERENCES articles(num),
    ord INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE TABLE topics (
    article INTEGER PRIMARY KEY REFERENCES articles(num),
    label TEXT NOT NULL,
    score REAL NOT NULL
);
CREATE TABLE entities (
    article INTEGER NOT NULL REFERENCES articles(num),
    field TEXT NOT NULL,
    type TEXT NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    score REAL NOT NULL
);
CREATE INDEX passages_article ON passages(article);
CREATE INDEX topics_label ON topics(label);
CREATE INDEX entities_article ON entities(article);
CREATE INDEX entities_key ON entities(type, text);
CREATE INDEX articles_source ON articles(source);
CREATE INDEX articles_date ON articles(date);
"""

#: article rows per ``IN (...)`` query (old SQLite builds allow 999 parameters)
MAX_PARAMS = 900

#: an entity filter resolved by the caller: the ``(type, text)`` rows that match it
#: exactly, or ``(type, text)`` to match in any case (a name no merged group knows)
EntityFilter = tuple[str, object]


def text_digest(text: str) -> str:
    """The key of an article's text (sha1, hex): the full-text entity cache keys by it,
    so it survives merges (new row numbers) and never serves a changed text.

    >>> text_digest("abc")[:12]
    'a9993e364706'
    """
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class StoredArticle:
    num: int
    id: str
    title: str
    text: str
    date: str | None
    source: str | None
    url: str | None
    category: str | None
    digest: str = ""


def write_store(
    path: Path,
    articles: Sequence[Article],
    spans: Sequence[Sequence[tuple[int, int]]],
    labels: Sequence[ArticleLabels] | None = None,
) -> tuple[int, int]:
    """Write articles, passage spans and labels in one transaction; return the counts.

    Passage ids are assigned in order (article by article), and are the row
    numbers of the segment's lexical and dense parts built from the same order.
    ``labels`` (topic, entities; one per article) may be None when enrichment is skipped.
    """
    if len(articles) != len(spans) or (labels is not None and len(labels) != len(articles)):
        raise ValueError(f"{len(articles)} articles but {len(spans)} span lists / labels")
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executescript(SCHEMA)
            conn.executemany(
                "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    (n, a.id, a.title, a.text, a.date, a.source, a.url, a.category)
                    + (text_digest(a.text),)
                    for n, a in enumerate(articles)
                ),
            )
            rows = [
                (n, ord_, start, end)
                for n, article_spans in enumerate(spans)
                for ord_, (start, end) in enumerate(article_spans)
            ]
            conn.executemany(
                "INSERT INTO passages VALUES (?,?,?,?,?)",
                ((pid, *row) for pid, row in enumerate(rows)),
            )
            for n, label in enumerate(labels or []):
                if label.topic is not None:
                    conn.execute(
                        "INSERT INTO topics VALUES (?,?,?)", (n, label.topic, label.topic_score)
                    )
                conn.executemany(
                    "INSERT INTO entities VALUES (?,?,?,?,?,?,?)",
                    ((n, e.field, e.type, e.text, e.start, e.end, e.score) for e in label.entities),
                )
    finally:
        conn.close()
    return len(articles), len(rows)


def _marks(values: Sequence) -> str:
    return ",".join("?" * len(values))


def _chunks(nums: Sequence[int]) -> Iterator[list[int]]:
    nums = [int(n) for n in nums]
    for first in range(0, len(nums), MAX_PARAMS):
        yield nums[first : first + MAX_PARAMS]


class SegmentStore:
    """Read access to one segment's store (thread-safe; segment-local numbers)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise IndexNotFoundError(f"article store {self.path} is missing; rebuild the index")
        self._local = threading.local()
        self.n_articles = int(self._conn().execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        labelled = self._conn().execute("SELECT EXISTS (SELECT 1 FROM topics)").fetchone()[0]
        tagged = self._conn().execute("SELECT EXISTS (SELECT 1 FROM entities)").fetchone()[0]
        #: whether any article of the segment carries a topic or an entity
        self.labelled = bool(labelled or tagged)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            uri = f"file:{self.path}?mode=ro&immutable=1"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    @cached_property
    def _passages(self) -> np.ndarray:
        """``(article, start, end)`` per passage id, read on first use (a writer that only
        looks ids up never reads it)."""
        rows = self._conn().execute("SELECT article, start, end FROM passages ORDER BY pid")
        return np.array(rows.fetchall(), dtype=np.int64).reshape(-1, 3)

    @property
    def passage_article(self) -> np.ndarray:
        """Passage id -> article row number."""
        return self._passages[:, 0]

    @property
    def passage_spans(self) -> np.ndarray:
        """Passage id -> ``(start, end)`` in its article's text."""
        return self._passages[:, 1:]

    @property
    def n_passages(self) -> int:
        return len(self._passages)

    def _rows(self, sql: str, nums: Sequence[int], *params: object) -> list[tuple]:
        """``sql`` (with ``{marks}`` for the article rows) run chunk by chunk over ``nums``."""
        out: list[tuple] = []
        for chunk in _chunks(nums):
            out += self._conn().execute(sql.format(marks=_marks(chunk)), [*params, *chunk])
        return out

    def articles(self, nums: Sequence[int]) -> dict[int, StoredArticle]:
        """Fetch articles by row number."""
        sql = "SELECT * FROM articles WHERE num IN ({marks})"
        return {row[0]: StoredArticle(*row) for row in self._rows(sql, nums)}

    def column(self, column: str, nums: Sequence[int]) -> dict[int, object]:
        """One column (``id``, ``date``, ``digest``...) of the given rows."""
        if column not in ("id", "date", "digest", "source", "title"):
            raise ValueError(f"column={column!r}: not a readable article column")
        return dict(
            self._rows(f"SELECT num, {column} FROM articles WHERE num IN ({{marks}})", nums)
        )

    def num_of(self, article_id: str) -> int | None:
        """The row number of the article with this id, or None when there is none."""
        row = self._conn().execute("SELECT num FROM articles WHERE id = ?", (article_id,))
        found = row.fetchone()
        return None if found is None else int(found[0])

    def nums_of(self, article_ids: Sequence[str]) -> dict[str, int]:
        """``{id: row}`` of the ids this segment holds."""
        out: dict[str, int] = {}
        ids = list(article_ids)
        for first in range(0, len(ids), MAX_PARAMS):
            chunk = ids[first : first + MAX_PARAMS]
            sql = f"SELECT id, num FROM articles WHERE id IN ({_marks(chunk)})"
            out.update(self._conn().execute(sql, chunk))
        return out

    def passages_of(self, nums: Sequence[int]) -> int:
        """How many passages the given article rows have (an indexed count: cheaper than
        reading the passage table)."""
        sql = "SELECT COUNT(*) FROM passages WHERE article IN ({marks})"
        return sum(int(n) for (n,) in self._rows(sql, nums))

    def article_mask(
        self,
        sources: Sequence[str] = (),
        date_from: str | None = None,
        date_to: str | None = None,
        topics: Sequence[str] = (),
        entities: Sequence[EntityFilter] = (),
    ) -> np.ndarray | None:
        """Boolean mask over the segment's article rows matching the filters, or None when
        unfiltered (see :meth:`indexer.store.ArticleStore.article_mask`)."""
        where, params = [], []
        if sources:
            where.append(f"lower(source) IN ({_marks(sources)})")
            params.extend(s.lower() for s in sources)
        if topics:
            where.append(
                f"num IN (SELECT article FROM topics WHERE lower(label) IN ({_marks(topics)}))"
            )
            params.extend(t.lower() for t in topics)
        for kind, value in entities:
            if kind == "any-case":
                type_, text = value  # type: ignore[misc]
                where.append(
                    "num IN (SELECT article FROM entities WHERE type = ? AND lower(text) = ?)"
                )
                params.extend((type_, text.lower()))
            else:
                variants = list(value)  # type: ignore[call-overload]
                alternatives = " OR ".join(["(type = ? AND text = ?)"] * len(variants))
                where.append(f"num IN (SELECT article FROM entities WHERE {alternatives})")
                params.extend(v for variant in variants for v in variant)
        if date_from:
            where.append("date >= ?")
            params.append(date_from)
        if date_to:
            where.append("date <= ?")
            params.append(date_to)
        if not where:
            return None
        rows = self._conn().execute(f"SELECT num FROM articles WHERE {' AND '.join(where)}", params)
        mask = np.zeros(self.n_articles, dtype=bool)
        mask[[r[0] for r in rows]] = True
        return mask

    def labels(self, nums: Sequence[int]) -> dict[int, ArticleLabels]:
        """Topic and entities of the given articles (empty labels when not enriched)."""
        nums = [int(n) for n in nums]
        out = {n: ArticleLabels() for n in nums}
        if not nums:
            return out
        topics = {
            a: (label, score)
            for a, label, score in self._rows(
                "SELECT article, label, score FROM topics WHERE article IN ({marks})", nums
            )
        }
        found: dict[int, list[FoundEntity]] = {n: [] for n in nums}
        rows = self._rows(
            "SELECT article, type, text, start, end, score, field FROM entities "
            "WHERE article IN ({marks}) ORDER BY article, field DESC, start",
            nums,
        )
        for article, *entity in rows:
            found[article].append(FoundEntity(*entity))
        for n in nums:
            label, score = topics.get(n, (None, None))
            out[n] = ArticleLabels(label, score, found[n])
        return out

    # -- aggregates: ``exclude`` is the rows to leave out (the segment's deleted articles)

    @staticmethod
    def _live(exclude: Sequence[int], column: str = "num") -> tuple[str, list]:
        if len(exclude) == 0:
            return "1", []
        return f"{column} NOT IN (SELECT value FROM json_each(?))", [
            json.dumps([int(n) for n in exclude])
        ]

    def entity_counts(self, exclude: Sequence[int] = ()) -> list[tuple[str, str, int]]:
        """``(type, text, articles naming it)`` over the live articles."""
        live, params = self._live(exclude, "article")
        sql = f"SELECT type, text, COUNT(DISTINCT article) FROM entities WHERE {live} "
        return self._conn().execute(sql + "GROUP BY type, text", params).fetchall()

    def count_by(self, facet: str, nums: Sequence[int]) -> list[tuple[str, int]]:
        """``(value, articles)`` of ``facet`` (``topic``, ``source``, ``month``) over
        ``nums``."""
        sql = {
            "topic": "SELECT label, COUNT(*) FROM topics WHERE article IN ({marks}) GROUP BY 1",
            "source": "SELECT source, COUNT(*) FROM articles WHERE num IN ({marks}) "
            "AND source IS NOT NULL GROUP BY 1",
            "month": "SELECT substr(date, 1, 7), COUNT(*) FROM articles WHERE num IN ({marks}) "
            "AND date IS NOT NULL GROUP BY 1",
        }[facet]
        return self._rows(sql, nums)

    def entity_pairs(self, nums: Sequence[int]) -> list[tuple[int, str, str]]:
        """Distinct ``(article, type, text)`` over ``nums``."""
        sql = "SELECT DISTINCT article, type, text FROM entities WHERE article IN ({marks})"
        return self._rows(sql, nums)

    def iter_texts(
        self, exclude: Sequence[int] = (), batch: int = 256
    ) -> Iterator[tuple[str, str]]:
        """Every live article's ``(title, text)``, in row order, read ``batch`` at a time."""
        live, params = self._live(exclude)
        cursor = self._conn().execute(
            f"SELECT title, text FROM articles WHERE {live} ORDER BY num", params
        )
        while rows := cursor.fetchmany(batch):
            yield from rows

    def source_summary(
        self, exclude: Sequence[int] = ()
    ) -> list[tuple[str | None, int, int, str | None, str | None]]:
        """``(source, articles, undated, first date, last date)`` per source."""
        live, params = self._live(exclude)
        rows = self._conn().execute(
            f"SELECT source, COUNT(*), SUM(date IS NULL), MIN(date), MAX(date) FROM articles "
            f"WHERE {live} GROUP BY source",
            params,
        )
        return [(s, int(n), int(u or 0), lo, hi) for s, n, u, lo, hi in rows.fetchall()]
