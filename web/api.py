"""JSON API: search, health, and the heads on their own (classify, tag, answer)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from newsrank.errors import QueryError
from web.engine import get_engine, get_searcher
from web.params import search_request, text_field

bp = Blueprint("api", __name__, url_prefix="/api")


class HeadUnavailable(Exception):
    pass


@bp.errorhandler(QueryError)
def bad_query(exc: QueryError):
    return jsonify({"error": str(exc)}), 400


@bp.errorhandler(HeadUnavailable)
def head_off(exc: HeadUnavailable):
    return jsonify({"error": str(exc)}), 503


@bp.errorhandler(413)
def too_large(exc):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return jsonify({"error": f"request body over {limit} bytes"}), 413


def _head(name: str):
    head = getattr(get_engine(), name)
    if head is None:
        raise HeadUnavailable(f"the {name} head is not loaded (see /api/health)")
    return head


def _body() -> object:
    data = request.get_json(silent=True)
    if data is None:
        raise QueryError("the body must be JSON (Content-Type: application/json)")
    return data


@bp.get("/search")
def search():
    settings = current_app.config["SETTINGS"]
    response = get_searcher().search(search_request(request.args, settings.web.default_k))
    return jsonify(response.to_dict())


@bp.post("/classify")
def classify():
    text = text_field(_body(), "text", current_app.config["SETTINGS"].web.max_text_chars)
    labels = _head("topic").predict([text])[0]
    return jsonify({"labels": [{"label": x.label, "score": round(x.score, 4)} for x in labels]})


@bp.post("/tag")
def tag():
    text = text_field(_body(), "text", current_app.config["SETTINGS"].web.max_text_chars)
    entities = _head("tagger").tag([text])[0]
    return jsonify({"entities": [_entity(e) for e in entities]})


@bp.post("/answer")
def answer():
    data = _body()
    limit = current_app.config["SETTINGS"].web.max_text_chars
    question = text_field(data, "question", 500)
    context = text_field(data, "context", limit)
    answers = _head("reader").answer(question, [context], top_k=3)
    return jsonify(
        {
            "answers": [
                {"text": a.text, "score": round(a.score, 4), "start": a.start, "end": a.end}
                for a in answers
            ]
        }
    )


def _entity(e) -> dict:
    return {"type": e.type, "text": e.text, "start": e.start, "end": e.end}


@bp.get("/health")
def health():
    engine = get_engine()
    searcher = engine.searcher
    manifest = searcher.manifest
    return jsonify(
        {
            "status": "ok",
            "articles": manifest.articles,
            "passages": manifest.passages,
            "embedder": manifest.embedder,
            "dense_index": manifest.dense_kind,
            "index_created": manifest.created,
            "enrichment": manifest.enrichment,
            "heads": {
                "reranker": searcher.reranker is not None,
                "reader": engine.reader is not None,
                "topic": engine.topic is not None,
                "tagger": engine.tagger is not None,
            },
            "full_text_entities": _fulltext_status(searcher.fulltext),
            "precision": {
                "index_vectors": manifest.embedder_dtype or None,
                # batches of min_bf16_batch texts or more; a single query is always fp32
                "embedder": getattr(searcher.embedder, "precision", None),
                "heads": _heads_precision(engine),
            },
            "warnings": engine.warnings,
        }
    )


def _heads_precision(engine) -> dict:
    """Arithmetic ("fp32"/"bf16") of each loaded head; heads without one are left out."""
    heads = {
        "reranker": engine.searcher.reranker,
        "reader": engine.reader,
        "topic": engine.topic,
        "tagger": engine.tagger,
    }
    return {k: h.precision for k, h in heads.items() if hasattr(h, "precision")}


def _fulltext_status(fulltext) -> dict:
    """Lazy full-text tagging: on or off, how many articles are done, recent errors."""
    if fulltext is None:
        return {"enabled": False}
    return {"enabled": True, "articles_done": fulltext.count(), "errors": fulltext.errors}
