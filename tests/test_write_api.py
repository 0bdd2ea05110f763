"""The live index over HTTP (web.admin, web.engine): the write API's authorisation,
limits and per-record errors, upserts and deletes searchable as soon as they are
answered, and commits of other writers seen without a restart (per request and by
the poller), while a search in flight keeps its commit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from indexer.article import Article
from newsrank.config import Settings, WebConfig
from newsrank.errors import NewsrankError
from web import create_app
from web.openapi import openapi_spec

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

ARTICLES = [
    Article(
        "oil-1", "Oil prices fall", "Crude oil fell as demand dropped.", "2020-04-01", "Reuters"
    ),
    Article("oil-2", "OPEC cuts output", "OPEC agreed a record cut.", "2020-04-12", "Reuters"),
    Article("vote-1", "Election day", "Voters queued to cast ballots.", "2020-11-03", "BBC"),
    Article("vote-2", "Counting goes on", "Officials counted mail ballots.", "2020-11-05", "BBC"),
    Article("ball-1", "Chelsea win", "Chelsea beat Arsenal in the derby.", "2017-03-01", "BBC"),
]


@pytest.fixture()
def live_index(tmp_path, embedder) -> Path:
    from indexer.build import build_index

    out = tmp_path / "live"
    build_index(ARTICLES, out, embedder=embedder, progress=False)
    return out


def make_app(index: Path, embedder, **config: object):
    from ranker.search import Searcher

    searcher = Searcher.open(index, embedder=embedder)
    return create_app({"TESTING": True, "INDEX_DIR": str(index), "SEARCHER": searcher, **config})


@pytest.fixture()
def app(live_index, embedder):
    return make_app(live_index, embedder, ADMIN_TOKEN=TOKEN)


@pytest.fixture()
def client(app):
    return app.test_client()


def search(client, q: str = "news", k: int = 50) -> dict:
    response = client.get(f"/api/search?q={q}&k={k}")
    assert response.status_code == 200
    return response.get_json()


def ids(data: dict) -> list[str]:
    return [h["id"] for h in data["results"]]


def fits(response, path: str, method: str) -> dict:
    from tests.test_openapi import fits as check

    return check(openapi_spec(), path, method, response)


def test_the_write_api_is_absent_without_a_token(live_index, embedder):
    client = make_app(live_index, embedder, ADMIN_TOKEN=None).test_client()
    one = [{"id": "n1", "title": "T", "text": "x"}]
    for response in (
        client.post("/api/articles", json=one, headers=AUTH),
        client.delete("/api/articles/oil-1", headers=AUTH),
    ):
        assert response.status_code == 404 and "error" in response.get_json()
    assert client.get("/api/articles/oil-1").status_code == 200  # reading is unchanged


def test_an_empty_token_is_refused_at_start(live_index, embedder, tmp_path):
    from web.cli import read_token

    with pytest.raises(NewsrankError, match="admin token is empty"):
        make_app(live_index, embedder, ADMIN_TOKEN="  \n")
    (tmp_path / "token").write_text("  \n")
    with pytest.raises(NewsrankError, match="is empty"):
        read_token(str(tmp_path / "token"))
    (tmp_path / "token").write_text(f"  {TOKEN}\n")
    assert read_token(str(tmp_path / "token")) == TOKEN


def test_without_or_with_a_wrong_token_401_and_403(client):
    one = [{"id": "n1", "title": "T", "text": "x"}]
    response = client.post("/api/articles", json=one)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    fits(response, "/api/articles", "POST")
    response = client.delete("/api/articles/oil-1", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 403
    fits(response, "/api/articles/{id}", "DELETE")
    assert (
        client.post("/api/articles", json=one, headers={"Authorization": TOKEN}).status_code == 401
    )
    assert "oil-1" in ids(search(client, "oil"))


def test_a_posted_article_is_searchable_when_answered(client):
    new = {"id": "zep-1", "title": "Zeppelin lands", "text": "A zeppelin landed in Bonn.",
           "date": "2020-05-01", "source": "DPA"}  # fmt: skip
    response = client.post("/api/articles", json=[new], headers=AUTH)
    data = fits(response, "/api/articles", "POST")
    assert response.status_code == 200
    assert data["added"] == ["zep-1"] and data["replaced"] == [] and data["errors"] == []
    assert data["articles"] == len(ARTICLES) + 1
    assert ids(search(client, "zeppelin"))[0] == "zep-1"
    assert client.get("/api/articles/zep-1").get_json()["source"] == "DPA"
    health = client.get("/api/health").get_json()["index"]
    assert health["generation"] == data["generation"] and health["articles"] == 6
    assert health["progress"] is None


def test_an_upsert_replaces_the_old_version(client):
    before = search(client, "oil")
    new = {"id": "oil-1", "title": "Oil prices fall", "text": "Brent slid on a glut of tankers.",
           "source": "Reuters"}  # fmt: skip
    data = client.post("/api/articles", json=[new], headers=AUTH).get_json()
    assert data["added"] == [] and data["replaced"] == ["oil-1"]
    after = search(client, "oil")
    assert after["total"] == before["total"]
    assert after["facets"]["source"] == before["facets"]["source"]
    assert ids(after).count("oil-1") == 1
    text = client.get("/api/articles/oil-1").get_json()["text"]
    assert "tankers" in text and "demand" not in text
    assert ids(search(client, "tankers"))[0] == "oil-1"


def test_delete_removes_it_from_results_facets_totals_and_the_article_api(client):
    before = search(client, "ballots")
    assert "vote-2" in ids(before)
    response = client.delete("/api/articles/vote-2", headers=AUTH)
    assert response.status_code == 200
    data = fits(response, "/api/articles/{id}", "DELETE")
    assert data["deleted"] is True and data["articles"] == len(ARTICLES) - 1
    after = search(client, "ballots")
    assert "vote-2" not in ids(after) and after["total"] == before["total"] - 1
    assert after["facets"]["source"]["BBC"] == before["facets"]["source"]["BBC"] - 1
    assert client.get("/api/articles/vote-2").status_code == 404
    response = client.delete("/api/articles/vote-2", headers=AUTH)  # gone already
    assert response.status_code == 404
    fits(response, "/api/articles/{id}", "DELETE")


def test_bad_records_are_listed_and_good_ones_committed(client):
    records = [
        {"id": "good-1", "title": "Tulips bloom", "text": "Tulip fields opened early."},
        {"id": "bad-1", "title": "No text"},
        "not an object",
        {"id": "good-1", "title": "Again", "text": "A second record with the same id."},
        {"id": "bad-2", "title": "T", "text": "x", "date": "yesterday"},
        {"id": "bad-3", "title": ["a"], "text": "x"},
        {"id": "sur-1", "title": "Odd \ud800 text", "text": "Surrogate \udfff inside."},
    ]
    response = client.post("/api/articles", json=records, headers=AUTH)
    assert response.status_code == 200
    data = fits(response, "/api/articles", "POST")
    assert data["added"] == ["good-1", "sur-1"]
    assert [(e["index"], e["id"]) for e in data["errors"]] == [
        (1, "bad-1"), (2, None), (3, "good-1"), (4, "bad-2"), (5, "bad-3")
    ]  # fmt: skip
    assert "missing text" in data["errors"][0]["error"]
    assert ids(search(client, "tulip"))[0] == "good-1"
    assert client.get("/api/articles/good-1").get_json()["title"] == "Tulips bloom"
    generation = data["generation"]
    for body in ([{"id": "x"}], [], {"id": "x"}, "[", [1, 2]):
        kwargs = {"data": body} if isinstance(body, str) else {"json": body}
        response = client.post("/api/articles", headers=AUTH, **kwargs)
        assert response.status_code == 400
        fits(response, "/api/articles", "POST")
    assert client.get("/api/health").get_json()["index"]["generation"] == generation


def test_over_the_size_limits_413(live_index, embedder):
    settings = Settings(web=WebConfig(max_write_bytes=2000, max_write_articles=3))
    client = make_app(live_index, embedder, ADMIN_TOKEN=TOKEN, SETTINGS=settings).test_client()
    big = [{"id": "big", "title": "Big", "text": "word " * 1000}]
    response = client.post("/api/articles", json=big, headers=AUTH)
    assert response.status_code == 413 and "2000 bytes" in response.get_json()["error"]
    many = [{"id": f"m{i}", "title": "T", "text": "x"} for i in range(4)]
    response = client.post("/api/articles", json=many, headers=AUTH)
    assert response.status_code == 413 and "at most 3" in response.get_json()["error"]
    assert client.get("/api/health").get_json()["articles"] == len(ARTICLES)


def commit_elsewhere(index: Path, embedder, add=(), delete=(), merge: bool = False) -> None:
    """What another process (``newsrank index add``) does: its own writer."""
    from indexer.writer import IndexWriter

    with IndexWriter(index, embedder=embedder) as writer:
        if add:
            writer.add(list(add))
        if delete:
            writer.delete(list(delete))
        writer.commit()
        if merge:
            writer.merge(force=True)


def test_another_writers_commit_is_seen_by_the_next_request(app, live_index, embedder):
    client = app.test_client()
    assert "ball-1" in ids(search(client, "Chelsea"))
    commit_elsewhere(
        live_index,
        embedder,
        add=[Article("kite-1", "Kite festival", "Kites filled the sky over Berlin.")],
        delete=["ball-1"],
    )
    assert ids(search(client, "kites"))[0] == "kite-1"
    assert "ball-1" not in ids(search(client, "Chelsea"))
    assert client.get("/api/articles/ball-1").status_code == 404


def test_the_poller_opens_a_commit_without_traffic(live_index, embedder):
    app = make_app(live_index, embedder, POLL_INDEX=True)
    engine = app.extensions["newsrank.engine"]
    try:
        assert engine.polling
        generation = engine.searcher.index.generation
        commit_elsewhere(live_index, embedder, delete=["oil-2"])
        deadline = time.monotonic() + 2.0
        while engine.searcher.index.generation == generation and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.searcher.index.generation > generation
        assert engine.searcher.store.num_of("oil-2") is None
    finally:
        engine.stop_polling()
    assert not engine.polling


def test_a_search_in_flight_keeps_its_commit(app, live_index, embedder):
    from ranker.request import SearchRequest

    engine = app.extensions["newsrank.engine"]
    old = engine.current()  # what a request in flight holds
    commit_elsewhere(live_index, embedder, delete=["oil-1"], merge=True)
    new = engine.current()
    assert new is not old and new.index.generation > old.index.generation
    assert "oil-1" in [h.id for h in old.search(SearchRequest("crude oil", k=10)).results]
    assert "oil-1" not in [h.id for h in new.search(SearchRequest("crude oil", k=10)).results]
    assert old.store.num_of("oil-1") is not None and new.store.num_of("oil-1") is None


def test_a_progressive_build_shows_its_progress(client, live_index, embedder):
    from indexer.writer import IndexWriter

    with IndexWriter(live_index, embedder=embedder) as writer:
        writer.add([Article("late-1", "Late news", "Arrived during the build.")])
        writer.commit(progress={"done": 6, "total": 40})
    assert client.get("/api/health").get_json()["index"]["progress"] == {"done": 6, "total": 40}
    page = client.get("/").get_data(as_text=True)
    assert "Indexing the demo news: 6 of 40 articles so far" in page


def test_a_commit_that_cannot_be_opened_keeps_the_old_one_served(client, live_index, caplog):
    assert "oil-1" in ids(search(client, "oil"))
    broken = live_index / "manifest.json.tmp-test"
    broken.write_text("{not json")
    broken.replace(live_index / "manifest.json")
    with caplog.at_level("WARNING", logger="web.engine"):
        assert "oil-1" in ids(search(client, "oil"))
        assert client.get("/api/articles/oil-1").status_code == 200
    assert "cannot open the newest commit" in caplog.text
    assert client.get("/api/health").status_code == 200


def test_a_stream_of_commits_builds_one_suggester_at_a_time(app, live_index, embedder,
                                                            monkeypatch):  # fmt: skip
    import threading

    from ranker.search import Searcher

    state = {"running": 0, "most": 0, "builds": 0}
    lock = threading.Lock()
    real = Searcher.build_suggester
    # the first build lasts until every commit has been seen (a build reads every text:
    # seconds on the demo), however slowly this machine commits
    commits_seen = threading.Event()

    def slow_build(self):
        with lock:
            state["running"] += 1
            state["most"] = max(state["most"], state["running"])
            first = state["builds"] == 0 and state["running"] == 1
        if first:
            commits_seen.wait(10)
        try:
            return real(self)
        finally:
            with lock:
                state["running"] -= 1
                state["builds"] += 1

    monkeypatch.setattr(Searcher, "build_suggester", slow_build)
    engine = app.extensions["newsrank.engine"]
    for i in range(4):  # four commits in quick succession, each seen by a request
        commit_elsewhere(live_index, embedder, add=[Article(f"s{i}", f"Story {i}", "Words.")])
        engine.current()
    commits_seen.set()
    deadline = time.monotonic() + 10
    while (state["running"] or engine._suggest_running) and time.monotonic() < deadline:
        time.sleep(0.05)
    # never piled up, never lost: the first build, then one for the commits that came
    # while it ran
    assert state["most"] == 1 and state["builds"] == 2
    assert engine.searcher.suggester is engine.searcher._suggester  # the newest has its own


def test_the_documented_body_schema_refuses_what_the_server_refuses_for_its_shape():
    """An empty list and a list past the limit break the documented request schema, as
    the server refuses them (400, 413); a one-article list fits it."""
    import jsonschema

    spec = openapi_spec(Settings(web=WebConfig(max_write_articles=3)))
    body = spec["paths"]["/api/articles"]["post"]["requestBody"]["content"]["application/json"]
    schema = {**body["schema"], "components": spec["components"]}
    one = {"id": "n1", "title": "T", "text": "x"}
    jsonschema.validate([one], schema)
    for refused in ([], [one] * 4):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(refused, schema)
