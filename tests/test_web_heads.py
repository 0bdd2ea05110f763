"""The page and API with every head switched on (stand-in heads, see fakes.py)."""

import pytest

from tests.fakes import FakeClassifier, FakeReader, FakeReranker, FakeTagger
from tests.test_pipeline import enriched, enriched_index  # noqa: F401 - fixtures
from web import create_app
from web.engine import Engine


@pytest.fixture()
def full_client(enriched):  # noqa: F811
    searcher = enriched.configured(reranker=FakeReranker("mask"), reader=FakeReader())
    engine = Engine(searcher, FakeClassifier(), FakeTagger(), FakeReader())
    app = create_app({"TESTING": True, "ENGINE": engine, "MAX_CONTENT_LENGTH": 4096})
    return app.test_client()


def test_api_search_has_answers_facets_topic_entities_and_rerank(full_client):
    data = full_client.get("/api/search?q=who+insists+N95+masks+guard+against+the+virus").get_json()
    assert data["answers"][0]["text"] == "mask makers" and data["answers"][0]["doc_id"] == "mask-1"
    assert {"topic", "source", "entity"} <= set(data["facets"])
    hit = data["results"][0]
    assert {"topic", "entities", "stages"} <= set(hit) and "rerank" in hit["stages"]


def test_page_shows_answer_box_chips_topic_and_facets(full_client):
    page = full_client.get("/?q=who+insists+N95+masks+guard+against+the+virus").get_data(True)
    assert 'class="answer-box"' in page and "mask makers" in page
    assert '<mark class="answer">mask makers</mark>' in page
    page = full_client.get("/?q=OPEC+production").get_data(True)
    assert 'class="chip ent-ORG"' in page and "entity=ORG%3DOPEC" in page
    assert 'class="topic"' in page and 'data-facet="topic"' in page


def test_clicking_a_facet_narrows_and_can_be_removed(full_client):
    wide = full_client.get("/api/search?q=oil+cut+league&k=50").get_json()
    narrow = full_client.get("/api/search?q=oil+cut+league&k=50&topic=Sports").get_json()
    assert narrow["total"] < wide["total"]
    assert {h["topic"]["label"] for h in narrow["results"]} == {"Sports"}
    page = full_client.get("/?q=oil+cut+league&topic=Sports").get_data(True)
    assert "Filtered by:" in page and 'class="chip active"' in page


def test_bad_entity_filter_is_a_400(full_client):
    response = full_client.get("/api/search?q=oil&entity=OPEC")
    assert response.status_code == 400 and "TYPE=TEXT" in response.get_json()["error"]


def test_classify_tag_answer_endpoints(full_client):
    labels = full_client.post("/api/classify", json={"text": "Oil prices fell"}).get_json()
    assert labels["labels"][0] == {"label": "Business", "score": 0.8}
    tagged = full_client.post("/api/tag", json={"text": "OPEC met Russia"}).get_json()
    assert tagged["entities"] == [
        {"type": "ORG", "text": "OPEC", "start": 0, "end": 4},
        {"type": "LOC", "text": "Russia", "start": 9, "end": 15},
    ]
    ctx = "However, mask makers insist that their products can guard against the virus."
    answered = full_client.post("/api/answer", json={"question": "Who insists?", "context": ctx})
    answer = answered.get_json()["answers"][0]
    assert ctx[answer["start"] : answer["end"]] == "mask makers"


@pytest.mark.parametrize(
    "path,body,message",
    [
        ("/api/classify", {}, "missing field 'text'"),
        ("/api/classify", {"text": 3}, "must be a string"),
        ("/api/tag", {"text": "   "}, "is empty"),
        ("/api/answer", {"question": "Who?"}, "missing field 'context'"),
        ("/api/tag", ["text"], "JSON object"),
    ],
)
def test_head_endpoints_reject_bad_bodies(full_client, path, body, message):
    response = full_client.post(path, json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_non_json_and_oversized_bodies(full_client):
    response = full_client.post("/api/tag", data="text=hi")
    assert response.status_code == 400 and "must be JSON" in response.get_json()["error"]
    response = full_client.post("/api/tag", json={"text": "x" * 5000})
    assert response.status_code == 413


def test_analyze_page_shows_bars_and_marked_entities_escaped(full_client):
    page = full_client.post("/analyze", data={"text": "<b>OPEC</b> cut oil output"}).get_data(True)
    assert 'class="bar"' in page and "Business" in page
    assert '<mark class="ent ent-ORG" title="ORG">OPEC</mark>' in page
    assert "<b>" not in page and "&lt;b&gt;" in page
    empty = full_client.post("/analyze", data={"text": ""})
    assert empty.status_code == 400


def test_heads_off_answer_503(client):
    response = client.post("/api/classify", json={"text": "x"})
    assert response.status_code == 503 and "not loaded" in response.get_json()["error"]
