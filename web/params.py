"""Turn request parameters into typed requests, or a clear QueryError.

>>> from werkzeug.datastructures import MultiDict
>>> r = search_request(MultiDict([("q", "oil"), ("entity", "ORG=OPEC"), ("topic", "World")]))
>>> r.entities, r.topics
((('ORG', 'OPEC'),), ('World',))

Every text is cleaned of lone surrogates (:func:`newsrank.text.replace_surrogates`:
JSON bodies can carry ``"\\ud800"``, which no tokenizer or response encoder takes),
one code point for one, so offsets the heads return point into the text as sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from newsrank.errors import QueryError
from newsrank.text import replace_surrogates
from ranker.request import SearchRequest, parse_entity

#: The most values one repeatable filter (source, topic, entity) may have.
MAX_FILTER_VALUES = 50


def _number(args: Mapping[str, str], name: str, kind: type, default: object) -> object:
    """Parameter ``name`` as ``kind`` (int or float), ``default`` when absent or empty,
    else a QueryError quoting (the start of) the value."""
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        return kind(value)
    except ValueError:  # also an int of more than 4300 digits
        shown = value if len(value) <= 30 else value[:30] + "..."
        what = "a whole number" if kind is int else "a number"
        raise QueryError(f"{name}={shown!r} is not {what}") from None


def _int(args: Mapping[str, str], name: str, default: int) -> int:
    return _number(args, name, int, default)  # type: ignore[return-value]


def _float(args: Mapping[str, str], name: str) -> float | None:
    return _number(args, name, float, None)  # type: ignore[return-value]


def _values(args, name: str) -> tuple[str, ...]:
    values = tuple(replace_surrogates(v).strip() for v in args.getlist(name) if v.strip())
    if len(values) > MAX_FILTER_VALUES:
        raise QueryError(
            f"{len(values)} {name} filters; give at most {MAX_FILTER_VALUES} values of {name}"
        )
    return values


def _text(args, name: str) -> str | None:
    value = args.get(name)
    return None if value is None else replace_surrogates(value)


#: the spellings of a yes/no parameter
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _bool(args: Mapping[str, str], name: str, default: bool) -> bool:
    """Parameter ``name`` as true/false (also 1/0, yes/no, on/off); absent or empty:
    ``default``.

    >>> _bool({"collapse": "False"}, "collapse", True), _bool({}, "collapse", True)
    (False, True)
    """
    value = (args.get(name) or "").strip().lower()
    if not value:
        return default
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    shown = value if len(value) <= 30 else value[:30] + "..."
    raise QueryError(f"{name}={shown!r}: give true or false")


def search_request(args, default_k: int = 10) -> SearchRequest:
    """Read q, k, page, source, topic, entity (repeatable), from, to, sort, recency and
    collapse from a MultiDict (sort and recency are checked by ``validate_request``)."""
    query = _text(args, "q")
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
        date_from=_text(args, "from") or None,
        date_to=_text(args, "to") or None,
        topics=_values(args, "topic"),
        entities=entities,
        sort=(_text(args, "sort") or "relevance").strip().lower() or "relevance",
        recency=_float(args, "recency"),
        collapse=_bool(args, "collapse", True),
    )


def text_field(data: object, name: str, max_chars: int) -> str:
    """A required, non-empty string field of a JSON object body (surrogates replaced)."""
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
    return replace_surrogates(value)
