"""The access log: one line per request on the logger ``newsrank.web.access``.

    GET /api/search 200 12.3ms

Method, path, status and milliseconds; the query string (the search text, filters)
is left out unless ``WebConfig.log_queries`` is on (``newsrank serve --log-queries``),
and request bodies (the Analyze page's text) never go in. Each record also carries
the fields as attributes (``method``, ``path``, ``status``, ``duration_ms``, and
``query`` when logged) for a structured handler. ``newsrank serve`` prints the log
to stderr (:func:`configure`); an app created otherwise logs where its host's
logging configuration sends ``newsrank.web.access`` at INFO.

>>> printable("/a\\nb\\x1b")
'/a\\\\x0ab\\\\x1b'
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import TextIO

from flask import Flask, Response, current_app, g, request

LOGGER = "newsrank.web.access"
log = logging.getLogger(LOGGER)

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with control characters as ``\\xNN``, so a path like ``/%0Afake line``
    cannot forge a line of the log."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _start() -> None:
    g.newsrank_t0 = time.perf_counter()


def _log(response: Response) -> Response:
    t0 = g.get("newsrank_t0")
    ms = (time.perf_counter() - t0) * 1000 if t0 is not None else 0.0
    path = printable(request.path)
    method = printable(request.method)
    fields = {"method": method, "path": path, "status": response.status_code}
    shown = path
    if current_app.config["SETTINGS"].web.log_queries and request.query_string:
        fields["query"] = printable(request.query_string.decode("utf-8", "replace"))
        shown = f"{path}?{fields['query']}"
    log.info(
        "%s %s %d %.1fms",
        method,
        shown,
        response.status_code,
        ms,
        extra={**fields, "duration_ms": round(ms, 1)},
    )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_log)


def configure(stream: TextIO | None = None) -> logging.Handler:
    """Print the access log to ``stream`` (stderr) at INFO, once (what ``serve`` does).

    The logger stops propagating, so the root handler (``newsrank -v``) does not print
    every line twice.
    """
    for handler in log.handlers:
        if getattr(handler, "newsrank_access", False):
            return handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.newsrank_access = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    handler.setLevel(logging.INFO)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return handler
