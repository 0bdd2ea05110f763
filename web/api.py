"""JSON API: ``GET /api/search`` and ``GET /api/health``."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from newsrank.errors import QueryError
from web.engine import get_searcher
from web.params import search_request

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.errorhandler(QueryError)
def bad_query(exc: QueryError):
    return jsonify({"error": str(exc)}), 400


@bp.get("/search")
def search():
    settings = current_app.config["SETTINGS"]
    response = get_searcher().search(search_request(request.args, settings.web.default_k))
    return jsonify(response.to_dict())


@bp.get("/health")
def health():
    searcher = get_searcher()
    manifest = searcher.manifest
    return jsonify(
        {
            "status": "ok",
            "articles": manifest.articles,
            "passages": manifest.passages,
            "embedder": manifest.embedder,
            "dense_index": manifest.dense_kind,
            "index_created": manifest.created,
        }
    )
