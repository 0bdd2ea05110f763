"""The OpenAPI 3.1 description of the JSON API, served at ``GET /api/openapi.json``.

Written by hand, next to the handlers it describes (``web.api``); the limits in it
(query length, ``k``, text and body sizes) come from the running app's settings, so
the description a server hands out is the one it enforces. ``tests/test_openapi.py``
checks that it is valid OpenAPI and that real responses of every endpoint, errors
included, fit its schemas.

>>> spec = openapi_spec()
>>> spec["openapi"], sorted(spec["paths"])[:2]
('3.1.0', ['/api/answer', '/api/articles'])
>>> spec["paths"]["/api/search"]["get"]["parameters"][0]["schema"]["maxLength"]
500
"""

from __future__ import annotations

from typing import Any

from newsrank import __version__
from newsrank.config import Settings
from ranker.request import MAX_HALF_LIFE_DAYS
from web.openapi_schemas import (
    DATE,
    INT,
    JSON,
    OFFSET,
    PROB,
    STR,
    TEXT,
    error,
    json_body,
    obj,
    ref,
    schemas,
)
from web.params import MAX_FILTER_VALUES

#: the longest question ``POST /api/answer`` takes (web.api)
QUESTION_CHARS = 500


def openapi_spec(settings: Settings | None = None) -> dict[str, Any]:
    """The description, with the limits of ``settings`` (the defaults when None)."""
    settings = settings or Settings()
    search, web = settings.search, settings.web
    text_limit = web.max_text_chars

    def body(fields: dict[str, int]) -> dict[str, Any]:
        props = {name: {**TEXT, "maxLength": n} for name, n in fields.items()}
        return {"required": True, "content": {JSON: {"schema": obj(list(fields), props)}}}

    bad = error(
        "a missing or malformed parameter or field (not JSON, not an object, a wrong "
        "type, empty, too long, a query without a letter or digit); the message names it"
    )
    too_large = error(f"the body is over {web.max_request_bytes} bytes")
    head_off = error("the head is not loaded (see /api/health)")
    busy = error(
        "too many searches in progress: retry later",
        headers={"Retry-After": {"schema": INT, "description": "seconds to wait"}},
    )
    repeated = {"type": "array", "items": STR, "maxItems": MAX_FILTER_VALUES}

    def query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict:
        return {"name": name, "in": "query", "schema": schema, "description": description, **extra}

    def head(summary: str, fields: dict[str, int], ok: dict[str, Any]) -> dict[str, Any]:
        return {
            "post": {
                "summary": summary,
                "requestBody": body(fields),
                "responses": {"200": ok, "400": bad, "413": too_large, "503": head_off},
            }
        }

    write_errors = {
        "401": error(
            "no Authorization: Bearer token",
            headers={"WWW-Authenticate": {"schema": STR, "description": "Bearer"}},
        ),
        "403": error("a token that may not write"),
        "503": error(
            "the index is busy (another writer) or cannot be written now",
            headers={"Retry-After": {"schema": INT, "description": "seconds to wait"}},
        ),
        "507": error("the disk is full: nothing was committed"),
    }
    write_note = (
        " Off (404) unless the server has an admin token (NEWSRANK_ADMIN_TOKEN or "
        "`newsrank serve --admin-token-file`); committed and searchable when it answers."
    )
    upsert = {
        "summary": "Add or replace articles (upsert by id) in the live index",
        "description": "Bad records are listed in `errors` by position; the good ones are "
        "committed. An id given twice keeps its first record." + write_note,
        "security": [{"bearer": []}],
        "requestBody": {
            "required": True,
            "content": {
                JSON: {
                    "schema": {
                        "type": "array",
                        "items": ref("ArticleIn"),
                        "minItems": 1,
                        "maxItems": web.max_write_articles,
                    }
                }
            },
        },
        "responses": {
            "200": json_body(ref("WriteResult"), "committed: the good records are searchable"),
            "400": json_body(
                ref("WriteRejected"),
                "the body is not a JSON list, the list is empty, or no record is valid: "
                "nothing committed",
            ),
            **write_errors,
            "404": error("the write API is off (no admin token configured)"),
            "413": error(
                f"the body is over {web.max_write_bytes} bytes or holds over "
                f"{web.max_write_articles} articles"
            ),
        },
    }
    delete = {
        "summary": "Delete one article from the live index",
        "description": "Committed and gone from results when it answers." + write_note,
        "security": [{"bearer": []}],
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": STR, "description": "id"}
        ],
        "responses": {
            "200": json_body(
                obj(
                    ["deleted", "generation", "articles"],
                    {"deleted": {"const": True}, "generation": OFFSET, "articles": OFFSET},
                ),
                "deleted and committed",
            ),
            **write_errors,
            "404": error("no article has this id (or the write API is off)"),
        },
    }
    article_q = query(
        "q",
        STR,
        "the search this article was reached from: its terms are given as highlights, "
        "and the reader's answer in this article, if any (a longer one is cut to its first "
        f"{search.max_query_chars} characters, not refused: it comes from a link)",
    )
    article_responses = {
        "200": json_body(ref("Article"), "the article, its topic, every entity and its text"),
        "400": bad,
        "404": error("no article has this id"),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "newsrank JSON API",
            "version": __version__,
            "description": "Hybrid news search (BM25 + dense retrieval, reranked) and the "
            "fine-tuned heads on their own. Every error is JSON: "
            '{"error": "..."}. Character offsets count Unicode code points.',
        },
        "paths": {
            "/api/search": {
                "get": {
                    "summary": "Search: one page of ranked articles, answers and facets",
                    "parameters": [
                        query(
                            "q",
                            {**STR, "minLength": 1, "maxLength": search.max_query_chars},
                            "the query; whitespace is collapsed, and what is left must be "
                            f"1 to {search.max_query_chars} characters",
                            required=True,
                        ),
                        query(
                            "k",
                            {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": search.max_k,
                                "default": web.default_k,
                            },
                            "results per page",
                        ),
                        query(
                            "page",
                            {"type": "integer", "minimum": 1, "default": 1},
                            f"page number, from 1, while page * k <= {search.max_candidates}",
                        ),
                        query("source", repeated, "sources to keep (any of them)", explode=True),
                        query("topic", repeated, "topics to keep (any of them)", explode=True),
                        query(
                            "entity",
                            {**repeated, "items": {**STR, "pattern": "^[^=]+=.+$"}},
                            "TYPE=TEXT entities every result must name, e.g. ORG=OPEC",
                            explode=True,
                        ),
                        query(
                            "from",
                            {**DATE, "examples": ["2017-01-01"]},
                            "first date, inclusive: YYYY-MM-DD (or YYYY/M/D)",
                        ),
                        query("to", {**DATE, "examples": ["2017-12-31"]}, "last date, inclusive"),
                        query(
                            "sort",
                            {"enum": ["relevance", "date"], "default": "relevance"},
                            "result order: relevance, or date (newest first among the same "
                            "matching articles, undated ones last, ties by relevance); "
                            "paging follows the order",
                        ),
                        query(
                            "recency",
                            {
                                "type": "number",
                                "exclusiveMinimum": 0,
                                "maximum": MAX_HALF_LIFE_DAYS,
                                "examples": [30],
                            },
                            "freshness boost, off by default: a half-life in days. Each "
                            "result's score is multiplied by 0.5 ** (age_days / recency), the "
                            "age counted back from the newest article in the index (not "
                            "today); undated articles get the factor of the oldest, and a "
                            "negative score is multiplied by (2 - factor). Reranked results "
                            "stay ahead of fused-only ones. No evaluation shows it helps "
                            "relevance, hence off",
                        ),
                        query(
                            "collapse",
                            {"type": "boolean", "default": True},
                            "one entry per story (default): near-duplicate articles (the "
                            "same text re-published) collapse into the best-ranked one, which "
                            "lists the others under duplicates; false lists every article",
                        ),
                    ],
                    "responses": {
                        "200": json_body(ref("SearchResponse"), "one page of results"),
                        "400": bad,
                        "503": busy,
                    },
                }
            },
            "/api/articles/{id}": {
                "get": {
                    "summary": "One article by id",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": STR,
                            "description": "the article's id; slashes are kept as they are",
                        },
                        article_q,
                    ],
                    "responses": article_responses,
                },
                "delete": delete,
            },
            "/api/articles": {
                "get": {
                    "summary": "One article by id, for ids a path cannot carry",
                    "parameters": [
                        query("id", {**STR, "minLength": 1}, "the id", required=True),
                        article_q,
                    ],
                    "responses": article_responses,
                },
                "post": upsert,
            },
            "/api/classify": head(
                "Topic of a text: every label with its probability, most likely first",
                {"text": text_limit},
                json_body(
                    obj(["labels"], {"labels": {"type": "array", "items": ref("LabelScore")}}),
                    "the label distribution",
                ),
            ),
            "/api/tag": head(
                "Named entities of a text, offsets into it",
                {"text": text_limit},
                json_body(
                    obj(["entities"], {"entities": {"type": "array", "items": ref("Entity")}}),
                    "the entities, in text order",
                ),
            ),
            "/api/answer": head(
                "The reader's best answers to a question in a context",
                {"question": QUESTION_CHARS, "context": text_limit},
                json_body(
                    obj(
                        ["answers"],
                        {
                            "answers": {
                                "type": "array",
                                "maxItems": 3,
                                "items": obj(
                                    ["text", "score", "start", "end"],
                                    {
                                        "text": STR,
                                        "score": PROB,
                                        "start": OFFSET,
                                        "end": OFFSET,
                                    },
                                ),
                            }
                        },
                    ),
                    "up to 3 answers, best first: context[start:end] is the text; empty "
                    "when there is nothing to read",
                ),
            ),
            "/api/health": {
                "get": {
                    "summary": "Status, counts, loaded heads and arithmetic in use",
                    "responses": {"200": json_body(ref("Health"), "the server is up")},
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This description",
                    "responses": {"200": json_body({"type": "object"}, "OpenAPI 3.1")},
                }
            },
        },
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the server's admin token (write API only)",
                }
            },
        },
    }
