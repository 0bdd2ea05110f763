"""The article store: one SQLite file holding articles and their passages.

Written once, transactionally, by the index builder; read by the searcher through
one read-only connection per thread.

>>> import tempfile, pathlib
>>> from indexer.article import Article
>>> path = pathlib.Path(tempfile.mkdtemp()) / "store.sqlite"
>>> write_store(path, [Article("a", "T", "one two")], [[(0, 7)]])
(1, 1)
>>> s = ArticleStore(path)
>>> s.passage_text(0)
'one two'
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.article import Article
from indexer.entity_names import EntityGroups, merge_entities
from indexer.entity_names import label as entity_label
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
    category TEXT
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


def write_store(
    path: Path,
    articles: Sequence[Article],
    spans: Sequence[Sequence[tuple[int, int]]],
    labels: Sequence[ArticleLabels] | None = None,
) -> tuple[int, int]:
    """Write articles, passage spans and labels in one transaction; return the counts.

    Passage ids are assigned in order (article by article), and are the row
    numbers of the BM25 and FAISS indexes built from the same order. ``labels``
    (topic, entities; one per article) may be None when enrichment is skipped.
    """
    if len(articles) != len(spans) or (labels is not None and len(labels) != len(articles)):
        raise ValueError(f"{len(articles)} articles but {len(spans)} span lists / labels")
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executescript(SCHEMA)
            conn.executemany(
                "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?)",
                (
                    (n, a.id, a.title, a.text, a.date, a.source, a.url, a.category)
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


class ArticleStore:
    """Read access to a store written by :func:`write_store` (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise IndexNotFoundError(f"article store {self.path} is missing; rebuild the index")
        self._local = threading.local()
        rows = self._conn().execute("SELECT article, start, end FROM passages ORDER BY pid")
        table = np.array(rows.fetchall(), dtype=np.int64).reshape(-1, 3)
        #: passage id -> article row number
        self.passage_article: np.ndarray = table[:, 0]
        self._passage_spans = table[:, 1:]
        self.n_articles = int(self._conn().execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        tables = {r[0] for r in self._conn().execute("SELECT name FROM sqlite_master")}
        #: False for stores written before enrichment existed: they read as unlabelled
        self.has_labels = {"topics", "entities"} <= tables
        self._groups: EntityGroups | None = None  # entity_groups(), read on first use
        self._groups_lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    @property
    def n_passages(self) -> int:
        return len(self.passage_article)

    def _article_rows(self, columns: str, nums: Sequence[int]) -> list[tuple]:
        """``SELECT columns`` of the articles with the given row numbers."""
        nums = [int(n) for n in nums]
        if not nums:
            return []
        marks = ",".join("?" * len(nums))
        sql = f"SELECT {columns} FROM articles WHERE num IN ({marks})"
        return self._conn().execute(sql, nums).fetchall()

    def articles(self, nums: Sequence[int]) -> dict[int, StoredArticle]:
        """Fetch articles by row number."""
        return {row[0]: StoredArticle(*row) for row in self._article_rows("*", nums)}

    def num_of(self, article_id: str) -> int | None:
        """The row number of the article with this id, or None when there is none."""
        row = self._conn().execute("SELECT num FROM articles WHERE id = ?", (article_id,))
        found = row.fetchone()
        return None if found is None else int(found[0])

    def ids(self, nums: Sequence[int]) -> dict[int, str]:
        """Article ids by row number (without fetching the texts)."""
        return dict(self._article_rows("num, id", nums))

    def passage_span(self, pid: int) -> tuple[int, int]:
        start, end = self._passage_spans[pid]
        return int(start), int(end)

    def passage_text(self, pid: int) -> str:
        start, end = self.passage_span(pid)
        num = int(self.passage_article[pid])
        return self.articles([num])[num].text[start:end]

    def article_mask(
        self,
        sources: Sequence[str] = (),
        date_from: str | None = None,
        date_to: str | None = None,
        topics: Sequence[str] = (),
        entities: Sequence[tuple[str, str]] = (),
    ) -> np.ndarray | None:
        """Boolean mask over article rows matching the filters, or None when unfiltered.

        Sources, topics and entities match case-insensitively; dates are inclusive
        ISO strings, and an article without a date never matches a date filter.
        Several values of one filter are alternatives, except entities: an article
        must name every (type, text) entity given, where an entity is the merged group
        of :meth:`entity_groups` (its case variants, aliases and types: what its facet
        counted), or, for a name no group knows, that type and text in any case.
        """
        where, params = [], []
        if sources:
            where.append(f"lower(source) IN ({','.join('?' * len(sources))})")
            params.extend(s.lower() for s in sources)
        if (topics or entities) and not self.has_labels:
            where.append("0")  # nothing is labelled, so nothing matches a label filter
        elif topics:
            marks = ",".join("?" * len(topics))
            where.append(f"num IN (SELECT article FROM topics WHERE lower(label) IN ({marks}))")
            params.extend(t.lower() for t in topics)
        for type_, text in entities if self.has_labels else ():
            group = self.entity_groups().find(type_.upper(), text)
            if group is None:
                where.append(
                    "num IN (SELECT article FROM entities WHERE type = ? AND lower(text) = ?)"
                )
                params.extend((type_.upper(), text.lower()))
            else:
                alternatives = " OR ".join(["(type = ? AND text = ?)"] * len(group.variants))
                where.append(f"num IN (SELECT article FROM entities WHERE {alternatives})")
                params.extend(v for variant in group.variants for v in variant)
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
        if not nums or not self.has_labels:
            return out
        marks = ",".join("?" * len(nums))
        conn = self._conn()
        topics = {
            a: (label, score)
            for a, label, score in conn.execute(
                f"SELECT article, label, score FROM topics WHERE article IN ({marks})", nums
            )
        }
        found: dict[int, list[FoundEntity]] = {n: [] for n in nums}
        rows = conn.execute(
            f"SELECT article, type, text, start, end, score, field FROM entities "
            f"WHERE article IN ({marks}) ORDER BY article, field DESC, start",
            nums,
        )
        for article, *entity in rows:
            found[article].append(FoundEntity(*entity))
        for n in nums:
            label, score = topics.get(n, (None, None))
            out[n] = ArticleLabels(label, score, found[n])
        return out

    def entity_groups(self) -> EntityGroups:
        """The index's entities with their case variants, aliases and types merged
        (:mod:`indexer.entity_names`), read once on first use."""
        with self._groups_lock:
            if self._groups is None:
                rows = (
                    self._conn().execute(
                        "SELECT type, text, COUNT(DISTINCT article) FROM entities "
                        "GROUP BY type, text"
                    )
                    if self.has_labels
                    else []
                )
                self._groups = merge_entities(rows)
            return self._groups

    def facet_counts(self, nums: Sequence[int], top_entities: int = 12) -> dict[str, dict]:
        """Counts of topic, source and entity over the given articles.

        ``entity``: ``{"TYPE=text": articles}`` for the ``top_entities`` most named
        entities, each the merged group of :meth:`entity_groups` under its key (its
        filter matches the same articles); ``entity_labels``: ``{"TYPE=text": "text ·
        kind"}`` for the same keys.
        """
        nums = [int(n) for n in nums]
        facets: dict[str, dict] = {"topic": {}, "source": {}, "entity": {}, "entity_labels": {}}
        if not nums:
            return facets
        marks = ",".join("?" * len(nums))
        queries = {
            "topic": f"SELECT label, COUNT(*) FROM topics WHERE article IN ({marks}) "
            "GROUP BY label ORDER BY 2 DESC, 1",
            "source": f"SELECT source, COUNT(*) FROM articles WHERE num IN ({marks}) "
            "AND source IS NOT NULL GROUP BY source ORDER BY 2 DESC, 1",
        }
        for name, sql in queries.items():
            if name == "source" or self.has_labels:
                facets[name] = dict(self._conn().execute(sql, nums).fetchall())
        if self.has_labels:
            facets["entity"], facets["entity_labels"] = self._entity_facet(nums, top_entities)
        return facets

    def _entity_facet(self, nums: list[int], top: int) -> tuple[dict[str, int], dict[str, str]]:
        """Articles naming each merged entity (the ``top`` most named), and the labels."""
        groups = self.entity_groups().by_variant
        marks = ",".join("?" * len(nums))
        rows = self._conn().execute(
            f"SELECT DISTINCT article, type, text FROM entities WHERE article IN ({marks})", nums
        )
        labels: dict[str, str] = {}
        named = set()
        for article, type_, text in rows:
            group = groups.get((type_, text))
            key = group.key if group is not None else f"{type_}={text}"
            labels[key] = group.label if group is not None else entity_label(type_, text)
            named.add((article, key))
        counts = Counter(key for _, key in named)
        best = sorted(counts.items(), key=lambda kn: (-kn[1], kn[0]))[: int(top)]
        return dict(best), {key: labels[key] for key, _ in best}

    def iter_texts(self, batch: int = 256) -> Iterator[tuple[str, str]]:
        """Every article's ``(title, text)``, in row order, read ``batch`` at a time."""
        cursor = self._conn().execute("SELECT title, text FROM articles ORDER BY num")
        while rows := cursor.fetchmany(batch):
            yield from rows

    def source_counts(self) -> dict[str, int]:
        rows = self._conn().execute(
            "SELECT source, COUNT(*) FROM articles WHERE source IS NOT NULL GROUP BY source"
        )
        return dict(rows.fetchall())

    def dates(self, nums: Sequence[int]) -> dict[int, str | None]:
        """Publication dates (``YYYY-MM-DD`` or None) by row number."""
        return dict(self._article_rows("num, date", nums))

    def date_range(self) -> tuple[str | None, str | None]:
        """The oldest and newest date in the index (None, None when nothing is dated)."""
        row = self._conn().execute("SELECT MIN(date), MAX(date) FROM articles").fetchone()
        return row[0], row[1]

    def month_counts(self, nums: Sequence[int]) -> dict[str, int]:
        """``{"YYYY-MM": articles}`` over the given articles, oldest month first; the
        undated are not counted."""
        nums = [int(n) for n in nums]
        if not nums:
            return {}
        marks = ",".join("?" * len(nums))
        rows = self._conn().execute(
            f"SELECT substr(date, 1, 7), COUNT(*) FROM articles WHERE num IN ({marks}) "
            "AND date IS NOT NULL GROUP BY 1 ORDER BY 1",
            nums,
        )
        return dict(rows.fetchall())

    def source_summary(self) -> list[tuple[str | None, int, int, str | None, str | None]]:
        """``(source, articles, undated, first date, last date)`` per source, the largest
        first (source None: articles without one)."""
        rows = self._conn().execute(
            "SELECT source, COUNT(*), SUM(date IS NULL), MIN(date), MAX(date) FROM articles "
            "GROUP BY source ORDER BY 2 DESC, source IS NULL, 1"
        )
        return [(s, int(n), int(u or 0), lo, hi) for s, n, u, lo, hi in rows.fetchall()]
