"""Entity facets people can read (indexer/entity_names.py, ArticleStore): case variants,
aliases and types of one entity merged into one labelled entry, and a filter on it
matching exactly the articles it counted."""

from __future__ import annotations

import pytest

from indexer.article import Article
from indexer.entity_names import fold, group_name, label, merge_entities
from indexer.segment_store import write_store
from indexer.store import ArticleStore
from newsrank.types import ArticleLabels, FoundEntity
from tests.test_pipeline import enriched, enriched_index  # noqa: F401 - fixtures
from web import create_app


def test_fold_and_aliases():
    assert fold("MOSCOW") == fold("Moscow") == "moscow"
    assert fold("U.S.") == "us" and fold("St. Petersburg") == "st petersburg"
    names = {group_name(t) for t in ("US", "U.S.", "United States", "USA", "u.s.")}
    assert names == {"united states"}
    names = {group_name(t) for t in ("UK", "U.K.", "Britain", "United Kingdom")}
    assert names == {"united kingdom"}
    assert group_name("Paris") != group_name("Moscow")
    assert label("PER", "Vladimir Putin") == "Vladimir Putin · person"
    assert label("ORG", "OPEC") == "OPEC · organisation"
    assert label("MISC", "Brexit") == "Brexit · other"


def test_merge_picks_the_most_frequent_type_and_a_readable_text():
    groups = merge_entities(
        {
            ("LOC", "US"): 30,
            ("MISC", "US"): 4,
            ("LOC", "U.S."): 10,
            ("ORG", "United States"): 2,
            ("LOC", "MOSCOW"): 6,
            ("LOC", "Moscow"): 5,  # fewer, but not written in capitals
            ("ORG", "OPEC"): 3,
            ("PER", "Washington"): 2,
            ("LOC", "Washington"): 2,  # a tie: PER wins (PER, ORG, LOC, MISC)
        }
    )
    us = groups.by_variant[("MISC", "US")]
    assert us.key == "LOC=United States" and us.label == "United States · place"
    assert set(us.variants) == {
        ("LOC", "US"),
        ("MISC", "US"),
        ("LOC", "U.S."),
        ("ORG", "United States"),
    }
    assert groups.by_variant[("LOC", "MOSCOW")].key == "LOC=Moscow"
    assert groups.by_variant[("ORG", "OPEC")].key == "ORG=OPEC"  # an acronym stays
    assert groups.by_variant[("LOC", "Washington")].key == "PER=Washington"
    assert groups.find("LOC", "u.s.") is us  # any case, alias or type finds the group
    assert groups.find("PER", "America") is us
    assert groups.find("LOC", "Atlantis") is None
    assert merge_entities({}).find("LOC", "US") is None


ARTICLES = [
    ("a", "US and Moscow talks", [("LOC", "US"), ("LOC", "Moscow")]),
    ("b", "U.S. sanctions on MOSCOW", [("LOC", "U.S."), ("LOC", "MOSCOW")]),
    ("c", "United States election", [("LOC", "United States"), ("MISC", "US")]),
    ("d", "MISC US only", [("MISC", "US")]),
    ("e", "Britain and the UK", [("LOC", "Britain"), ("LOC", "UK"), ("ORG", "OPEC")]),
    ("f", "OPEC in Moscow", [("ORG", "OPEC"), ("LOC", "Moscow")]),
    ("g", "nothing named", []),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("entities") / "store.sqlite"
    articles = [Article(i, title, "text") for i, title, _ in ARTICLES]
    labels = [
        ArticleLabels(
            "World",
            0.9,
            [FoundEntity(t, x, 0, len(x), 0.99, field="title") for t, x in ents],
        )
        for _, _, ents in ARTICLES
    ]
    write_store(path, articles, [[(0, 4)]] * len(articles), labels)
    return ArticleStore.open(path)


def _ids(store, mask):
    return sorted(store.ids([int(n) for n in mask.nonzero()[0]]).values())


def test_facets_merge_variants_and_carry_labels(store):
    facets = store.facet_counts(range(len(ARTICLES)))
    assert (
        facets["entity"]
        == {
            "LOC=United States": 4,  # a, b, c (twice), d: each article once
            "LOC=Moscow": 3,
            "LOC=United Kingdom": 1,
            "ORG=OPEC": 2,
        }
        and list(facets["entity"])[:2] == ["LOC=United States", "LOC=Moscow"]
    )
    assert facets["entity_labels"] == {
        "LOC=United States": "United States · place",
        "LOC=Moscow": "Moscow · place",
        "LOC=United Kingdom": "United Kingdom · place",
        "ORG=OPEC": "OPEC · organisation",
    }
    assert store.facet_counts([])["entity"] == {}
    top = store.facet_counts(range(len(ARTICLES)), top_entities=1)
    assert top["entity"] == {"LOC=United States": 4} and list(top["entity_labels"]) == [
        "LOC=United States"
    ]


def test_a_filter_on_a_merged_entity_matches_what_its_facet_counted(store):
    facets = store.facet_counts(range(len(ARTICLES)))
    for key, count in facets["entity"].items():
        type_, text = key.split("=", 1)
        assert store.article_mask(entities=[(type_, text)]).sum() == count, key
    # any variant as the filter, as older clients and the result chips send them
    for variant in [("LOC", "US"), ("MISC", "US"), ("LOC", "u.s."), ("LOC", "United States")]:
        assert _ids(store, store.article_mask(entities=[variant])) == ["a", "b", "c", "d"]
    assert _ids(store, store.article_mask(entities=[("LOC", "moscow")])) == ["a", "b", "f"]
    both = store.article_mask(entities=[("LOC", "US"), ("LOC", "Moscow")])
    assert _ids(store, both) == ["a", "b"]  # several entities: every one must be named
    assert store.article_mask(entities=[("LOC", "Atlantis")]).sum() == 0
    assert _ids(store, store.article_mask(entities=[("ORG", "opec")])) == ["e", "f"]


def test_the_search_page_shows_entity_labels(enriched_index, enriched):  # noqa: F811
    app = create_app({"TESTING": True, "INDEX_DIR": str(enriched_index), "SEARCHER": enriched})
    client = app.test_client()
    html = client.get("/?q=oil+production").get_data(as_text=True)
    facets = html.split('aria-label="facets"', 1)[1].split("</aside>", 1)[0]
    assert ">OPEC · organisation</a>" in facets and ">Russia · place</a>" in facets
    assert 'href="/?q=oil+production&amp;entity=ORG%3DOPEC"' in facets
    data = client.get("/api/search?q=oil+production").get_json()
    assert data["facets"]["entity_labels"]["ORG=OPEC"] == "OPEC · organisation"
    assert set(data["facets"]["entity_labels"]) == set(data["facets"]["entity"])
