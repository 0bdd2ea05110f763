"""The write API: change the live index over HTTP (upsert and delete articles).

    POST   /api/articles        [{"id", "title", "text", "date", "source", "url", "category"}]
    DELETE /api/articles/<id>

Off unless an admin token is configured (``NEWSRANK_ADMIN_TOKEN``, or ``newsrank serve
--admin-token-file FILE``): without one both endpoints answer 404, as if they did not
exist. With one, a request needs ``Authorization: Bearer <token>`` (401 without it, 403
with another token; compared in constant time).

A write takes the index's writer lock (``indexer.writer``; waiting up to
``WebConfig.write_wait_s``, then 503 with Retry-After), adds the good records as one
new segment with the engine's loaded embedder (and the heads that labelled the index,
when it is enriched), commits (durably), lets the merge policy merge, and reopens the
engine before answering: a 200 means "searchable now". Bad records are listed with
their position and reason (``{"index", "id", "error"}``) and the good ones committed;
an id given twice in one request keeps its first record. Writes in one process run one
at a time; the access log (``web.access``) has one line per write, never a text.
"""

from __future__ import annotations

import errno
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request

from indexer.article import Article
from indexer.ingest import make_article
from indexer.shard_writer import ShardedWriter
from indexer.shards import is_sharded
from indexer.writer import IndexWriter
from newsrank.config import HeadsConfig, WebConfig
from newsrank.errors import IndexLockedError, IndexWriteError, NewsrankError
from newsrank.text import replace_surrogates
from web.engine import Engine, get_engine

log = logging.getLogger("newsrank.web.admin")

bp = Blueprint("admin", __name__, url_prefix="/api")

#: seconds a client is told to wait when the index is busy
RETRY_AFTER_S = 5


class WriteRefused(Exception):
    """A write answered with a JSON error (``status``, extra ``headers``)."""

    def __init__(self, message: str, status: int, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


@bp.errorhandler(WriteRefused)
def _refused(exc: WriteRefused):
    return jsonify({"error": str(exc)}), exc.status, exc.headers


@bp.errorhandler(413)
def _too_large(exc: Exception):
    limit = _web().max_write_bytes
    return jsonify({"error": f"request body over {limit} bytes"}), 413


def _web() -> WebConfig:
    return current_app.config["SETTINGS"].web


def admin_token(value: object) -> str | None:
    """The configured admin token (surrounding whitespace stripped), None when none is
    configured; an empty one is refused (it would let anyone write).

    >>> admin_token("  s3cret\\n"), admin_token(None)
    ('s3cret', None)
    """
    if value is None:
        return None
    token = str(value).strip()
    if not token:
        raise NewsrankError(
            "the admin token is empty: put a long random secret in NEWSRANK_ADMIN_TOKEN "
            "or the --admin-token-file, or unset it to keep the write API off"
        )
    return token


def _authorize() -> Engine:
    """404 without a configured token, 401 without a bearer token, 403 with a wrong one."""
    token = current_app.config.get("ADMIN_TOKEN")
    if not token:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise WriteRefused(
            "the write API needs an admin token: send Authorization: Bearer <token>",
            401,
            {"WWW-Authenticate": 'Bearer realm="newsrank"'},
        )
    if not hmac.compare_digest(given.strip().encode(), str(token).encode()):
        raise WriteRefused("this token may not change the index", 403)
    return get_engine()


def _records() -> list[Any]:
    """The body: a JSON list of article objects (400 for anything else, 413 past the
    limits)."""
    web = _web()
    request.max_content_length = web.max_write_bytes
    raw = request.get_data(cache=False)  # a 413 past max_write_bytes
    try:
        data = json.loads(raw)
    except RecursionError:
        raise WriteRefused("the body is JSON nested too deeply", 400) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise WriteRefused(f"the body must be a JSON list of articles ({exc})", 400) from None
    if not isinstance(data, list):
        raise WriteRefused("the body must be a JSON list of article objects", 400)
    if len(data) > web.max_write_articles:
        raise WriteRefused(
            f"{len(data)} articles in one request; send at most {web.max_write_articles}",
            413,
        )
    return data


def _clean(record: dict) -> dict:
    """String values with lone surrogates replaced (they could not be stored)."""
    return {k: replace_surrogates(v) if isinstance(v, str) else v for k, v in record.items()}


def validate(records: list[Any]) -> tuple[list[Article], list[dict]]:
    """The good articles, and an error ``{"index", "id", "error"}`` for each bad record
    (not an object, a field missing or of the wrong type, a bad date, an id given
    earlier in the same request).

    >>> good, bad = validate([{"id": "a", "title": "T", "text": "x"}, {"id": "a"}, 3])
    >>> [a.id for a in good], [(e["index"], e["id"]) for e in bad]
    (['a'], [(1, 'a'), (2, None)])
    """
    articles: list[Article] = []
    errors: list[dict] = []
    first: dict[str, int] = {}
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            errors.append({"index": i, "id": None, "error": "not a JSON object"})
            continue
        record = _clean(record)
        raw_id = record.get("id")
        shown = str(raw_id)[:200] if isinstance(raw_id, (str, int, float)) else None
        try:
            article = make_article(record, {})
        except ValueError as exc:
            errors.append({"index": i, "id": shown, "error": str(exc)})
            continue
        if article.id in first:
            message = f"id given twice in this request (first at index {first[article.id]})"
            errors.append({"index": i, "id": article.id, "error": message})
            continue
        first[article.id] = i
        articles.append(article)
    return articles, errors


def _heads_for(engine: Engine, enrichment: dict) -> dict[str, object]:
    """The topic classifier and tagger that labelled the index (``enrichment`` names
    them): the engine's own when they are the same heads, else loaded once."""
    names = {role: enrichment.get(role) for role in ("topic", "tagger") if enrichment.get(role)}
    started = engine.heads or HeadsConfig()
    loaded = {"topic": engine.topic, "tagger": engine.tagger}
    out: dict[str, object] = {}
    missing: dict[str, str] = {}
    for role, name in names.items():
        if loaded[role] is not None and getattr(started, role) == name:
            out[role] = loaded[role]
        elif engine.index_heads.get(role, (None, None))[0] == name:
            out[role] = engine.index_heads[role][1]
        else:
            missing[role] = str(name)
    if missing:
        from heads.loaders import load_heads

        config = HeadsConfig(
            topic=missing.get("topic"), tagger=missing.get("tagger"), precision=started.precision
        )
        heads = load_heads(config, roles=("topic", "tagger"), missing="error")
        for role, name in missing.items():
            head = getattr(heads, role)
            if head is None:
                raise NewsrankError(f"the {role} head {name!r} that labelled the index is missing")
            engine.index_heads[role] = (name, head)
            out[role] = head
    return out


def _locked(engine: Engine, change: Callable[[IndexWriter], dict]) -> dict:
    """Run ``change`` on an open writer of the engine's index, one write at a time,
    then merge and reopen; what ``change`` returned, plus the commit it made."""
    wait_s = _web().write_wait_s
    start = time.monotonic()
    busy = {"Retry-After": str(RETRY_AFTER_S)}
    if not engine.write_lock.acquire(timeout=wait_s):
        raise WriteRefused(f"another write is in progress; retry in {RETRY_AFTER_S} s", 503, busy)
    try:
        searcher = engine.current()
        left = max(wait_s - (time.monotonic() - start), 0.0)
        if is_sharded(searcher.index_dir):  # each article routed to the shard owning its id
            writer = ShardedWriter(searcher.index_dir, embedder=searcher.embedder, wait_s=left)
        else:
            writer = IndexWriter(searcher.index_dir, embedder=searcher.embedder, wait_s=left)
        try:
            with writer:
                if writer.enrichment:
                    heads = _heads_for(engine, writer.enrichment)
                    writer.classifier = heads.get("topic")  # type: ignore[assignment]
                    writer.tagger = heads.get("tagger")  # type: ignore[assignment]
                out = change(writer)
                if out.pop("committed", False):
                    writer.maybe_merge()
                generation = writer.manifest.generation if writer.manifest else 0
        except IndexLockedError as exc:
            raise WriteRefused(f"{exc}; retry in {RETRY_AFTER_S} s", 503, busy) from None
        except IndexWriteError as exc:
            raise WriteRefused(str(exc), 503) from None
        except OSError as exc:
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            status = 507 if full else 503
            raise WriteRefused(f"the index could not be written: {exc}", status) from None
        except NewsrankError as exc:  # the server's set-up (heads, embedder), not the input
            raise WriteRefused(str(exc), 503) from None
        searcher = engine.refresh()  # before answering: searchable now
    finally:
        engine.write_lock.release()
    return {**out, "generation": generation, "articles": searcher.manifest.articles}


@bp.post("/articles")
def upsert():
    """Add or replace articles; bad records are listed, the good ones committed."""
    engine = _authorize()
    articles, errors = validate(_records())
    if not articles:
        message = "no article to add: the list is empty" if not errors else "every record failed"
        return jsonify({"error": message, "errors": errors}), 400

    def add(writer: IndexWriter) -> dict:
        result = writer.add(articles)
        writer.commit()
        return {"added": result.added, "replaced": result.replaced, "committed": True}

    out = _locked(engine, add)
    log.info(
        "upsert: %d added, %d replaced, %d errors, generation %d",
        len(out["added"]),
        len(out["replaced"]),
        len(errors),
        out["generation"],
    )
    return jsonify({**out, "errors": errors})


@bp.delete("/articles/<path:article_id>", merge_slashes=False)
def delete(article_id: str) -> Response | tuple[Response, int]:
    """Delete one article by id (404 when the index does not hold it)."""
    engine = _authorize()

    def remove(writer: IndexWriter) -> dict:
        result = writer.delete([article_id])
        if not result.deleted:
            return {"deleted": False}
        writer.commit()
        return {"deleted": True, "committed": True}

    out = _locked(engine, remove)
    if not out["deleted"]:
        return jsonify({"error": f"no article has the id {article_id[:200]!r}"}), 404
    log.info("delete: generation %d", out["generation"])
    return jsonify(out)
