"""Turn request parameters into typed requests, or a clear QueryError.

>>> from werkzeug.datastructures import MultiDict
>>> r = search_request(MultiDict([("q", "oil"), ("entity", "ORG=OPEC"), ("topic", "World")]))
>>> r.entities, r.topics
((('ORG', 'OPEC'),), ('World',))
"""

from __future__ import annotations

from collections.abc import Mapping

from newsrank.errors import QueryError
from ranker.request import SearchRequest, parse_entity


def _int(args: Mapping[str, str], name: str, default: int) -> int:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise QueryError(f"{name}={value!r} is not a whole number") from None


def _values(args, name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in args.getlist(name) if v.strip())


def search_request(args, default_k: int = 10) -> SearchRequest:
    """Read q, k, page, source, topic, entity (repeatable), from and to from a MultiDict."""
    query = args.get("q")
    if query is None:
        raise QueryError("missing q: pass the query as ?q=...")
    try:
        entities = tuple(parse_entity(v) for v in _values(args, "entity"))
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    return SearchRequest(
        query=query,
        k=_int(args, "k", default_k),
        page=_int(args, "page", 1),
        sources=_values(args, "source"),
        date_from=args.get("from") or None,
        date_to=args.get("to") or None,
        topics=_values(args, "topic"),
        entities=entities,
    )


def text_field(data: object, name: str, max_chars: int) -> str:
    """A required, non-empty string field of a JSON object body."""
    if not isinstance(data, dict):
        raise QueryError('the body must be a JSON object, e.g. {"text": "..."}')
    if name not in data:
        raise QueryError(f"missing field {name!r}")
    value = data[name]
    if not isinstance(value, str):
        raise QueryError(f"field {name!r} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise QueryError(f"field {name!r} is empty")
    if len(value) > max_chars:
        raise QueryError(f"field {name!r} is {len(value)} characters; the limit is {max_chars}")
    return value
