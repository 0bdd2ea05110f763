"""The records that flow through the indexer.

>>> a = Article(id="a1", title="Oil falls", text="Prices dropped.", date="2020-03-09")
>>> a.source is None
True
"""

from __future__ import annotations

from dataclasses import dataclass

#: The fields an input record may carry; ``id``, ``title`` and ``text`` are required.
FIELDS = ("id", "title", "text", "date", "source", "url", "category")
REQUIRED = ("id", "title", "text")


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    date: str | None = None  # ISO YYYY-MM-DD
    source: str | None = None
    url: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class Passage:
    """A window of an article's text: ``article.text[start:end]``."""

    pid: int  # row in the BM25 and FAISS indexes
    article: int  # the article's row number in the store
    ord: int  # position of the passage within its article
    start: int
    end: int
