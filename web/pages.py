"""The HTML pages: search at ``/``, the Analyze page at ``/analyze`` and each article
at ``/article/<id>`` (``web.articles``)."""

from __future__ import annotations

import calendar

from flask import Blueprint, current_app, render_template, request, url_for
from markupsafe import Markup, escape

from newsrank.errors import QueryError
from newsrank.text import replace_surrogates
from web.articles import find_article, version_info
from web.engine import get_engine, get_searcher
from web.params import search_request, text_field

bp = Blueprint("pages", __name__)


def _wrap(text: str, marks) -> Markup:
    """Escape ``text`` and wrap each ``(start, end, open_tag)`` span in that tag and </mark>.

    Spans are taken in order of start; one that overlaps the previous is skipped.
    """
    out, last = [], 0
    for start, end, open_tag in sorted(marks, key=lambda m: m[0]):
        if start < last:
            continue
        out.append(escape(text[last:start]))
        out.append(open_tag + escape(text[start:end]) + Markup("</mark>"))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def highlight(text: str, spans, css: str = "") -> Markup:
    """HTML for ``text`` with ``spans`` wrapped in <mark>; everything else escaped.

    >>> str(highlight("<b>oil</b> up", [(3, 6)]))
    '&lt;b&gt;<mark>oil</mark>&lt;/b&gt; up'
    """
    open_tag = Markup(f'<mark class="{css}">') if css else Markup("<mark>")
    return _wrap(text, [(start, end, open_tag) for start, end in sorted(spans)])


def mark_entities(text: str, entities) -> Markup:
    """``text`` with each entity wrapped in ``<mark class="ent ent-TYPE">``, all escaped."""
    tag = Markup('<mark class="ent ent-{}" title="{}">')
    return _wrap(text, [(e.start, e.end, tag.format(e.type, e.type)) for e in entities])


def _inside(spans, lo: int, hi: int) -> list[tuple[int, int]]:
    """The spans within ``[lo, hi)``, shifted to start at ``lo``."""
    return [(a - lo, b - lo) for a, b in spans if a >= lo and b <= hi]


@bp.app_template_global()
def mark_text(text: str, entities, terms=()) -> Markup:
    """``text`` with each entity in ``<mark class="ent ent-TYPE">`` and each query-term
    span of ``terms`` in ``<mark>`` (inside an entity's mark when it falls in one; a term
    span across an entity's edge is left unmarked), everything escaped.

    >>> from newsrank.types import FoundEntity
    >>> iraq = FoundEntity("LOC", "Iraq", 9, 13, 0.9)
    >>> str(mark_text("<Oil> in Iraq", [iraq], [(1, 4), (9, 13)]))
    '&lt;<mark>Oil</mark>&gt; in <mark class="ent ent-LOC" title="LOC"><mark>Iraq</mark></mark>'
    """
    if not terms:
        return mark_entities(text, entities)
    tag = Markup('<mark class="ent ent-{}" title="{}">')
    out, last = [], 0
    for e in sorted(entities, key=lambda e: e.start):
        if e.start < last:
            continue
        out.append(highlight(text[last : e.start], _inside(terms, last, e.start)))
        inner = highlight(text[e.start : e.end], _inside(terms, e.start, e.end))
        out.append(tag.format(e.type, e.type) + inner + Markup("</mark>"))
        last = e.end
    out.append(highlight(text[last:], _inside(terms, last, len(text))))
    return Markup("").join(out)


@bp.app_template_filter("highlight")
def highlight_filter(hit) -> Markup:
    return highlight(hit.snippet, hit.highlights)


@bp.app_template_filter("answer_html")
def answer_filter(answer) -> Markup:
    return highlight(answer.context, [(answer.start, answer.end)], css="answer")


@bp.app_template_global()
def url_with(name: str | None = None, value: str | None = None, page: int | None = None) -> str:
    """This page's URL with one more filter value (back to page 1), or another page."""
    args = request.args.copy()
    args.pop("page", None)
    if name is not None and value not in args.getlist(name):
        args.add(name, value)
    if page is not None:
        args["page"] = str(page)
    return url_for(request.endpoint, **args.to_dict(flat=False))


@bp.app_template_global()
def url_without(name: str, value: str) -> str:
    """This page's URL with one filter value removed (back to page 1)."""
    args = request.args.copy()
    args.pop("page", None)
    kept = [v for v in args.getlist(name) if v != value]
    args.setlist(name, kept)
    return url_for(request.endpoint, **args.to_dict(flat=False))


@bp.app_template_global()
def url_set(**values: str | None) -> str:
    """This page's URL with some parameters set to one value each (None or "" removes
    one), back to page 1: a month bar's ``from``/``to``, the sort order."""
    args = request.args.copy()
    args.pop("page", None)
    for name, value in values.items():
        args.pop(name, None)
        if value:
            args[name] = value
    return url_for(request.endpoint, **args.to_dict(flat=False))


def month_bars(counts: dict[str, int] | None) -> list[dict]:
    """The date facet as bars: ``{"month", "count", "from", "to"}`` (the month's first
    and last day), oldest first; a key that is not ``YYYY-MM`` is left out.

    >>> month_bars({"2016-02": 3})
    [{'month': '2016-02', 'count': 3, 'from': '2016-02-01', 'to': '2016-02-29'}]
    """
    bars = []
    for month, count in sorted((counts or {}).items()):
        try:
            year, mon = (int(x) for x in month.split("-"))
            last = calendar.monthrange(year, mon)[1]
        except (ValueError, calendar.IllegalMonthError):
            continue
        first = f"{year:04d}-{mon:02d}"
        bars.append(
            {"month": month, "count": count, "from": f"{first}-01", "to": f"{first}-{last}"}
        )
    return bars


def corpus_overview(searcher) -> list[dict]:
    """What the index holds, per source: articles, undated ones, first and last date."""
    return [
        {"source": source, "articles": n, "undated": undated, "first": first, "last": last}
        for source, n, undated, first, last in searcher.store.source_summary()
    ]


@bp.get("/")
def index():
    searcher = get_searcher()  # once: the whole request reads this commit
    settings = current_app.config["SETTINGS"]
    context = {
        "q": request.args.get("q", ""),
        "args": request.args,
        "sources": sorted(searcher.store.source_counts()),
        "response": None,
        "error": None,
        # a progressive build still adding: {"done", "total"} articles (a notice)
        "progress": searcher.manifest.progress or None,
    }
    status = 200
    if "q" in request.args:
        try:
            context["response"] = get_engine().search(
                search_request(request.args, settings.web.default_k), searcher
            )
        except QueryError as exc:
            context["error"], status = str(exc), 400
    if context["response"] is not None:
        context["months"] = month_bars(context["response"].facets.get("date"))
        # the other versions of each collapsed story, to list under "N more versions"
        ids = [d for hit in context["response"].results for d in hit.duplicates]
        context["versions"] = version_info(searcher, ids) if ids else {}
    else:  # no search yet: say what the index holds, and what to try
        context["overview"] = corpus_overview(searcher)
        context["examples"] = settings.web.example_queries
    return render_template("search.html", **context), status


@bp.route("/analyze", methods=["GET", "POST"])
def analyze():
    engine = get_engine()
    context = {"text": "", "labels": None, "entities": None, "error": None, "engine": engine}
    status = 200
    if request.method == "POST":
        context["text"] = request.form.get("text", "")
        try:
            text = text_field(
                dict(request.form), "text", current_app.config["SETTINGS"].web.max_text_chars
            )
            if engine.topic is not None:
                context["labels"] = engine.topic.predict([text])[0]
            if engine.tagger is not None:
                context["entities"] = engine.tagger.tag([text])[0]
        except QueryError as exc:
            context["error"], status = str(exc), 400
    return render_template("analyze.html", **context), status


@bp.get("/article", endpoint="article_query")
@bp.get("/article/<path:article_id>", merge_slashes=False)
def article(article_id: str | None = None):
    """One article: title, source, date, link, topic, its full text with every entity
    marked, its other versions and related stories; ``/article?id=...`` for ids the path
    cannot carry (web.articles). ``?q=``: the search it was opened from (its terms
    marked, the reader's answer in this article shown)."""
    if article_id is None:
        article_id = request.args.get("id")
        if not article_id:
            message = "missing id: pass the article's id as /article/<id> or /article?id=..."
            return render_template("article_missing.html", message=message), 400
    query = request.args.get("q")
    view = find_article(get_searcher(), article_id, replace_surrogates(query) if query else None)
    if view is None:
        message = f"No article has the id {article_id[:200]!r}."
        return render_template("article_missing.html", message=message), 404
    return render_template("article.html", view=view, a=view.article)
