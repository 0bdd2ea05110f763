"""JSON API: search, health, and the heads on their own (classify, tag, answer)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from newsrank.errors import QueryError
from newsrank.text import replace_surrogates
from web.articles import find_article
from web.engine import get_engine, get_searcher
from web.openapi import openapi_spec
from web.params import search_request, text_field

bp = Blueprint("api", __name__, url_prefix="/api")


class HeadUnavailable(Exception):
    pass


def json_http_error(exc: HTTPException):
    """Any HTTP error under /api (an unknown path, a wrong method...) as JSON, like the
    handlers' own errors; registered app-wide by :func:`init_app`, since routing errors
    happen before a blueprint is chosen."""
    if not request.path.startswith(bp.url_prefix + "/"):
        return exc
    response = jsonify({"error": f"{exc.code} {exc.name}: {exc.description}"})
    response.status_code = exc.code or 500
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def init_app(app) -> None:
    app.register_error_handler(HTTPException, json_http_error)


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
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # json.loads gives up on arrays or objects nested this deep
        raise QueryError("the body is JSON nested too deeply") from None
    if data is None:
        raise QueryError("the body must be JSON (Content-Type: application/json)")
    return data


@bp.get("/search")
def search():
    settings = current_app.config["SETTINGS"]
    engine = get_engine()
    searcher = engine.current()  # once: the whole request reads this commit
    response = engine.search(search_request(request.args, settings.web.default_k), searcher)
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


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API, with this app's limits (web.openapi)."""
    return jsonify(openapi_spec(current_app.config["SETTINGS"]))


@bp.get("/health")
def health():
    engine = get_engine()
    searcher = engine.current()
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
                "heads": _heads_precision(engine, searcher),
            },
            "index": {
                "generation": manifest.generation,
                "segments": len(manifest.segments),
                "articles": manifest.articles,
                "deleted": manifest.deleted,
                # a progressive build still adding: {"done", "total"} articles
                "progress": manifest.progress or None,
            },
            "warnings": engine.warnings,
        }
    )


def _heads_precision(engine, searcher) -> dict:
    """Arithmetic ("fp32"/"bf16") of each loaded head; heads without one are left out."""
    heads = {
        "reranker": searcher.reranker,
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


def _query_arg() -> str | None:
    """The ``q`` an article was asked for with (lone surrogates replaced), or None."""
    value = request.args.get("q")
    return None if value is None else replace_surrogates(value)


@bp.get("/articles", endpoint="article_query")
@bp.get("/articles/<path:article_id>", merge_slashes=False)
def article(article_id: str | None = None):
    """One article by id (``?id=`` for ids the path cannot carry, see web.articles):
    its record, topic, every entity (with ``field`` and ``in_index``), full text, related
    stories and other versions; with ``?q=`` the query terms' spans and the reader's
    answer in it."""
    if article_id is None:
        article_id = request.args.get("id")
        if not article_id:
            raise QueryError("missing id: pass the article's id as /api/articles/<id> or ?id=")
    view = find_article(get_searcher(), article_id, _query_arg())
    if view is None:
        return jsonify({"error": f"no article has the id {article_id[:200]!r}"}), 404
    return jsonify(view.to_dict())
