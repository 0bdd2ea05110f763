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
from web.params import MAX_FILTER_VALUES

JSON = "application/json"
#: the longest question ``POST /api/answer`` takes (web.api)
QUESTION_CHARS = 500


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _obj(required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, **extra}


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}, **extra}


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return _json(_ref("Error"), description, **extra)


_INT = {"type": "integer"}
_NUM = {"type": "number"}
_STR = {"type": "string"}
_OFFSET = {"type": "integer", "minimum": 0}
_PROB = {"type": "number", "minimum": 0, "maximum": 1}


def _schemas() -> dict[str, Any]:
    # the fields an article carries wherever it appears (a hit, the article endpoint)
    record = {
        "id": _STR,
        "title": _STR,
        "source": _nullable(_STR),
        "date": _nullable({**_STR, "format": "date"}),
        "url": _nullable(_STR),
        "category": _nullable(_STR),
    }
    label_score = _obj(["label", "score"], {"label": _STR, "score": _PROB})
    entity = _obj(
        ["type", "text", "start", "end"],
        {
            "type": {**_STR, "description": "PER, ORG, LOC or MISC"},
            "text": {**_STR, "description": "the entity as written: source[start:end]"},
            "start": _OFFSET,
            "end": _OFFSET,
        },
    )
    found_entity = {
        "allOf": [entity],
        **_obj(
            ["field", "in_index"],
            {
                "field": {"enum": ["title", "text"], "description": "what the offsets point into"},
                "in_index": {
                    "type": "boolean",
                    "description": "labelled at index time (title and lead): filters and "
                    "facets know it; false for entities tagged later in the rest of the text",
                },
            },
        ),
    }
    stage = _obj(["rank", "score"], {"rank": {"type": "integer", "minimum": 1}, "score": _NUM})
    counts = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
    return {
        "Error": _obj(
            ["error"], {"error": {**_STR, "description": "what is wrong, in plain words"}}
        ),
        "LabelScore": label_score,
        "Entity": entity,
        "FoundEntity": found_entity,
        "StageScore": stage,
        "Hit": _obj(
            ["id", "title", "source", "date", "url", "score", "snippet", "highlights", "stages"],
            {
                **record,
                "score": {
                    **_NUM,
                    "description": "the rerank score for reranked results, else the fused score",
                },
                "snippet": _STR,
                "highlights": {
                    "type": "array",
                    "description": "[start, end) character spans of query terms in snippet",
                    "items": {
                        "type": "array",
                        "prefixItems": [_OFFSET, _OFFSET],
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
                "stages": {
                    "type": "object",
                    "description": "each stage's own rank and score: bm25, dense, fused, "
                    "rerank, and recency (the boosted score) when recency is given",
                    "additionalProperties": _ref("StageScore"),
                },
                "passage": {**_OFFSET, "description": "the id of the best passage"},
                "topic": _nullable(_ref("LabelScore")),
                "entities": {
                    "type": "array",
                    "items": {
                        "allOf": [_ref("FoundEntity")],
                        **_obj(["score"], {"score": _PROB}),
                    },
                },
                "duplicates": {
                    "type": "array",
                    "items": _STR,
                    "description": "ids of the other matching versions of this story "
                    "(near-duplicates: the same text re-published, perhaps with a new "
                    "headline), collapsed under this result, best-ranked first; empty when "
                    "there are none or collapse=false",
                },
                "answer": _nullable(
                    _obj(
                        ["context", "start", "end", "score"],
                        {
                            "context": {
                                **_STR,
                                "description": "the answer inside its passage: "
                                "context[start:end] is the answer",
                            },
                            "start": _OFFSET,
                            "end": _OFFSET,
                            "score": _PROB,
                        },
                    )
                ),
            },
        ),
        "FoundAnswer": _obj(
            ["text", "score", "doc_id", "start", "end"],
            {
                "text": _STR,
                "score": _PROB,
                "doc_id": _STR,
                "start": {**_OFFSET, "description": "offset into the article's text"},
                "end": _OFFSET,
            },
        ),
        "SearchResponse": _obj(
            ["query", "results", "total", "page", "pages", "k", "timings_ms", "answers", "facets"],
            {
                "query": {**_STR, "description": "the query as searched (whitespace collapsed)"},
                "results": {"type": "array", "items": _ref("Hit")},
                "answers": {"type": "array", "items": _ref("FoundAnswer")},
                "facets": _obj(
                    ["topic", "source", "entity"],
                    {
                        "topic": counts,
                        "source": counts,
                        "date": {
                            **counts,
                            "description": 'articles per month, keys "YYYY-MM", oldest '
                            "first; undated articles are in no month",
                        },
                        "entity": {
                            **counts,
                            "description": 'keys are "TYPE=text": one entry per entity, its '
                            "case variants, aliases (US, U.S., United States) and types "
                            "merged; filtering by the key matches every variant",
                        },
                        "entity_labels": {
                            "type": "object",
                            "additionalProperties": _STR,
                            "description": 'readable labels of the entity keys, "text · '
                            'kind" (kind: person, organisation, place, other)',
                        },
                    },
                    description="counts over every matching article, not one page",
                ),
                "total": {
                    **_OFFSET,
                    "description": "stories matched (near-duplicates counted once; "
                    "articles with collapse=false); facets count the same way",
                },
                "page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
                "k": {"type": "integer", "minimum": 1},
                "timings_ms": {"type": "object", "additionalProperties": _NUM},
                "degraded": {
                    "type": "array",
                    "items": _STR,
                    "description": "optional stages skipped to answer within the time "
                    'budget (e.g. "rerank", "read"); absent or empty when none was',
                },
                "suggestion": {
                    **_nullable(_STR),
                    "description": "did you mean: the query with words unknown to the "
                    "index (or far rarer than a close spelling) corrected; null when none is",
                },
                "shards": _obj(
                    ["total", "ok", "failed"],
                    {
                        "total": {"type": "integer", "minimum": 1},
                        "ok": _OFFSET,
                        "failed": _OFFSET,
                        "warnings": {"type": "array", "items": _STR},
                    },
                    description="the shards that answered (an unsharded index is one); "
                    "when some failed, the results are the others' and warnings say which",
                ),
            },
        ),
        "Article": _obj(
            [
                "id",
                "title",
                "source",
                "date",
                "url",
                "category",
                "topic",
                "entities",
                "text",
                "related",
                "duplicates",
            ],
            {
                **record,
                "topic": _nullable(_ref("LabelScore")),
                "entities": {"type": "array", "items": _ref("FoundEntity")},
                "text": _STR,
                "related": {
                    "type": "array",
                    "description": "related stories: the live articles nearest to this "
                    "one's passage vectors (best passage match), itself and its "
                    "near-duplicates left out, one per story, best first",
                    "items": _obj(
                        ["id", "title", "source", "date", "score"],
                        {
                            "id": _STR,
                            "title": _STR,
                            "source": _nullable(_STR),
                            "date": _nullable({**_STR, "format": "date"}),
                            "score": {**_NUM, "description": "cosine similarity"},
                        },
                    ),
                },
                "duplicates": {
                    "type": "array",
                    "items": _STR,
                    "description": "ids of the other versions of this story (near-duplicates)",
                },
                "query": {
                    **_nullable(_STR),
                    "description": "the q this article was asked for with, if any",
                },
                "highlights": {
                    "description": "with q: [start, end) spans of the query terms in the "
                    "title and in the text",
                    **_obj(
                        ["title", "text"],
                        {
                            "title": {"type": "array", "items": {"type": "array"}},
                            "text": {"type": "array", "items": {"type": "array"}},
                        },
                    ),
                },
                "answer": {
                    **_nullable(_ref("FoundAnswer")),
                    "description": "with q and a reader loaded: the reader's answer to q "
                    "in this article (offsets into its text), null when none is confident",
                },
            },
        ),
        "Health": _obj(
            ["status", "articles", "passages", "heads", "full_text_entities", "precision"],
            {
                "status": {"const": "ok"},
                "articles": _OFFSET,
                "passages": _OFFSET,
                "embedder": _STR,
                "dense_index": {**_STR, "description": '"flat", "hnsw" or "hnsw-fp16"'},
                "index_created": _STR,
                "enrichment": _nullable({"type": "object"}),
                "heads": _obj(
                    ["reranker", "reader", "topic", "tagger"],
                    {h: {"type": "boolean"} for h in ("reranker", "reader", "topic", "tagger")},
                    description="which heads are loaded",
                ),
                "full_text_entities": _obj(
                    ["enabled"],
                    {
                        "enabled": {"type": "boolean"},
                        "articles_done": _OFFSET,
                        "errors": {"type": "array", "items": _STR},
                    },
                    description="lazy tagging of the text past each article's lead",
                ),
                "precision": _obj(
                    ["index_vectors", "embedder", "heads"],
                    {
                        "index_vectors": _nullable(_STR),
                        "embedder": _nullable(_STR),
                        "heads": {"type": "object", "additionalProperties": _STR},
                    },
                    description='"fp32" or "bf16"; a single query is always embedded in fp32',
                ),
                "index": _obj(
                    ["generation", "segments", "articles", "deleted", "progress"],
                    {
                        "generation": {**_OFFSET, "description": "commits so far"},
                        "segments": _OFFSET,
                        "articles": {**_OFFSET, "description": "live articles"},
                        "deleted": {
                            **_OFFSET,
                            "description": "deleted articles still held by segments "
                            "(a merge drops them)",
                        },
                        "progress": _nullable(
                            _obj(
                                ["done", "total"],
                                {"done": _OFFSET, "total": _OFFSET},
                                description="a progressive build still adding articles",
                            )
                        ),
                    },
                    description="the commit being served (newer commits are opened "
                    "within a second or two)",
                ),
                "warnings": {"type": "array", "items": _STR},
            },
        ),
        "ArticleIn": _obj(
            ["id", "title", "text"],
            {
                "id": _STR,
                "title": _STR,
                "text": _STR,
                "date": {**_STR, "description": "YYYY-MM-DD (or YYYY/M/D)"},
                "source": _STR,
                "url": _STR,
                "category": _STR,
            },
        ),
        "RecordError": _obj(
            ["index", "id", "error"],
            {
                "index": {**_OFFSET, "description": "the record's position in the list"},
                "id": _nullable(_STR),
                "error": _STR,
            },
        ),
        "WriteResult": _obj(
            ["added", "replaced", "errors", "generation", "articles"],
            {
                "added": {"type": "array", "items": _STR, "description": "ids new to the index"},
                "replaced": {
                    "type": "array",
                    "items": _STR,
                    "description": "ids whose older version was replaced",
                },
                "errors": {"type": "array", "items": _ref("RecordError")},
                "generation": {**_OFFSET, "description": "the commit now searched"},
                "articles": {**_OFFSET, "description": "live articles after the write"},
            },
        ),
        "WriteRejected": {
            "allOf": [_ref("Error")],
            **_obj(
                ["error"],
                {"errors": {"type": "array", "items": _ref("RecordError")}},
            ),
        },
    }


def openapi_spec(settings: Settings | None = None) -> dict[str, Any]:
    """The description, with the limits of ``settings`` (the defaults when None)."""
    settings = settings or Settings()
    search, web = settings.search, settings.web
    text_limit = web.max_text_chars

    def body(fields: dict[str, int]) -> dict[str, Any]:
        props = {name: {**_STR, "minLength": 1, "maxLength": n} for name, n in fields.items()}
        return {"required": True, "content": {JSON: {"schema": _obj(list(fields), props)}}}

    bad = _error(
        "a missing or malformed parameter or field (not JSON, not an object, a wrong "
        "type, empty, too long, a query without a letter or digit); the message names it"
    )
    too_large = _error(f"the body is over {web.max_request_bytes} bytes")
    head_off = _error("the head is not loaded (see /api/health)")
    busy = _error(
        "too many searches in progress: retry later",
        headers={"Retry-After": {"schema": _INT, "description": "seconds to wait"}},
    )
    repeated = {"type": "array", "items": _STR, "maxItems": MAX_FILTER_VALUES}

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
        "401": _error(
            "no Authorization: Bearer token",
            headers={"WWW-Authenticate": {"schema": _STR, "description": "Bearer"}},
        ),
        "403": _error("a token that may not write"),
        "503": _error(
            "the index is busy (another writer) or cannot be written now",
            headers={"Retry-After": {"schema": _INT, "description": "seconds to wait"}},
        ),
        "507": _error("the disk is full: nothing was committed"),
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
                        "items": _ref("ArticleIn"),
                        "maxItems": web.max_write_articles,
                    }
                }
            },
        },
        "responses": {
            "200": _json(_ref("WriteResult"), "committed: the good records are searchable"),
            "400": _json(
                _ref("WriteRejected"),
                "the body is not a JSON list, or no record is valid: nothing committed",
            ),
            **write_errors,
            "404": _error("the write API is off (no admin token configured)"),
            "413": _error(
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
            {"name": "id", "in": "path", "required": True, "schema": _STR, "description": "id"}
        ],
        "responses": {
            "200": _json(
                _obj(
                    ["deleted", "generation", "articles"],
                    {"deleted": {"const": True}, "generation": _OFFSET, "articles": _OFFSET},
                ),
                "deleted and committed",
            ),
            **write_errors,
            "404": _error("no article has this id (or the write API is off)"),
        },
    }
    article_q = query(
        "q",
        {**_STR, "maxLength": search.max_query_chars},
        "the search this article was reached from: its terms are given as highlights, "
        "and the reader's answer in this article, if any",
    )
    article_responses = {
        "200": _json(_ref("Article"), "the article, its topic, every entity and its text"),
        "400": bad,
        "404": _error("no article has this id"),
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
                            {**_STR, "minLength": 1, "maxLength": search.max_query_chars},
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
                            {**repeated, "items": {**_STR, "pattern": "^[^=]+=.+$"}},
                            "TYPE=TEXT entities every result must name, e.g. ORG=OPEC",
                            explode=True,
                        ),
                        query(
                            "from",
                            {**_STR, "examples": ["2017-01-01"]},
                            "first date, inclusive: YYYY-MM-DD (or YYYY/M/D)",
                        ),
                        query("to", {**_STR, "examples": ["2017-12-31"]}, "last date, inclusive"),
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
                        "200": _json(_ref("SearchResponse"), "one page of results"),
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
                            "schema": _STR,
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
                        query("id", {**_STR, "minLength": 1}, "the id", required=True),
                        article_q,
                    ],
                    "responses": article_responses,
                },
                "post": upsert,
            },
            "/api/classify": head(
                "Topic of a text: every label with its probability, most likely first",
                {"text": text_limit},
                _json(
                    _obj(["labels"], {"labels": {"type": "array", "items": _ref("LabelScore")}}),
                    "the label distribution",
                ),
            ),
            "/api/tag": head(
                "Named entities of a text, offsets into it",
                {"text": text_limit},
                _json(
                    _obj(["entities"], {"entities": {"type": "array", "items": _ref("Entity")}}),
                    "the entities, in text order",
                ),
            ),
            "/api/answer": head(
                "The reader's best answers to a question in a context",
                {"question": QUESTION_CHARS, "context": text_limit},
                _json(
                    _obj(
                        ["answers"],
                        {
                            "answers": {
                                "type": "array",
                                "maxItems": 3,
                                "items": _obj(
                                    ["text", "score", "start", "end"],
                                    {
                                        "text": _STR,
                                        "score": _PROB,
                                        "start": _OFFSET,
                                        "end": _OFFSET,
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
                    "responses": {"200": _json(_ref("Health"), "the server is up")},
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This description",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
                }
            },
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the server's admin token (write API only)",
                }
            },
        },
    }
