"""One article by its id, with its topic and every entity: the article page and API.

Ids are whatever the indexed data said, so they may hold any character, slashes
included. An article's address is ``/article/<id>`` (the ``path`` converter, with
slashes kept as they are), except for ids that a browser would not send back as they
are written; those use ``/article?id=<id>``, which both routes also accept:

>>> needs_query_form("politics/2020/brexit"), needs_query_form("a/../b")
(False, True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import url_for

from indexer.store import StoredArticle
from newsrank.types import FoundEntity, LabelScore
from ranker.read import FoundAnswer
from ranker.related import RelatedStory, related_stories
from ranker.render import answer_context
from ranker.results import AnswerContext
from ranker.search import Searcher
from ranker.snippet import term_spans

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


def article_url(article_id: str, api: bool = False, q: str | None = None) -> str:
    """The address of the article page (``api``: of its JSON) for ``article_id``;
    ``q``: the search it is opened from (the page marks its terms and answer)."""
    extra = {"q": q} if q else {}
    if needs_query_form(article_id):
        endpoint = "api.article_query" if api else "pages.article_query"
        return url_for(endpoint, id=article_id, **extra)
    return url_for("api.article" if api else "pages.article", article_id=article_id, **extra)


@dataclass(frozen=True)
class ArticleView:
    """An article as its page shows it: the stored record, its topic, its entities
    (index-time title and lead ones, plus the lazily tagged rest of the text)."""

    article: StoredArticle
    topic: LabelScore | None
    entities: list[FoundEntity]
    #: the rest of its text is queued for tagging: more entities on a later view
    fulltext_pending: bool = False
    #: the nearest other stories by passage vectors (ranker.related)
    related: list[RelatedStory] = field(default_factory=list)
    #: the other versions of this story (its near-duplicates), as stored
    versions: list[StoredArticle] = field(default_factory=list)
    #: the search it was opened from, and its terms' spans in the title and the text
    query: str | None = None
    title_marks: list[tuple[int, int]] = field(default_factory=list)
    text_marks: list[tuple[int, int]] = field(default_factory=list)
    #: the reader's answer to ``query`` in this article (offsets into its text)
    answer: FoundAnswer | None = None
    answer_context: AnswerContext | None = None

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
            "related": [r.to_dict() for r in self.related],
            "duplicates": [v.id for v in self.versions],
            "query": self.query,
            "highlights": {
                "title": [list(span) for span in self.title_marks],
                "text": [list(span) for span in self.text_marks],
            },
            "answer": None if self.answer is None else self.answer.to_dict(),
        }


def find_article(
    searcher: Searcher, article_id: str, query: str | None = None
) -> ArticleView | None:
    """The article with this id, or None, with its related stories and other versions.
    Viewing it queues the rest of its text for the full-text tagger (as a search result
    does), when the app has one. ``query``: the search it was opened from; its terms are
    marked, and the reader (when loaded) looks for its answer in this article."""
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
    others = searcher.index.duplicates(wait=False).others(num)
    stored = store.articles(others)
    view = ArticleView(
        article,
        topic,
        entities,
        pending,
        related=related_stories(searcher.index, num),
        versions=[stored[n] for n in others],
    )
    query = _clean_query(query, searcher.config.max_query_chars)
    if query is None:
        return view
    renderer = searcher.renderer
    terms = set(renderer.tokenize(query))
    answer = searcher.answer_in(num, query)
    return dataclasses.replace(
        view,
        query=query,
        title_marks=term_spans(article.title, terms, renderer.normalize),
        text_marks=term_spans(article.text, terms, renderer.normalize),
        answer=answer,
        answer_context=answer_context(article.text, answer, searcher.config.snippet_chars),
    )


def _clean_query(query: str | None, max_chars: int) -> str | None:
    """The query with spaces normalised and cut to ``max_chars``; None when empty.

    >>> _clean_query("  oil   prices ", 500), _clean_query("  ", 500)
    ('oil prices', None)
    """
    query = " ".join((query or "").split())[:max_chars]
    return query or None


def version_info(searcher: Searcher, ids: Sequence[str]) -> dict[str, StoredArticle]:
    """The stored records of these (live) article ids, for listing a story's versions."""
    store = searcher.store
    nums = {i: store.num_of(i) for i in dict.fromkeys(ids)}
    found = store.articles([n for n in nums.values() if n is not None])
    return {i: found[n] for i, n in nums.items() if n is not None}
