"""The component schemas of the OpenAPI description (:mod:`web.openapi`), and the small
builders both halves of it write schemas with.

Every object the JSON API returns is a named schema here (``#/components/schemas/...``);
:func:`web.openapi.openapi_spec` refers to them from its paths.

>>> sorted(schemas())[:3]
['Article', 'ArticleIn', 'Entity']
>>> obj(["id"], {"id": STR})["required"]
['id']
"""

from __future__ import annotations

from typing import Any

from indexer.ingest import DATE_PATTERN
from newsrank.text import NOT_SPACE

JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, **extra}


def json_body(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}, **extra}


def error(description: str, **extra: Any) -> dict[str, Any]:
    return json_body(ref("Error"), description, **extra)


INT = {"type": "integer"}
NUM = {"type": "number"}
STR = {"type": "string"}
OFFSET = {"type": "integer", "minimum": 0}
PROB = {"type": "number", "minimum": 0, "maximum": 1}
#: a date as the index and the search read it (a spelling that names no real day, such
#: as 2020-02-31, fits the pattern but is refused, 400, or listed as a bad record)
DATE = {
    "type": "string",
    "pattern": DATE_PATTERN,
    "description": "YYYY-MM-DD (or YYYY/M/D), a real calendar day",
}
#: a required text field: a string with at least one character that is not a space
#: (as ``str.strip()`` counts spaces: the server strips the field and refuses it empty)
TEXT = {"type": "string", "pattern": NOT_SPACE}


def schemas() -> dict[str, Any]:
    # the fields an article carries wherever it appears (a hit, the article endpoint)
    record = {
        "id": STR,
        "title": STR,
        "source": nullable(STR),
        "date": nullable({**STR, "format": "date"}),
        "url": nullable(STR),
        "category": nullable(STR),
    }
    label_score = obj(["label", "score"], {"label": STR, "score": PROB})
    entity = obj(
        ["type", "text", "start", "end"],
        {
            "type": {**STR, "description": "PER, ORG, LOC or MISC"},
            "text": {**STR, "description": "the entity as written: source[start:end]"},
            "start": OFFSET,
            "end": OFFSET,
        },
    )
    found_entity = {
        "allOf": [entity],
        **obj(
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
    stage = obj(["rank", "score"], {"rank": {"type": "integer", "minimum": 1}, "score": NUM})
    counts = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
    return {
        "Error": obj(["error"], {"error": {**STR, "description": "what is wrong, in plain words"}}),
        "LabelScore": label_score,
        "Entity": entity,
        "FoundEntity": found_entity,
        "StageScore": stage,
        "Hit": obj(
            ["id", "title", "source", "date", "url", "score", "snippet", "highlights", "stages"],
            {
                **record,
                "score": {
                    **NUM,
                    "description": "the rerank score for reranked results, else the fused score",
                },
                "snippet": STR,
                "highlights": {
                    "type": "array",
                    "description": "[start, end) character spans of query terms in snippet",
                    "items": {
                        "type": "array",
                        "prefixItems": [OFFSET, OFFSET],
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
                "stages": {
                    "type": "object",
                    "description": "each stage's own rank and score: bm25, dense, fused, "
                    "rerank, and recency (the boosted score) when recency is given",
                    "additionalProperties": ref("StageScore"),
                },
                "passage": {**OFFSET, "description": "the id of the best passage"},
                "topic": nullable(ref("LabelScore")),
                "entities": {
                    "type": "array",
                    "items": {
                        "allOf": [ref("FoundEntity")],
                        **obj(["score"], {"score": PROB}),
                    },
                },
                "duplicates": {
                    "type": "array",
                    "items": STR,
                    "description": "ids of the other matching versions of this story "
                    "(near-duplicates: the same text re-published, perhaps with a new "
                    "headline), collapsed under this result, best-ranked first; empty when "
                    "there are none or collapse=false",
                },
                "answer": nullable(
                    obj(
                        ["context", "start", "end", "score"],
                        {
                            "context": {
                                **STR,
                                "description": "the answer inside its passage: "
                                "context[start:end] is the answer",
                            },
                            "start": OFFSET,
                            "end": OFFSET,
                            "score": PROB,
                        },
                    )
                ),
            },
        ),
        "FoundAnswer": obj(
            ["text", "score", "doc_id", "start", "end"],
            {
                "text": STR,
                "score": PROB,
                "doc_id": STR,
                "start": {**OFFSET, "description": "offset into the article's text"},
                "end": OFFSET,
            },
        ),
        "SearchResponse": obj(
            ["query", "results", "total", "page", "pages", "k", "timings_ms", "answers", "facets"],
            {
                "query": {**STR, "description": "the query as searched (whitespace collapsed)"},
                "results": {"type": "array", "items": ref("Hit")},
                "answers": {"type": "array", "items": ref("FoundAnswer")},
                "facets": obj(
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
                            "additionalProperties": STR,
                            "description": 'readable labels of the entity keys, "text · '
                            'kind" (kind: person, organisation, place, other)',
                        },
                    },
                    description="counts over every matching article, not one page",
                ),
                "total": {
                    **OFFSET,
                    "description": "stories matched (near-duplicates counted once; "
                    "articles with collapse=false); facets count the same way",
                },
                "page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
                "k": {"type": "integer", "minimum": 1},
                "timings_ms": {"type": "object", "additionalProperties": NUM},
                "degraded": {
                    "type": "array",
                    "items": STR,
                    "description": "optional stages skipped to answer within the time "
                    'budget (e.g. "rerank", "read"); absent or empty when none was',
                },
                "suggestion": {
                    **nullable(STR),
                    "description": "did you mean: the query with words unknown to the "
                    "index (or far rarer than a close spelling) corrected; null when none is",
                },
                "shards": obj(
                    ["total", "ok", "failed"],
                    {
                        "total": {"type": "integer", "minimum": 1},
                        "ok": OFFSET,
                        "failed": OFFSET,
                        "warnings": {"type": "array", "items": STR},
                    },
                    description="the shards that answered (an unsharded index is one); "
                    "when some failed, the results are the others' and warnings say which",
                ),
            },
        ),
        "Article": obj(
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
                "topic": nullable(ref("LabelScore")),
                "entities": {"type": "array", "items": ref("FoundEntity")},
                "text": STR,
                "related": {
                    "type": "array",
                    "description": "related stories: the live articles nearest to this "
                    "one's passage vectors (best passage match), itself and its "
                    "near-duplicates left out, one per story, best first",
                    "items": obj(
                        ["id", "title", "source", "date", "score"],
                        {
                            "id": STR,
                            "title": STR,
                            "source": nullable(STR),
                            "date": nullable({**STR, "format": "date"}),
                            "score": {**NUM, "description": "cosine similarity"},
                        },
                    ),
                },
                "duplicates": {
                    "type": "array",
                    "items": STR,
                    "description": "ids of the other versions of this story (near-duplicates)",
                },
                "query": {
                    **nullable(STR),
                    "description": "the q this article was asked for with, if any",
                },
                "highlights": {
                    "description": "with q: [start, end) spans of the query terms in the "
                    "title and in the text",
                    **obj(
                        ["title", "text"],
                        {
                            "title": {"type": "array", "items": {"type": "array"}},
                            "text": {"type": "array", "items": {"type": "array"}},
                        },
                    ),
                },
                "answer": {
                    **nullable(ref("FoundAnswer")),
                    "description": "with q and a reader loaded: the reader's answer to q "
                    "in this article (offsets into its text), null when none is confident",
                },
            },
        ),
        "Health": obj(
            ["status", "articles", "passages", "heads", "full_text_entities", "precision"],
            {
                "status": {"const": "ok"},
                "articles": OFFSET,
                "passages": OFFSET,
                "embedder": STR,
                "dense_index": {**STR, "description": '"flat", "hnsw" or "hnsw-fp16"'},
                "index_created": STR,
                "enrichment": nullable({"type": "object"}),
                "heads": obj(
                    ["reranker", "reader", "topic", "tagger"],
                    {h: {"type": "boolean"} for h in ("reranker", "reader", "topic", "tagger")},
                    description="which heads are loaded",
                ),
                "full_text_entities": obj(
                    ["enabled"],
                    {
                        "enabled": {"type": "boolean"},
                        "articles_done": OFFSET,
                        "errors": {"type": "array", "items": STR},
                    },
                    description="lazy tagging of the text past each article's lead",
                ),
                "precision": obj(
                    ["index_vectors", "embedder", "heads"],
                    {
                        "index_vectors": nullable(STR),
                        "embedder": nullable(STR),
                        "heads": {"type": "object", "additionalProperties": STR},
                    },
                    description='"fp32" or "bf16"; a single query is always embedded in fp32',
                ),
                "index": obj(
                    ["generation", "segments", "articles", "deleted", "progress"],
                    {
                        "generation": {**OFFSET, "description": "commits so far"},
                        "segments": OFFSET,
                        "articles": {**OFFSET, "description": "live articles"},
                        "deleted": {
                            **OFFSET,
                            "description": "deleted articles still held by segments "
                            "(a merge drops them)",
                        },
                        "progress": nullable(
                            obj(
                                ["done", "total"],
                                {"done": OFFSET, "total": OFFSET},
                                description="a progressive build still adding articles",
                            )
                        ),
                    },
                    description="the commit being served (newer commits are opened "
                    "within a second or two)",
                ),
                "warnings": {"type": "array", "items": STR},
            },
        ),
        "ArticleIn": obj(
            ["id", "title", "text"],
            {
                "id": TEXT,
                "title": TEXT,
                "text": TEXT,
                "date": DATE,
                "source": STR,
                "url": STR,
                "category": STR,
            },
        ),
        "RecordError": obj(
            ["index", "id", "error"],
            {
                "index": {**OFFSET, "description": "the record's position in the list"},
                "id": nullable(STR),
                "error": STR,
            },
        ),
        "WriteResult": obj(
            ["added", "replaced", "errors", "generation", "articles"],
            {
                "added": {"type": "array", "items": STR, "description": "ids new to the index"},
                "replaced": {
                    "type": "array",
                    "items": STR,
                    "description": "ids whose older version was replaced",
                },
                "errors": {"type": "array", "items": ref("RecordError")},
                "generation": {**OFFSET, "description": "the commit now searched"},
                "articles": {**OFFSET, "description": "live articles after the write"},
            },
        ),
        "WriteRejected": {
            "allOf": [ref("Error")],
            **obj(
                ["error"],
                {"errors": {"type": "array", "items": ref("RecordError")}},
            ),
        },
    }
