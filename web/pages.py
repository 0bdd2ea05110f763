"""The search page at ``/``."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup, escape

from newsrank.errors import QueryError
from web.engine import get_searcher
from web.params import search_request

bp = Blueprint("pages", __name__)


def highlight(text: str, spans: list[tuple[int, int]]) -> Markup:
    """HTML for ``text`` with ``spans`` wrapped in <mark>; everything else escaped.

    >>> str(highlight("<b>oil</b> up", [(3, 6)]))
    '&lt;b&gt;<mark>oil</mark>&lt;/b&gt; up'
    """
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(escape(text[last:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


@bp.app_template_filter("highlight")
def highlight_filter(hit) -> Markup:
    return highlight(hit.snippet, hit.highlights)


@bp.get("/")
def index():
    searcher = get_searcher()
    settings = current_app.config["SETTINGS"]
    context = {
        "q": request.args.get("q", ""),
        "args": request.args,
        "sources": sorted(searcher.store.source_counts()),
        "response": None,
        "error": None,
    }
    status = 200
    if "q" in request.args:
        try:
            context["response"] = searcher.search(
                search_request(request.args, settings.web.default_k)
            )
        except QueryError as exc:
            context["error"], status = str(exc), 400
    return render_template("search.html", **context), status
