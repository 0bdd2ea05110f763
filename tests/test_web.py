import pytest

from newsrank.errors import IndexNotFoundError
from web import create_app


def test_search_page_shows_results_with_highlights(client):
    page = client.get("/?q=OPEC+oil+production").get_data(as_text=True)
    assert "OPEC and Russia agree record production cut" in page
    assert "<mark>OPEC</mark>" in page
    assert "Reuters" in page and "2020-04-12" in page
    assert 'href="https://news.example.org/oil-2"' in page


def test_home_page_without_query(client):
    response = client.get("/")
    assert response.status_code == 200 and "<form" in response.get_data(as_text=True)


def test_query_is_escaped_not_rendered(client):
    response = client.get("/?q=<script>alert(1)</script>")
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_article_text_is_escaped(tmp_path, embedder):
    from indexer.article import Article
    from indexer.build import build_index

    out = tmp_path / "idx"
    evil = Article("x", "<script>alert('t')</script> headline", "<img src=x onerror=alert(1)> oil")
    build_index([evil], out, embedder=embedder, progress=False)
    app = create_app({"TESTING": True, "INDEX_DIR": str(out)})
    page = app.test_client().get("/?q=oil").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_empty_and_overlong_queries_get_400(client):
    for query in ("", "%20%20", "x" * 600, "%00", "%21%3F%E2%80%94"):  # NUL; "!?\u2014"
        response = client.get(f"/api/search?q={query}")
        assert response.status_code == 400
        assert "error" in response.get_json()
    page = client.get("/?q=")
    assert page.status_code == 400 and "empty query" in page.get_data(as_text=True)
    page = client.get("/?q=%21%3F")  # "!?": no word to search for
    assert page.status_code == 400 and "no letter or digit" in page.get_data(as_text=True)


def test_api_search_json_shape_and_filters(client):
    data = client.get("/api/search?q=outbreak&k=3&source=Reuters").get_json()
    assert data["query"] == "outbreak" and len(data["results"]) <= 3
    hit = data["results"][0]
    assert {"id", "title", "source", "date", "url", "score", "snippet", "stages"} <= set(hit)
    assert set(hit["stages"]["fused"]) == {"rank", "score"}
    assert all(h["source"] == "Reuters" for h in data["results"])
    dated = client.get("/api/search?q=ballots&from=2020-11-04&to=2020-11-30").get_json()
    assert [h["id"] for h in dated["results"]] == ["election-2"]


def test_api_paging_and_bad_numbers(client):
    one = client.get("/api/search?q=the&k=2&page=1").get_json()
    two = client.get("/api/search?q=the&k=2&page=2").get_json()
    assert one["results"][0]["id"] != two["results"][0]["id"] and two["page"] == 2
    bad = client.get("/api/search?q=oil&k=ten")
    assert bad.status_code == 400 and "k='ten'" in bad.get_json()["error"]
    missing = client.get("/api/search")
    assert missing.status_code == 400 and "missing q" in missing.get_json()["error"]


def test_health(client):
    data = client.get("/api/health").get_json()
    assert data["status"] == "ok" and data["articles"] == 25
    assert data["full_text_entities"] == {"enabled": False}  # the test searcher has no cache
    precision = data["precision"]
    assert precision["index_vectors"] == precision["embedder"]
    assert precision["embedder"] in ("fp32", "bf16")  # bf16 on a CPU that has it


def test_unknown_index_fails_at_startup(tmp_path):
    with pytest.raises(IndexNotFoundError, match=str(tmp_path / "missing")):
        create_app({"INDEX_DIR": str(tmp_path / "missing")})


def test_unknown_api_paths_and_methods_get_json_errors(client):
    missing = client.get("/api/nope")
    assert missing.status_code == 404 and "404 Not Found" in missing.get_json()["error"]
    wrong = client.post("/api/search?q=oil")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    assert "405" in wrong.get_json()["error"]
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
