"""API fuzz: seeded random and adversarial requests at every endpoint and method, with
the real shipped heads in the engine (reranker and reader in every search); none may
get a 5xx.

About 330 requests in all: a fixed list of adversarial ones, then hypothesis-generated
query strings, JSON and form bodies, article ids and paths (derandomized, so every run
sends the same requests). The app runs with TESTING on, so an exception in a handler
fails the test with its traceback instead of turning into a 500.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import shipped
from tests.shipped import PASTED, one_torch_thread
from web import create_app

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)

FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
ENDPOINTS = [
    "/",
    "/analyze",
    "/api/search",
    "/api/health",
    "/api/classify",
    "/api/tag",
    "/api/answer",
    "/api/openapi.json",
    "/api/articles",
    "/api/articles/oil-1",
    "/article",
    "/article/oil-1",
]
UNKNOWN = ["/api", "/api/", "/api/nope", "/nope", "/api/search/extra", "//api//search", "/static/x"]
#: the JSON endpoints and the methods they take: their errors must be JSON too
JSON_ROUTES = {
    ("GET", "/api/search"),
    ("GET", "/api/health"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/articles"),
    ("POST", "/api/classify"),
    ("POST", "/api/tag"),
    ("POST", "/api/answer"),
}


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory, news_articles, embedder):
    from ranker.search import Searcher

    index = shipped.long_index(tmp_path_factory, news_articles, embedder)
    searcher = Searcher.open(index, embedder=embedder)
    app = create_app({"TESTING": True, "ENGINE": shipped.engine(searcher)})
    return app.test_client()


def _article_path(path: str) -> bool:
    """Whether the article route takes ``path``: an id of one character or more that
    does not start with a slash (``web.articles``); other paths are plain 404s."""
    quoted = path.removeprefix("/api/articles/")
    article_id = urllib.parse.unquote(quoted)
    return quoted != path and article_id[:1] not in ("", "/") and "\n" not in article_id


def send(client, method, path, **kwargs):
    """One request; fails on a 5xx, and on a JSON route's error that is not JSON."""
    response = client.open(path, method=method, **kwargs)
    shown = f"{method} {path} {kwargs!r:.300} -> {response.status_code}"
    assert response.status_code < 500, shown + "\n" + response.get_data(as_text=True)[:500]
    if (method, path) in JSON_ROUTES or (method == "GET" and _article_path(path)):
        assert response.is_json, shown
        data = response.get_json()
        if response.status_code >= 400:
            assert isinstance(data.get("error"), str) and data["error"], shown
    return response


DEEP = "[" * 50_000 + "]" * 50_000
ADVERSARIAL = [
    ("GET", "/api/search", {"query_string": {"q": "A" * 10_000}}),
    ("GET", "/api/search", {"query_string": "q=%00%00oil%00"}),
    ("GET", "/api/search", {"query_string": "q=%ED%A0%80"}),  # a surrogate's UTF-8-ish bytes
    ("GET", "/api/search", {"query_string": "q=%FF%FE%FD&k=%FF"}),
    ("GET", "/api/search", {"query_string": {"q": PASTED, "k": "100"}}),
    ("GET", "/", {"query_string": {"q": PASTED}}),
    ("GET", "/", {"query_string": {"q": "石油" * 250}}),
    ("GET", "/api/search", {"query_string": {"q": "\u202e\u200f oil \u200e", "page": "3"}}),
    ("GET", "/api/search", {"query_string": {"q": "oil", "k": "1e9"}}),
    ("GET", "/api/search", {"query_string": {"q": "oil", "k": "9" * 5000}}),
    ("GET", "/api/search", {"query_string": {"q": "oil", "page": "1000000"}}),
    ("GET", "/api/search", {"query_string": {"q": "oil", "from": "9999-99-99"}}),
    ("GET", "/api/search", {"query_string": {"q": "oil", "to": "0000-01-01"}}),
    ("GET", "/api/search", {"query_string": {"q": "oil", "from": "٢٠٢٠-٠٤-١٢"}}),
    ("GET", "/api/search", {"query_string": [("q", "oil"), ("entity", "=")]}),
    ("GET", "/api/search", {"query_string": [("q", "oil")] + [("entity", "ORG=OPEC")] * 50}),
    ("GET", "/api/search", {"query_string": [("q", "oil")] + [("source", "BBC")] * 500}),
    ("GET", "/api/search", {"query_string": [("q", "oil"), ("topic", "Business")] * 3}),
    ("GET", "/", {"query_string": [("q", "oil"), ("entity", "ORG=" + "x" * 3000)]}),
    ("POST", "/api/tag", {"data": '{"text": "\\ud800 Merkel \\udfff"}'}),
    ("POST", "/api/tag", {"data": '{"text": "\\u0000\\u0000"}'}),
    ("POST", "/api/tag", {"data": '"just a string"'}),
    ("POST", "/api/tag", {"data": "null"}),
    ("POST", "/api/tag", {"data": "NaN"}),
    ("POST", "/api/classify", {"data": '{"text": 1' + "0" * 5000 + "}"}),
    ("POST", "/api/classify", {"data": '{"text": 1e400}'}),
    ("POST", "/api/classify", {"data": DEEP}),
    ("POST", "/api/classify", {"data": '{"text": "' + "x" * 300_000 + '"}'}),  # over 256 KB
    ("POST", "/api/classify", {"data": b'{"text": "\xff\xfe oil"}'}),
    ("POST", "/api/classify", {"data": b"", "content_type": "application/json"}),
    ("POST", "/api/answer", {"data": json.dumps({"question": PASTED, "context": PASTED * 40})}),
    ("POST", "/api/answer", {"data": json.dumps({"question": "x" * 501, "context": "y"})}),
    ("POST", "/api/answer", {"data": json.dumps({"question": "Who?", "context": "\ud800"})}),
    ("POST", "/api/answer", {"data": json.dumps({"question": "\u200b", "context": "oil"})}),
    ("POST", "/analyze", {"data": {"text": "\x00" * 100}}),
    ("POST", "/analyze", {"data": {"text": "x" * 20_001}}),
    ("POST", "/analyze", {"data": {"nothing": "here"}}),
    (
        "POST",
        "/analyze",
        {"data": b"\xff\xfe", "content_type": "application/x-www-form-urlencoded"},
    ),
    ("GET", "/api/articles/%00", {}),
    ("GET", "/api/articles/../../etc/passwd", {}),
    ("GET", "/api/articles", {"query_string": "id=%ED%A0%80"}),
    ("GET", "/api/articles", {"query_string": "id="}),
    ("GET", "/article/" + "x" * 5000, {}),
    ("GET", "/article", {"query_string": {"id": "\x00/../oil-1"}}),
]


def test_adversarial_requests_get_no_5xx(fuzz_client):
    for method, path, kwargs in ADVERSARIAL:
        if method == "POST" and "content_type" not in kwargs and path.startswith("/api/"):
            kwargs = {**kwargs, "content_type": "application/json"}
        send(fuzz_client, method, path, **kwargs)
    # and the pasted paragraph really went through the reader
    data = fuzz_client.get("/api/search", query_string={"q": PASTED}).get_json()
    assert "read" in data["timings_ms"] and data["results"]


ODD = st.sampled_from(["\x00", "\u202e", "\u200b", "\ufffd", "石", "🛢", "=", "&", "%", "+", "\n"])
TEXT = st.one_of(
    st.text(st.one_of(st.characters(), ODD), max_size=60),
    st.sampled_from(["oil", "OPEC production cut", "ORG=OPEC", "LOC=Russia", "World", "BBC"]),
    st.builds(
        lambda s, n: s * n, st.sampled_from(["why ", "9.7% ", "石油", "ab"]), st.integers(1, 300)
    ),
    st.integers(-(10**12), 10**12).map(str),
    st.dates().map(str),
)
KEYS = st.one_of(
    st.sampled_from(["q", "q", "q", "k", "page", "source", "topic", "entity", "from", "to"]),
    st.text(max_size=8),
)
QUERY_PAIRS = st.lists(st.tuples(KEYS, TEXT), max_size=6)
#: a query, and maybe filters: the searches that get through to the heads
PLAUSIBLE = st.one_of(
    st.tuples(st.sampled_from(["k", "page"]), st.integers(-2, 120).map(str)),
    st.tuples(st.sampled_from(["source", "topic"]), st.sampled_from(["BBC", "Reuters", "World"])),
    st.tuples(st.just("entity"), st.sampled_from(["ORG=OPEC", "LOC=Russia", "org = fifa"])),
    st.tuples(st.sampled_from(["from", "to"]), st.dates().map(str)),
)
SEARCHES = st.builds(
    lambda q, rest: [("q", q), *rest],
    TEXT,
    st.lists(st.one_of(PLAUSIBLE, st.tuples(KEYS, TEXT)), max_size=3),
)
RAW_QUERY = st.lists(st.tuples(KEYS, st.binary(max_size=40)), max_size=4).map(
    lambda pairs: "&".join(
        urllib.parse.quote(k) + "=" + urllib.parse.quote_from_bytes(v) for k, v in pairs
    )
)


@settings(FUZZ, max_examples=70)
@given(st.sampled_from(["/api/search", "/"]), st.one_of(SEARCHES, SEARCHES, QUERY_PAIRS, RAW_QUERY))
def test_search_endpoints_take_any_query_string(fuzz_client, path, query):
    response = send(fuzz_client, "GET", path, query_string=query)
    if path == "/api/search" and response.status_code == 200:
        assert {"query", "results", "total", "answers", "facets"} <= set(response.get_json())


#: JSON strings may also hold lone surrogates (json escapes them: "\ud800")
JSON_TEXT = st.one_of(
    TEXT,
    st.builds(lambda a, s, b: a + s + b, TEXT, st.sampled_from(["\ud800", "\udfff"]), TEXT),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(["text", "question", "context"])
VALID = st.fixed_dictionaries({"text": JSON_TEXT, "question": JSON_TEXT, "context": JSON_TEXT})
BODIES = st.one_of(
    VALID.map(json.dumps),
    JSON_VALUES.map(json.dumps),
    st.dictionaries(FIELDS, JSON_VALUES, max_size=3).map(json.dumps),  # right names, any type
    st.fixed_dictionaries({"question": TEXT, "context": TEXT}).map(json.dumps),
    st.binary(max_size=200),
)
CONTENT_TYPES = st.one_of(
    st.just("application/json"),
    st.sampled_from(
        ["application/json; charset=latin-1", "text/plain", "application/x-www-form-urlencoded"]
        + ["multipart/form-data; boundary=x", ""]
    ),
)


@settings(FUZZ, max_examples=90)
@given(st.sampled_from(["/api/classify", "/api/tag", "/api/answer"]), BODIES, CONTENT_TYPES)
def test_head_endpoints_take_any_body(fuzz_client, path, body, content_type):
    response = send(fuzz_client, "POST", path, data=body, content_type=content_type)
    if response.status_code == 200:
        assert set(response.get_json()) & {"labels", "entities", "answers"}


@settings(FUZZ, max_examples=40)
@given(st.dictionaries(st.sampled_from(["text", "x"]) | st.text(max_size=5), TEXT, max_size=3))
def test_analyze_page_takes_any_form(fuzz_client, form):
    send(fuzz_client, "POST", "/analyze", data=form)
    send(fuzz_client, "GET", "/analyze", query_string=form)


@settings(FUZZ, max_examples=30)
@given(
    st.one_of(
        st.sampled_from(["oil-1", "long-oil", "mask-1"]),
        st.text(st.one_of(st.characters(), ODD, st.just("/"), st.just(".")), max_size=40),
    )
)
def test_article_lookups_take_any_id(fuzz_client, article_id):
    quoted = urllib.parse.quote(article_id.encode("utf-8", "surrogatepass"), safe="/")
    send(fuzz_client, "GET", "/api/articles/" + quoted)
    send(fuzz_client, "GET", "/api/articles", query_string="id=" + quoted)
    send(fuzz_client, "GET", "/article/" + quoted)


@settings(FUZZ, max_examples=50)
@given(st.sampled_from(METHODS), st.sampled_from(ENDPOINTS + UNKNOWN), QUERY_PAIRS, BODIES)
def test_every_endpoint_and_method_gets_no_5xx(fuzz_client, method, path, query, body):
    send(fuzz_client, method, path, query_string=query, data=body)
