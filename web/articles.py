"""One article by its id, with its topic and every entity: the article page and API.

Ids are whatever the indexed data said, so they may hold any character, slashes
included. An article's address is ``/article/<id>`` (the ``path`` converter, with
slashes kept as they are), except for ids that a browser would not send back as they
are written; those use ``/article?id=<id>``, which both routes also accept:

>>> needs_query_form("politics/2020/brexit"), needs_query_form("a/../b")
(False, True)
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from indexer.store import StoredArticle
from newsrank.types import FoundEntity, LabelScore
from ranker.search import Searcher

_CONTROL = {chr(c) for c in range(0x20)} | {"\x7f"}


def needs_query_form(article_id: str) -> bool:
    """True for an id the path form cannot carry: empty, a leading slash (the path
    converter needs a first character), control characters (browsers drop tabs and
    newlines from URLs; the converter stops at a newline), or a ``.`` or ``..``
    segment (browsers and curl resolve those before sending the request)."""
    return (
        not article_id
        or article_id.startswith("/")
        or any(c in _CONTROL for c in article_id)
        or any(part in (".", "..") for part in article_id.split("/"))
    )


def article_url(article_id: str, api: bool = False) -> str:
    """The address of the article page (``api``: of its JSON) for ``article_id``."""
    if needs_query_form(article_id):
        return url_for("api.article_query" if api else "pages.article_query", id=article_id)
    return url_for("api.article" if api else "pages.article", article_id=article_id)


@dataclass(frozen=True)
class ArticleView:
    """An article as its page shows it: the stored record, its topic, its entities
    (index-time title and lead ones, plus the lazily tagged rest of the text)."""

    article: StoredArticle
    topic: LabelScore | None
    entities: list[FoundEntity]
    #: the rest of its text is queued for tagging: more entities on a later view
    fulltext_pending: bool = False

    @property
    def title_entities(self) -> list[FoundEntity]:
        return [e for e in self.entities if e.field == "title"]

    @property
    def text_entities(self) -> list[FoundEntity]:
        return [e for e in self.entities if e.field == "text"]

    def to_dict(self) -> dict:
        a, t = self.article, self.topic
        return {
            "id": a.id,
            "title": a.title,
            "source": a.source,
            "date": a.date,
            "url": a.url,
            "category": a.category,
            "topic": None if t is None else {"label": t.label, "score": round(t.score, 4)},
            "entities": [
                {
                    "type": e.type,
                    "text": e.text,
                    "start": e.start,
                    "end": e.end,
                    "field": e.field,
                    "in_index": e.in_index,
                }
                for e in self.entities
            ],
            "text": a.text,
        }


def find_article(searcher: Searcher, article_id: str) -> ArticleView | None:
    """The article with this id, or None. Viewing it queues the rest of its text for
    the full-text tagger (as a search result does), when the app has one."""
    store = searcher.store
    num = store.num_of(article_id)
    if num is None:
        return None
    article = store.articles([num])[num]
    labels = store.labels([num])[num]
    entities = list(labels.entities)
    pending = False
    if searcher.fulltext is not None:
        rest = searcher.fulltext.cached(store, [num], queue_missing=True)
        pending = num not in rest
        entities += sorted(rest.get(num, []), key=lambda e: e.start)
    topic = LabelScore(labels.topic, labels.topic_score) if labels.topic else None
    return ArticleView(article, topic, entities, pending)
