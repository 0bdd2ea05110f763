"""Full-text entities past the indexed lead: queued when shown, tagged once, cached."""

import time

import pytest

from indexer.fulltext import FullTextEntities
from ranker.request import SearchRequest
from tests.fakes import FakeTagger, build_fake_enriched


class CountingTagger(FakeTagger):
    def __init__(self) -> None:
        self.texts = 0

    def tag(self, texts):
        self.texts += len(texts)
        return super().tag(texts)


@pytest.fixture(scope="module")
def short_lead_index(tmp_path_factory, news_articles, embedder):
    """An index whose build tagged only the title and the first 3 words of the text."""
    out = tmp_path_factory.mktemp("lead3") / "news"
    return build_fake_enriched(out, news_articles, embedder, lead_words=3)


@pytest.fixture()
def lazy(short_lead_index, embedder):
    from ranker.search import Searcher

    searcher = Searcher.open(short_lead_index, embedder=embedder)
    tagger = CountingTagger()
    searcher.fulltext = FullTextEntities(short_lead_index, tagger, "fake", lead_words=3)
    yield searcher, tagger
    searcher.fulltext.close()
    (short_lead_index / "fulltext-entities.sqlite").unlink()


def _text_entities(hit):
    return {(e.text, e.start, e.end) for e in hit.entities if e.field == "text"}


def test_first_view_queues_then_the_rest_is_tagged_once(lazy, news_articles):
    searcher, tagger = lazy
    request = SearchRequest("OPEC production cut", k=1)
    first = searcher.search(request).results[0]
    assert first.id == "oil-2"
    # at index time only "OPEC and its" was tagged: Russia (later in the text) is not there
    assert {t for t, _, _ in _text_entities(first)} == {"OPEC"}

    assert searcher.fulltext.run_pending() == 1
    article = next(a for a in news_articles if a.id == "oil-2")
    second = searcher.search(request).results[0]
    found = _text_entities(second)
    assert {t for t, _, _ in found} == {"OPEC", "Russia"}
    assert all(article.text[s:e] == t for t, s, e in found)
    assert len(second.entities) == len({(e.field, e.start) for e in second.entities})

    calls = tagger.texts
    searcher.search(request)
    assert searcher.fulltext.run_pending() == 0 and tagger.texts == calls  # cached


def test_cache_persists_and_is_per_tagger(lazy):
    searcher, _ = lazy
    searcher.search(SearchRequest("OPEC production cut", k=2))
    searcher.fulltext.run_pending()
    again = FullTextEntities(searcher.index_dir, FakeTagger(), "fake", 3)
    assert again.count() == 2
    other = FullTextEntities(searcher.index_dir, FakeTagger(), "other", 3)
    assert other.count() == 0 and other.cached(searcher.store, range(5)) == {}


def test_background_worker_fills_the_cache(lazy):
    searcher, _ = lazy
    searcher.fulltext.start()
    assert len(searcher.search(SearchRequest("oil", k=3)).results) == 3
    deadline = time.monotonic() + 20
    while searcher.fulltext.count() < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert searcher.fulltext.count() == 3
    assert searcher.fulltext.errors == []


def test_page_offers_later_entities_as_searches_not_filters(lazy):
    from web import create_app

    searcher, _ = lazy
    request = SearchRequest("vaccine trial final phase", k=1)
    hit = searcher.search(request).results[0]
    assert hit.id == "vaccine-1" and not hit.entities  # Brazil is past the indexed lead
    searcher.fulltext.run_pending()
    (brazil,) = searcher.search(request).results[0].entities
    assert (brazil.text, brazil.in_index) == ("Brazil", False)
    assert searcher.search(request).to_dict()["results"][0]["entities"][0]["in_index"] is False

    app = create_app({"TESTING": True, "INDEX_DIR": str(searcher.index_dir), "SEARCHER": searcher})
    html = app.test_client().get("/?q=vaccine+trial+final+phase&k=1").get_data(as_text=True)
    assert 'class="chip chip-more ent-LOC" href="/?q=Brazil"' in html
    chips = html[html.index('class="chips"') :]
    assert "LOC%3DBrazil" not in chips[: chips.index("</p>")]  # no filter chip for it


def test_done_asks_in_chunks_and_run_pending_leaves_the_stop_request(lazy, monkeypatch):
    import indexer.fulltext as fulltext

    searcher, _ = lazy
    monkeypatch.setattr(fulltext, "MAX_PARAMS", 2)  # the whole corpus in many small queries
    searcher.search(SearchRequest("oil", k=3))
    searcher.fulltext.run_pending()
    keys = searcher.store.digests(range(searcher.store.n_articles)).values()
    assert len(searcher.fulltext.done(keys)) == 3

    searcher.fulltext.start()
    searcher.fulltext._queue.put(None)  # what close() sends the worker
    assert searcher.fulltext.run_pending() == 0
    searcher.fulltext._worker.join(5)
    assert not searcher.fulltext._worker.is_alive()  # the worker still got it and stopped
