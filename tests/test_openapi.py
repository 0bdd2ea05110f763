"""The OpenAPI description (web/openapi.py, served at /api/openapi.json): valid
OpenAPI 3.1, one entry per /api route, and real responses of every endpoint, success
and error alike, fit its schemas (validated with jsonschema)."""

from __future__ import annotations

import copy
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from newsrank.config import SearchConfig, Settings
from tests.fakes import FakeClassifier, FakeReader, FakeReranker, FakeTagger
from tests.test_pipeline import enriched, enriched_index  # noqa: F401 - fixtures
from web import create_app
from web.engine import Engine
from web.openapi import openapi_spec

SPEC_URI = "urn:newsrank:openapi"


@pytest.fixture(scope="module")
def spec():
    return openapi_spec()


@pytest.fixture()
def full_client(enriched):  # noqa: F811
    # a reranker that agrees with the mask query below, so its answer is in the top results
    searcher = enriched.configured(reranker=FakeReranker("mask"), reader=FakeReader())
    engine = Engine(searcher, FakeClassifier(), FakeTagger(), FakeReader())
    return create_app({"TESTING": True, "ENGINE": engine, "MAX_CONTENT_LENGTH": 4096}).test_client()


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def fits(spec: dict, path: str, method: str, response) -> dict:
    """Validate ``response`` against its schema in ``spec``; return the JSON."""
    status = str(response.status_code)
    documented = spec["paths"][path][method.lower()]["responses"]
    assert status in documented, f"{method} {path} -> {status}: not in the description"
    assert response.is_json, f"{method} {path} -> {status} is not JSON"
    pointer = _pointer("paths", path, method.lower(), "responses", status, "content")
    pointer += "/" + _pointer("application/json", "schema")
    registry = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": f"{SPEC_URI}#/{pointer}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    data = response.get_json()
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, f"{method} {path} -> {status}: {errors[:5]}"
    for name in documented[status].get("headers", {}):
        assert name in response.headers, f"{method} {path} -> {status}: no {name} header"
    return data


def documented_keys(spec: dict, name: str) -> set[str]:
    return set(spec["components"]["schemas"][name]["properties"])


def test_the_description_is_valid_openapi_and_is_what_the_api_serves(client, spec):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.get_json() == spec
    validate_openapi(response.get_json())
    fits(spec, "/api/openapi.json", "GET", response)


def test_the_validator_rejects_a_broken_description(spec):
    broken = copy.deepcopy(spec)
    del broken["paths"]["/api/search"]["get"]["parameters"][0]["in"]
    with pytest.raises(Exception, match="'in' is a required property"):
        validate_openapi(broken)


def test_every_api_route_and_method_is_described_and_nothing_else(app, spec):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?\w+>", "{id}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(p, m) for p, ops in spec["paths"].items() for m in ops}
    assert routes == described


def test_limits_in_the_description_follow_the_settings(index_dir, searcher):
    settings = Settings(search=SearchConfig(max_query_chars=120, max_k=20))
    app = create_app({"TESTING": True, "SEARCHER": searcher, "SETTINGS": settings})
    served = app.test_client().get("/api/openapi.json").get_json()
    params = {p["name"]: p["schema"] for p in served["paths"]["/api/search"]["get"]["parameters"]}
    assert params["q"]["maxLength"] == 120 and params["k"]["maximum"] == 20
    body = served["paths"]["/api/tag"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["text"]["maxLength"] == settings.web.max_text_chars


def test_search_responses_fit_and_every_key_is_described(full_client, spec):
    data = fits(spec, "/api/search", "GET", full_client.get("/api/search?q=who+makes+masks&k=5"))
    assert data["answers"] and data["results"]  # answers, topics, entities all checked
    assert set(data) <= documented_keys(spec, "SearchResponse")
    hit = data["results"][0]
    assert set(hit) <= documented_keys(spec, "Hit")
    assert {"topic", "entities", "stages", "answer"} <= set(hit) and hit["answer"]
    filtered = full_client.get("/api/search?q=oil&topic=Business&entity=ORG%3DOPEC&source=Reuters")
    data = fits(spec, "/api/search", "GET", filtered)
    assert data["results"] and all(h["entities"] for h in data["results"])
    for bad in ("", "?q=", "?q=oil&k=ten", "?q=oil&page=0", "?q=oil&from=2017-13-01"):
        fits(spec, "/api/search", "GET", full_client.get("/api/search" + bad))


def test_search_busy_is_a_described_503_with_retry_after(searcher, spec):
    from web.admission import SearchGate

    engine = Engine(searcher, gate=SearchGate(max_searches=1, max_queued=0))
    client = create_app({"TESTING": True, "ENGINE": engine}).test_client()
    with engine.gate.admit():  # the one slot is taken, nothing may wait
        response = client.get("/api/search?q=oil")
    assert response.status_code == 503
    fits(spec, "/api/search", "GET", response)


def test_health_fits_with_and_without_heads(client, full_client, spec):
    for c in (client, full_client):
        data = fits(spec, "/api/health", "GET", c.get("/api/health"))
        assert set(data) <= documented_keys(spec, "Health")


@pytest.mark.parametrize(
    "path,body",
    [
        ("/api/classify", {"text": "Oil prices fell"}),
        ("/api/tag", {"text": "OPEC met Russia in Vienna"}),
        ("/api/answer", {"question": "Who insists?", "context": "However, mask makers insist."}),
    ],
)
def test_head_endpoints_fit_in_success_and_every_error(client, full_client, spec, path, body):
    data = fits(spec, path, "POST", full_client.post(path, json=body))
    assert any(data.values())  # labels, entities or answers found
    for bad in ({}, {k: 3 for k in body}, {k: " " for k in body}, ["text"]):
        fits(spec, path, "POST", full_client.post(path, json=bad))
    fits(spec, path, "POST", full_client.post(path, data="not json"))
    response = full_client.post(path, json={k: "x" * 5000 for k in body})
    assert response.status_code == 413
    fits(spec, path, "POST", response)
    response = client.post(path, json=body)  # the plain app has no heads loaded
    assert response.status_code == 503
    fits(spec, path, "POST", response)


def test_article_responses_fit(full_client, spec):
    data = fits(spec, "/api/articles/{id}", "GET", full_client.get("/api/articles/oil-2"))
    assert (
        data["id"] == "oil-2" and data["entities"] and set(data) <= documented_keys(spec, "Article")
    )
    fits(spec, "/api/articles/{id}", "GET", full_client.get("/api/articles/no-such-id"))
    fits(spec, "/api/articles", "GET", full_client.get("/api/articles?id=oil-2"))
    fits(spec, "/api/articles", "GET", full_client.get("/api/articles?id=nope"))
    missing = full_client.get("/api/articles")
    assert missing.status_code == 400
    fits(spec, "/api/articles", "GET", missing)


def _request_validator(spec: dict, path: str, method: str) -> Draft202012Validator:
    pointer = _pointer("paths", path, method, "requestBody", "content", "application/json")
    registry = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": f"{SPEC_URI}#/{pointer}/schema"}, registry=registry)


@pytest.mark.parametrize(
    ("path", "good", "refused"),
    [
        (
            "/api/classify",
            {"text": "Oil prices fell."},
            [{"text": " \n\t "}, {"text": ""}, {"text": "\x1c\x85\u3000"}],
        ),
        (
            "/api/articles",
            [{"id": "a", "title": "T", "text": "x", "date": "2020/3/9"}],
            [
                [{"id": " ", "title": "T", "text": "x"}],
                [{"id": "a", "title": "T", "text": "x", "date": "yesterday"}],
                [],
            ],
        ),
    ],
)
def test_request_bodies_the_server_refuses_for_their_shape_break_the_description(
    spec, path, good, refused
):
    """What the API turns down as blank, undated or empty, its description turns down
    too (the server strips text fields; a date must be spelled as the index reads it)."""
    validator = _request_validator(spec, path, "post")
    assert not list(validator.iter_errors(good))
    for body in refused:
        assert list(validator.iter_errors(body)), body
