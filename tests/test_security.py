"""Safe by default: security headers on every response, links only for web URLs, the
templates free of inline script and style, and an access log that keeps queries out."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

import pytest

from newsrank.config import Settings, WebConfig
from web import access, create_app
from web.security import CONTENT_SECURITY_POLICY, safe_link

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def csp_directives(value: str) -> dict[str, list[str]]:
    out = {}
    for part in value.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def assert_secure(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    csp = csp_directives(response.headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert "unsafe" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/?q=oil", 200),
        ("GET", "/analyze", 200),
        ("GET", "/article/oil-2", 200),
        ("GET", "/api/search?q=oil", 200),
        ("GET", "/api/health", 200),
        ("GET", "/api/articles/oil-2", 200),
        ("GET", "/static/style.css", 200),
        ("GET", "/no-such-page", 404),
        ("GET", "/api/no-such-endpoint", 404),
        ("GET", "/article/no-such-article", 404),
        ("GET", "/api/articles/no-such-article", 404),
        ("GET", "/static/missing.css", 404),
        ("GET", "/?q=", 400),
        ("GET", "/api/search?q=", 400),
        ("POST", "/api/classify", 400),  # no JSON body
        ("POST", "/api/search?q=oil", 405),
    ],
)
def test_every_response_has_the_security_headers(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert_secure(response)


def test_static_files_are_served_with_their_type_and_nosniff(client):
    response = client.get("/static/style.css")
    assert response.mimetype == "text/css" and response.headers["X-Content-Type-Options"]


def test_body_too_large_413_has_the_headers(index_dir, searcher):
    app = create_app({"TESTING": True, "SEARCHER": searcher, "MAX_CONTENT_LENGTH": 64})
    client = app.test_client()
    api = client.post("/api/classify", json={"text": "x" * 500})
    assert api.status_code == 413 and "error" in api.get_json()
    assert_secure(api)
    page = client.post("/analyze", data={"text": "x" * 500})
    assert page.status_code == 413
    assert_secure(page)


def test_server_errors_have_the_headers_too(searcher):
    app = create_app({"SEARCHER": searcher})  # not TESTING: errors become 500 pages

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert_secure(response)


def test_a_handler_may_set_its_own_header(searcher):
    """setdefault: a route that needs another policy keeps it (none does today)."""
    app = create_app({"TESTING": True, "SEARCHER": searcher})

    @app.get("/framable")
    def framable():
        return "ok", 200, {"X-Frame-Options": "SAMEORIGIN"}

    response = app.test_client().get("/framable")
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_script_style_or_handlers(template):
    """What the CSP refuses must not be in our own pages: no <script> or <style>
    element, no style= attribute, no on*= handler, no javascript: URL."""
    html = re.sub(r"\{#.*?#\}", "", template.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert not re.search(r"<\s*(script|style)\b", html, re.IGNORECASE)
    assert not re.search(r"\sstyle\s*=", html, re.IGNORECASE)
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)
    assert "javascript:" not in html.lower()


def test_the_analyze_page_draws_its_bars_without_inline_style(searcher):
    from tests.fakes import FakeClassifier
    from web.engine import Engine

    app = create_app({"TESTING": True, "ENGINE": Engine(searcher, FakeClassifier())})
    page = app.test_client().post("/analyze", data={"text": "Oil prices fell"}).get_data(True)
    assert '<meter class="bar" min="0" max="1" value="0.8">80.0%</meter>' in page
    assert "style=" not in page


# -- links only for http(s) ---------------------------------------------------------

SAFE = [
    "http://news.example.org/a",
    "https://news.example.org/a?b=1&c=2#d",
    "HTTPS://NEWS.EXAMPLE.ORG/A",
    "HtTp://example.org",
    "https://例え.jp/記事",
    "https://[2001:db8::1]/a",
    "https://user@example.org:8443/a",
]
UNSAFE = [
    None,
    42,
    "",
    " ",
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " JaVaScRiPt:alert(1)",
    "\tjavascript:alert(1)",
    "jav\tascript:alert(1)",
    "java\nscript:alert(1)",
    "java\rscript:alert(1)",
    "\x00javascript:alert(1)",
    "\x01https://example.org",
    "javascript://example.org/%0aalert(1)",
    "jav&#x09;ascript:alert(1)",
    "&#106;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD4=",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "livescript:alert(1)",
    "file:///etc/passwd",
    "ftp://example.org/x",
    "mailto:a@example.org",
    "tel:+123",
    "blob:https://example.org/uuid",
    "//evil.example/x",
    "\\\\evil.example/x",
    "/relative/path",
    "relative/path",
    "?q=1",
    "#top",
    "https:evil.example",
    "https:/evil.example",
    "https:\\\\evil.example",
    "http://",
    "https://?q",
    "https://[::1",
    "http\x00://example.org",
    "https://exa\nmple.org",
    "\u00a0https://example.org",
    "ｊavascript:alert(1)",
]


@pytest.mark.parametrize("url", SAFE)
def test_safe_link_keeps_web_urls(url):
    assert safe_link(url) == url
    assert safe_link(f"  {url}  ") == url  # surrounding spaces go, as browsers drop them


@pytest.mark.parametrize("url", UNSAFE)
def test_safe_link_refuses_everything_else(url):
    assert safe_link(url) is None


# -- the access log ---------------------------------------------------------------


@pytest.fixture()
def access_log(caplog):
    caplog.set_level(logging.INFO, logger=access.LOGGER)
    return caplog


def access_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "newsrank.web.access"]


def test_one_line_per_request_with_method_path_status_and_ms(client, access_log):
    client.get("/api/search?q=secret+oil&k=2")
    client.get("/no-such-page?q=secret")
    client.post("/analyze", data={"text": "secret text"})
    records = access_records(access_log)
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", "/api/search", 200),
        ("GET", "/no-such-page", 404),
        ("POST", "/analyze", 200),
    ]
    first = records[0]
    assert first.levelno == logging.INFO and 0 <= first.duration_ms < 60_000
    assert re.fullmatch(r"GET /api/search 200 \d+\.\dms", first.getMessage())
    assert not hasattr(first, "query")
    assert "secret" not in access_log.text  # neither query text nor the posted body


def test_queries_are_logged_only_when_asked(searcher, access_log):
    settings = Settings(web=WebConfig(log_queries=True))
    app = create_app({"TESTING": True, "SEARCHER": searcher, "SETTINGS": settings})
    client = app.test_client()
    client.get("/?q=secret")
    client.post("/analyze", data={"text": "posted body"})
    first, second = access_records(access_log)
    assert first.getMessage().startswith("GET /?q=secret 200 ")
    assert first.query == "q=secret" and first.path == "/"
    assert second.getMessage().startswith("POST /analyze 200 ")  # a body is never logged
    assert "posted body" not in access_log.text


def test_a_path_cannot_forge_a_log_line(client, access_log):
    client.get("/article/x%0A127.0.0.1 GET /admin 200")
    (record,) = access_records(access_log)
    message = record.getMessage()
    assert "\n" not in message and message.startswith("GET /article/x\\x0a127.0.0.1 GET /admin")
    assert record.status == 404


def test_serve_log_queries_flag_and_stderr_logger(monkeypatch):
    import waitress

    import web
    from newsrank.cli import build_parser

    made = []
    monkeypatch.setattr(web, "create_app", lambda config: made.append(config) or object())
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: None)
    logger = logging.getLogger(access.LOGGER)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        for argv, expected in (
            (["serve", "--index", "x"], False),
            (["serve", "--index", "x", "--log-queries"], True),
        ):
            args = build_parser(argv).parse_args(argv)
            assert args.func(args) == 0
            assert made[-1]["SETTINGS"].web.log_queries is expected
        ours = [h for h in logger.handlers if getattr(h, "newsrank_access", False)]
        assert len(ours) == 1  # configured once, however often serve ran
        assert ours[0].stream is sys.stderr and ours[0].level == logging.INFO
        assert logger.level == logging.INFO and logger.propagate is False
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
