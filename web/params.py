"""Turn query-string parameters into a :class:`SearchRequest`, or a clear QueryError."""

from __future__ import annotations

from collections.abc import Mapping

from newsrank.errors import QueryError
from ranker.results import SearchRequest


def _int(args: Mapping[str, str], name: str, default: int) -> int:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise QueryError(f"{name}={value!r} is not a whole number") from None


def search_request(args, default_k: int = 10) -> SearchRequest:
    """Read q, k, page, source (repeatable), from and to from a werkzeug MultiDict."""
    query = args.get("q")
    if query is None:
        raise QueryError("missing q: pass the query as ?q=...")
    sources = tuple(s for s in args.getlist("source") if s.strip())
    return SearchRequest(
        query=query,
        k=_int(args, "k", default_k),
        page=_int(args, "page", 1),
        sources=sources,
        date_from=args.get("from") or None,
        date_to=args.get("to") or None,
    )
