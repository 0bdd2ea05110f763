"""The search request: its fields, and their validation (pure; no index needed).

>>> from newsrank.config import SearchConfig
>>> validate_request(SearchRequest("  oil   prices ", date_from="2017/1/5"), SearchConfig())
SearchRequest(query='oil prices', k=10, page=1, sources=(), date_from='2017-01-05', date_to=None, topics=(), entities=(), sort='relevance', recency=None, collapse=True)
"""  # noqa: E501

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from indexer.ingest import normalize_date
from newsrank.config import SearchConfig
from newsrank.errors import QueryError


@dataclass(frozen=True)
class SearchRequest:
    query: str
    k: int = 10  # results per page
    page: int = 1
    sources: tuple[str, ...] = ()
    date_from: str | None = None  # inclusive, YYYY-MM-DD
    date_to: str | None = None
    topics: tuple[str, ...] = ()
    entities: tuple[tuple[str, str], ...] = ()  # (type, text), e.g. ("ORG", "OPEC")
    sort: str = "relevance"  # or "date": newest first among the matching articles
    recency: float | None = None  # freshness half-life in days (None: no boost)
    collapse: bool = True  # one entry per story: near-duplicates under the best-ranked


#: The orders a search can return its matching articles in.
SORTS = ("relevance", "date")
#: The longest freshness half-life accepted, in days (100 years).
MAX_HALF_LIFE_DAYS = 36_500.0


def parse_entity(value: str) -> tuple[str, str]:
    """``"ORG=OPEC"`` -> ``("ORG", "OPEC")``.

    >>> parse_entity("org=OPEC")
    ('ORG', 'OPEC')
    """
    type_, sep, text = value.partition("=")
    if not sep or not type_.strip() or not text.strip():
        raise ValueError(f"entity filter {value!r}: write TYPE=TEXT, e.g. ORG=OPEC")
    return type_.strip().upper(), text.strip()


def validate_request(request: SearchRequest, config: SearchConfig) -> SearchRequest:
    """The request with a normalised query and dates, or a :class:`QueryError` saying
    which parameter is wrong and what is allowed."""
    query = " ".join(request.query.split())
    if not query:
        raise QueryError("empty query: type some words to search for")
    if not any(ch.isalnum() for ch in query):
        # only punctuation, symbols or control characters: BM25 finds no term in it, and
        # the embedder's nearest passages to it would be noise presented as results
        raise QueryError(
            f"query {query[:40]!r} has no letter or digit: type some words to search for"
        )
    if len(query) > config.max_query_chars:
        raise QueryError(
            f"query is {len(query)} characters long; the limit is {config.max_query_chars}"
        )
    if not 1 <= request.k <= config.max_k:
        raise QueryError(f"k={request.k}: ask for 1 to {config.max_k} results per page")
    if request.page < 1 or request.page * request.k > config.max_candidates:
        raise QueryError(
            f"page={request.page}: pages run from 1 while page*k <= {config.max_candidates}"
        )
    dates = []
    for name, value in (("from", request.date_from), ("to", request.date_to)):
        try:
            dates.append(normalize_date(value) if value else None)
        except ValueError as exc:
            raise QueryError(f"{name} date: {exc}") from exc
    if request.sort not in SORTS:
        raise QueryError(f"sort={str(request.sort)[:30]!r}: choose 'relevance' or 'date'")
    recency = request.recency
    if recency is not None and not (
        isinstance(recency, (int, float))
        and math.isfinite(recency)
        and 0 < recency <= MAX_HALF_LIFE_DAYS
    ):
        raise QueryError(
            f"recency={recency!r}: give a half-life in days, above 0 and at most "
            f"{MAX_HALF_LIFE_DAYS:g}"
        )
    return dataclasses.replace(request, query=query, date_from=dates[0], date_to=dates[1])
