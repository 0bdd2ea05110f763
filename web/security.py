"""Safe by default: security headers on every response, and links only to web pages.

Every response (pages, API, static files, error pages) gets a Content-Security-Policy
that lets nothing inline run or style: the templates hold no ``<script>``, no
``style=`` attribute and no ``on*=`` handler, so an injected one would be refused by
the browser even if escaping ever failed. Article URLs come from the indexed data,
so :func:`safe_link` lets only absolute ``http``/``https`` URLs become links.

>>> safe_link("https://news.example.org/a?b=1")
'https://news.example.org/a?b=1'
>>> safe_link(" JaVaScRiPt:alert(1)") is None
True
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response

#: No inline script or style (no 'unsafe-inline', no 'unsafe-eval'), nothing framed,
#: no plugins, no <base> rewriting relative URLs, forms posting only back here.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors 'none' for browsers without CSP 2
    # no-referrer rather than strict-origin-when-cross-origin: the search page's URL
    # carries the query (/?q=...) and the article page's the article, and nothing here
    # needs a Referer (no CSRF check reads it, no analytics), so a click on an outbound
    # "source" link tells the news site nothing, not even that it came from here.
    "Referrer-Policy": "no-referrer",
}

_WEB_URL = re.compile(r"https?://[^/?#\\]", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_link(url: object) -> str | None:
    """``url`` (without surrounding spaces) when it is an absolute http or https URL
    with a host, else None: a page shows such an article's title as plain text.

    Anything else is refused: ``javascript:``, ``data:``, ``vbscript:`` and every other
    scheme in any casing, protocol-relative (``//host``) and relative URLs, and URLs
    with control characters (browsers drop tabs and newlines *inside* a URL, which
    turns ``jav<TAB>ascript:`` into ``javascript:``).

    >>> [safe_link(u) for u in ("HTTP://x.org", "//x.org/a", "data:text/html,hi", "")]
    ['HTTP://x.org', None, None, None]
    """
    if not isinstance(url, str) or _CONTROL.search(url):
        return None
    url = url.strip(" ")
    if not _WEB_URL.match(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def set_headers(response: Response) -> Response:
    """The security headers, unless a handler set its own value of one."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Security headers on every response; ``safe_link`` for the templates (a filter)."""
    app.after_request(set_headers)
    app.add_template_filter(safe_link, "safe_link")
