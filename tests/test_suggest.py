"""Did you mean (ranker/suggest.py): the rules on a tiny vocabulary, the searcher's
``suggestion`` field and the link on the search page."""

from __future__ import annotations

import time

import pytest

from ranker.request import SearchRequest
from ranker.suggest import Suggester, suggester_for

VOCABULARY = {
    "government": 900,
    "goverment": 3,  # a typo that made it into the index
    "election": 700,
    "elections": 300,
    "minister": 800,
    "football": 400,
    "chelsea": 150,
    "yukos": 40,  # a rare name ...
    "yukon": 9000,  # ... one edit from a (made-up) very frequent word
    "khodorkovsky": 25,
    "oil": 1000,
    "trial": 300,
    "trail": 30,  # a rare correct word, only 10x rarer than "trial"
    "whither": 1,
    "whether": 2000,
}


@pytest.fixture(scope="module")
def suggester():
    return Suggester(VOCABULARY, names={"yukos", "khodorkovsky", "chelsea"})


@pytest.mark.parametrize(
    "query, expected",
    [
        ("goverment", "government"),  # known but 300x rarer than a word one edit away
        ("electoin results", "election results"),  # unknown: a transposition
        ("footbal", "football"),  # unknown: one letter missing
        ("prime minster", "prime minister"),
        ("Goverment minster", "Government minister"),  # the case pattern is kept
        ("GOVERMENT", "GOVERNMENT"),
        ("Khodorkovksy", "Khodorkovsky"),  # unknown, so corrected though capitalised
        ("goverment: 2005 budget", "government: 2005 budget"),  # the rest is kept
    ],
)
def test_it_corrects_unknown_words_and_words_far_rarer_than_a_close_one(suggester, query, expected):
    assert suggester.suggest(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "Yukos",  # a capitalised name known to the index: never changed
        "yukos",  # lowercase too: 225x rarer than "yukon", but a name of the index
        "chelsea fans",
        "trail",  # only 10x rarer than "trial"
        "whither",  # 2000x rarer than "whether", but an English word: no typo
        "election 2005",
        "g20 summit",  # digits: left alone
        "12345",
        "oik",  # 3 letters or fewer
        "government election",
        "",
        "qwxzv",  # nothing close
    ],
)
def test_it_leaves_correct_words_names_numbers_and_short_words(suggester, query):
    assert suggester.suggest(query) is None


def test_names_typed_in_lowercase_are_names_unless_told_otherwise():
    names = {"yukos", "khodorkovsky", "chelsea"}
    only_capitalised = Suggester(VOCABULARY, names=names, names_any_case=False)
    assert only_capitalised.suggest("Yukos") is None
    assert only_capitalised.suggest("yukos") == "yukon"  # 9000 >= 100 x 40


def test_factors_are_settings():
    strict = Suggester(VOCABULARY, rare_factor=1000)
    assert strict.suggest("goverment") is None  # 300x < 1000x
    assert Suggester(VOCABULARY, english=()).suggest("whither") == "whether"  # no word list
    real = {"taking": 800, "tanking": 1, "reseach": 1, "research": 500}
    assert Suggester(real).suggest("tanking reseach") == "tanking research"
    assert Suggester(real, english=()).suggest("tanking") == "taking"
    assert Suggester(VOCABULARY, min_letters=6).suggest("minster") == "minister"
    assert Suggester(VOCABULARY, min_letters=8).suggest("minster") is None


def test_from_texts_counts_articles_and_knows_names_by_their_capitals():
    texts = [
        "Yukos shares fell. The government said the election was fair.",
        "The government of Russia and Yukos.",
        "An election for the government.",
    ]
    s = Suggester.from_texts(texts, names=["Mikhail Khodorkovsky"])
    assert s.doc_freq["government"] == 3 and s.doc_freq["yukos"] == 2
    assert {"yukos", "russia", "mikhail", "khodorkovsky"} <= s.names
    assert "government" not in s.names and "the" not in s.names  # mostly lowercase
    assert s.suggest("govrnment elecshun") == "government elecshun"  # 3 edits: too far


def test_the_searcher_suggests_from_its_index_and_only_when_a_word_is_wrong(searcher):
    assert suggester_for(searcher.store) is searcher.suggester  # one per store
    assert searcher.configured().suggester is searcher.suggester
    vocabulary = searcher.suggester.doc_freq
    assert vocabulary["pandemic"] >= 2
    fixed = searcher.search(SearchRequest("pandmic outbrek", k=3))
    assert fixed.suggestion == "pandemic outbreak"
    assert fixed.to_dict()["suggestion"] == "pandemic outbreak"
    plain = searcher.search(SearchRequest("pandemic outbreak", k=3))
    assert plain.suggestion is None and plain.to_dict()["suggestion"] is None
    assert "suggest" in plain.timings_ms


def test_a_suggestion_costs_well_under_two_milliseconds(searcher):
    queries = ["pandmic outbrek", "oil prices", "goverment electoin", "Brazil 2020"]
    t = time.perf_counter()
    for _ in range(50):
        for q in queries:
            searcher.suggester.suggest(q)
    per_query_ms = (time.perf_counter() - t) * 1000 / (50 * len(queries))
    assert per_query_ms < 2.0


def test_the_page_links_the_suggestion_and_the_api_returns_it(client):
    page = client.get("/?q=pandmic+outbrek")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'class="suggestion"' in html and "Did you mean" in html
    assert 'href="/?q=pandemic+outbreak"' in html
    assert "Did you mean" not in client.get("/?q=pandemic").get_data(as_text=True)
    data = client.get("/api/search?q=pandmic+outbrek").get_json()
    assert data["suggestion"] == "pandemic outbreak"


def test_a_server_searcher_answers_before_its_suggester_is_built(index_dir, embedder):
    from newsrank.config import SearchConfig
    from ranker.search import Searcher

    fresh = Searcher.open(index_dir, embedder=embedder, config=SearchConfig(suggest_wait=False))
    assert fresh.ready_suggester() is None  # a new store: nothing built, nothing read
    early = fresh.search(SearchRequest("pandmic outbrek", k=3))
    assert early.results and early.suggestion is None
    assert fresh.ready_suggester() is None  # searching did not build it either
    fresh.build_suggester()  # what the web engine does in the background
    assert fresh.search(SearchRequest("pandmic outbrek", k=3)).suggestion == "pandemic outbreak"


def test_the_web_server_starts_without_reading_every_text(index_dir, monkeypatch):
    import threading

    from ranker.search import Searcher
    from web import create_app

    release = threading.Event()
    real = Searcher.build_suggester

    def held_build(self):
        release.wait(10)  # a huge index: the build takes long
        return real(self)

    monkeypatch.setattr(Searcher, "build_suggester", held_build)
    app = create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "POLL_INDEX": False})
    client = app.test_client()
    early = client.get("/api/search", query_string={"q": "pandmic outbrek"}).get_json()
    assert early["results"] and early["suggestion"] is None
    release.set()
    engine = app.extensions["newsrank.engine"]
    deadline = time.monotonic() + 10
    while engine._suggest_running and time.monotonic() < deadline:
        time.sleep(0.02)
    late = client.get("/api/search", query_string={"q": "pandmic outbrek"}).get_json()
    assert late["suggestion"] == "pandemic outbreak"
