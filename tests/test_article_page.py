"""The article page and API: an article by its id (any id), every entity marked, links
only for web URLs, and hostile data rendered as inert text (Flask test client; the
same index in a real browser is tests/test_browser_xss.py)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.hostile import (
    BAD_URLS,
    EVIL_TYPE,
    GOOD,
    ODD_IDS,
    PAYLOADS,
    build_hostile_index,
    open_hostile,
    payload_id,
)
from web import create_app
from web.articles import article_url, needs_query_form
from web.engine import Engine

#: every element the templates write; anything else in a page was injected
OWN_TAGS = set(
    "html head meta title link body header nav a main form input button details summary "
    "label select option p div aside section h1 h2 h3 ul ol li span strong mark table thead "
    "tbody tr th td meter textarea br code time article".split()
)
URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "background", "srcdoc"}


class Page(HTMLParser):
    """The elements of a page: tags, attributes, and the text outside tags."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def hrefs(self) -> list[str]:
        return [a["href"] or "" for t, a in self.tags if t == "a" and "href" in a]

    def problems(self) -> list[str]:
        """Injected markup: unknown elements, handlers, style, non-web URLs."""
        found = []
        for tag, attrs in self.tags:
            if tag not in OWN_TAGS:
                found.append(f"element <{tag}>")
            for name, value in attrs.items():
                if name.startswith("on") or name == "style":
                    found.append(f"attribute {name} on <{tag}>")
                if name in URL_ATTRS:
                    v = (value or "").strip().lower()
                    if not (v.startswith(("/", "https://", "http://")) and not v.startswith("//")):
                        found.append(f"{name}={value!r} on <{tag}>")
            if tag == "meta" and set(attrs) - {"charset", "name", "content"}:
                found.append(f"meta {attrs}")
            if tag == "link" and attrs.get("rel") != "stylesheet":
                found.append(f"link {attrs}")
        return found


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory, embedder):
    return build_hostile_index(tmp_path_factory.mktemp("hostile") / "index", embedder)


@pytest.fixture(scope="module")
def hostile(hostile_index, embedder):
    searcher = open_hostile(hostile_index, embedder)
    from tests.fakes import FakeClassifier
    from tests.hostile import PayloadReader, PayloadTagger

    engine = Engine(searcher, FakeClassifier(), PayloadTagger(), PayloadReader())
    app = create_app({"TESTING": True, "ENGINE": engine})
    return app, app.test_client()


def url(app, article_id: str, api: bool = False) -> str:
    with app.test_request_context():
        return article_url(article_id, api=api)


def article_text(html: str) -> str:
    return html.split('<div class="article-text">')[1].split("</div>")[0]


def test_num_of_finds_the_row_by_id(searcher):
    store = searcher.store
    num = store.num_of("oil-2")
    assert store.ids([num]) == {num: "oil-2"}
    assert store.num_of("no-such-id") is None
    assert store.num_of("oil-2' OR '1'='1") is None and store.num_of("") is None


def test_article_page_shows_the_record_topic_link_and_marked_entities(hostile):
    app, client = hostile
    response = client.get(url(app, "opec-1"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1><mark class="ent ent-ORG" title="ORG">OPEC</mark> and ' in html
    assert "Reuters" in html and '<time datetime="2020-04-12">2020-04-12</time>' in html
    assert '<span class="topic" title="topic, 80% sure">Business</span>' in html
    link = '<a href="https://news.example.org/oil-2" rel="noopener noreferrer">'
    assert link in html
    text = article_text(html)
    # OPEC in the lead (tagged at index time), Russia past it (the full-text cache)
    assert text.startswith('<mark class="ent ent-ORG" title="ORG">OPEC</mark> and its allies')
    assert '<mark class="ent ent-LOC" title="LOC">Russia</mark>' in text
    assert "".join(Page(text).text) == GOOD.text  # all of it, unchanged
    assert "being tagged" not in html


def test_viewing_an_article_queues_the_rest_of_its_text(hostile_index, embedder, tmp_path):
    import shutil

    copy = tmp_path / "index"  # a cache of its own, empty
    shutil.copytree(hostile_index, copy, ignore=shutil.ignore_patterns("fulltext-entities.sqlite*"))
    searcher = open_hostile(copy, embedder, tag_rest=False)
    app = create_app({"TESTING": True, "ENGINE": Engine(searcher)})
    client = app.test_client()
    first = client.get(url(app, "opec-1")).get_data(as_text=True)
    assert "being tagged" in first and ">Russia</mark>" not in article_text(first)
    assert searcher.fulltext.run_pending() == 1  # the view queued this article
    second = client.get(url(app, "opec-1")).get_data(as_text=True)
    assert ">Russia</mark>" in article_text(second) and "being tagged" not in second


def test_api_article_json(hostile):
    app, client = hostile
    data = client.get(url(app, "opec-1", api=True)).get_json()
    assert set(data) == {
        "id", "title", "source", "date", "url", "category", "topic", "entities", "text",
        "related", "duplicates", "query", "highlights", "answer",  # tests/test_duplicates.py
    }  # fmt: skip
    assert (data["id"], data["title"], data["text"]) == (GOOD.id, GOOD.title, GOOD.text)
    assert (data["source"], data["date"], data["url"]) == (GOOD.source, GOOD.date, GOOD.url)
    assert data["category"] == "business" and data["topic"] == {"label": "Business", "score": 0.8}
    entities = {(e["field"], e["text"], e["in_index"]) for e in data["entities"]}
    assert entities == {("title", "OPEC", True), ("title", "Russia", True),
                        ("text", "OPEC", True), ("text", "Russia", False)}  # fmt: skip
    for e in data["entities"]:
        assert set(e) == {"type", "text", "start", "end", "field", "in_index"}
        assert data[e["field"]][e["start"] : e["end"]] == e["text"]


def test_unknown_ids_are_404s_never_5xx(hostile):
    app, client = hostile
    page = client.get("/article/%3Cscript%3Ealert(1)%3C/script%3E")
    assert page.status_code == 404 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Article not found" in html and "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    api = client.get("/api/articles/no/such/article")
    assert api.status_code == 404 and api.get_json() == {
        "error": "no article has the id 'no/such/article'"
    }
    assert client.get("/api/articles?id=nope").status_code == 404
    missing = client.get("/api/articles")
    assert missing.status_code == 400 and "missing id" in missing.get_json()["error"]
    assert client.get("/article").status_code == 400
    assert client.get("/article?id=").status_code == 400
    huge = client.get("/api/articles/" + "x" * 5000)
    assert huge.status_code == 404 and len(huge.get_json()["error"]) < 300


@pytest.mark.parametrize("article_id", ODD_IDS + [payload_id(0), payload_id(17)])
def test_any_id_reaches_its_article_page_and_json(hostile, article_id):
    app, client = hostile
    page_url, api_url = url(app, article_id), url(app, article_id, api=True)
    assert page_url.startswith("/article") and api_url.startswith("/api/articles")
    response = client.get(page_url)
    assert response.status_code == 200
    assert client.get(api_url).get_json()["id"] == article_id


def test_ids_a_browser_would_rewrite_use_the_query_form(hostile):
    app, _ = hostile
    assert url(app, "a/b") == "/article/a/b" and url(app, "a//b") == "/article/a//b"
    assert url(app, "q?x=1&y=2#frag") == "/article/q%3Fx=1&y=2%23frag"
    assert url(app, "..") == "/article?id=.."
    assert url(app, "a/./b", api=True) == "/api/articles?id=a/./b"
    for odd in ("..", "a/./b", "../../etc/passwd", "/leading-slash", "new\nline", "tab\there"):
        assert needs_query_form(odd)
    for fine in ("a/b", "a//b", "trailing-slash/", "100%", "%2e%2e/%2F", "...", "a.b/c."):
        assert not needs_query_form(fine)


def test_non_web_urls_are_text_not_links_but_stay_in_the_json(hostile):
    app, client = hostile
    for n, odd in enumerate(ODD_IDS):
        html = client.get(url(app, odd)).get_data(as_text=True)
        page = Page(html)
        assert not page.problems(), (odd, page.problems())
        assert all(h.startswith("/") and not h.startswith("//") for h in page.hrefs()), odd
        assert "not a web address" in html
        assert client.get(url(app, odd, api=True)).get_json()["url"] == BAD_URLS[n % len(BAD_URLS)]
    search = client.get("/?q=shipping+lanes+report&k=50").get_data(as_text=True)
    page = Page(search)
    assert not page.problems()
    assert search.count('class="source-link"') == 0  # no odd article has a web URL
    titles = [h for h in page.hrefs() if h.startswith("/article")]
    assert len(titles) >= len(ODD_IDS)
    data = client.get("/api/search?q=shipping+lanes+report&k=50").get_json()
    assert {h["url"] for h in data["results"]} >= set(BAD_URLS)


def test_search_titles_link_to_the_article_page_and_source_separately(client):
    html = client.get("/?q=OPEC+oil+production").get_data(as_text=True)
    title = "OPEC and Russia agree record production cut"
    # the link carries the query: the article page marks its terms (tests/test_duplicates.py)
    assert f'<h2><a href="/article/oil-2?q=OPEC+oil+production">{title}</a></h2>' in html
    assert (
        '<a class="source-link" href="https://news.example.org/oil-2" rel="noopener noreferrer"'
        in html
    )


def test_hostile_data_is_inert_on_every_page(hostile):
    """Every payload, in every field, renders as text: no element, attribute or URL of
    the page comes from the data (the article pages, search results with facets and
    chips and the answer box, filters set to payloads, payload queries, Analyze)."""
    app, client = hostile
    pages = {}
    for i, payload in enumerate(PAYLOADS):
        response = client.get(url(app, payload_id(i)))
        assert response.status_code == 200, payload
        html = response.get_data(as_text=True)
        pages[f"article {i}"] = html
        page = Page(html)
        h1 = html.split("<h1>")[1].split("</h1>")[0]
        assert "".join(Page(h1).text) == f"Payload {i:02d} {payload}"  # shown as text
        assert h1.count("<mark ") == 1  # the title's payload entity, marked
        # <title>, <h1>, source, the URL as text, twice in the text
        assert "".join(page.text).count(payload) >= 6, payload
    search = client.get("/?q=payload+report+oil&k=50")
    assert search.status_code == 200
    pages["search"] = html = search.get_data(as_text=True)
    assert 'class="answer-box"' in html and 'class="chip ent-MISC"' in html
    assert "facet-entity" in html and "facet-source" in html
    filters = {"source": PAYLOADS[0], "topic": PAYLOADS[5], "entity": "MISC=" + PAYLOADS[2]}
    pages["filters"] = client.get("/", query_string={"q": "payload", **filters}).get_data(True)
    assert "Filtered by:" in pages["filters"]
    for payload in PAYLOADS[:8]:
        response = client.get("/", query_string={"q": payload})
        assert response.status_code < 500
        pages[f"query {payload}"] = response.get_data(as_text=True)
    analyze = client.post("/analyze", data={"text": "\n".join(PAYLOADS)}).get_data(True)
    assert analyze.count('<mark class="ent ') == len(PAYLOADS)
    pages["analyze"] = analyze
    for name, html in pages.items():
        assert not Page(html).problems(), (name, Page(html).problems())
    assert f'class="ent ent-{EVIL_TYPE.replace(chr(34), "&#34;")}"' in pages["article 0"]
