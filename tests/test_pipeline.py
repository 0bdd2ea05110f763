"""Rerank, read, enrich and facets in the live search, with stand-in heads."""

import pytest

from newsrank.config import HeadsConfig
from ranker.request import SearchRequest
from tests.fakes import FakeReader, FakeReranker, build_fake_enriched


@pytest.fixture(scope="session")
def enriched_index(tmp_path_factory, news_articles, embedder):
    out = tmp_path_factory.mktemp("enriched") / "news"
    return build_fake_enriched(out, news_articles, embedder)


@pytest.fixture(scope="session")
def enriched(enriched_index, embedder):
    from ranker.search import Searcher

    return Searcher.open(enriched_index, embedder=embedder)


def test_rerank_reorders_the_top_candidates_and_keeps_stage_scores(searcher):
    plain = searcher.search(SearchRequest("oil prices", k=3))
    pure = HeadsConfig(rerank_mix=(1.0, 0.0, 0.0, 0.0))
    reranked = searcher.configured(reranker=FakeReranker("shale"), heads=pure).search(
        SearchRequest("oil prices", k=3)
    )
    assert plain.results[0].id != "oil-3"
    top = reranked.results[0]
    assert top.id == "oil-3"
    assert set(top.stages) == {"bm25", "dense", "fused", "rerank"}
    # "shale" twice: in the title and in the text the reranker reads
    assert top.stages["rerank"].rank == 1 and top.score == top.stages["rerank"].score == 2.0
    assert top.stages["fused"].rank > 1  # fused rank is kept, not overwritten
    assert "rerank" in reranked.timings_ms


def test_rerank_mix_weighs_the_retrievers_scores(searcher):
    request = SearchRequest("oil prices", k=5)
    bm25_led = searcher.configured(
        reranker=FakeReranker("shale"), heads=HeadsConfig(rerank_mix=(0.001, 0.0, 1.0, 0.0))
    ).search(request)
    scored = [h for h in bm25_led.results if "bm25" in h.stages]
    assert len(scored) >= 2
    # BM25 all but alone: the reranked articles come in BM25's order, its misses last
    assert [h.stages["bm25"].rank for h in scored] == sorted(h.stages["bm25"].rank for h in scored)
    assert all("bm25" in h.stages for h in bm25_led.results[: len(scored)])
    mixed = searcher.configured(
        reranker=FakeReranker("shale"), heads=HeadsConfig(rerank_mix=(0.5, 0.5, 0.0, 0.0))
    ).search(request)
    assert all("rerank" in h.stages for h in mixed.results)
    assert 0.0 <= mixed.results[-1].score <= mixed.results[0].score <= 1.0


def test_a_rerank_mix_without_the_cross_encoder_is_refused():
    with pytest.raises(ValueError, match="rerank_mix=.*rerank_depth=0"):
        HeadsConfig(rerank_mix=(0.0, 1.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="has 2 values"):
        HeadsConfig(rerank_mix=(0.2, 0.8))


def test_rerank_depth_counts_articles_one_pair_each(searcher):
    fake = FakeReranker("oil")
    deep = searcher.configured(reranker=fake, heads=HeadsConfig(rerank_depth=5))
    response = deep.search(SearchRequest("oil prices", k=3))
    assert response.total >= 6 and fake.pairs == 5  # five articles, their best passage each
    ranks = sorted(h.stages["rerank"].rank for h in deep.search(SearchRequest("oil", k=5)).results)
    assert ranks == [1, 2, 3, 4, 5]


def test_the_first_page_is_reranked_through_and_through(searcher):
    fake = FakeReranker("oil")
    shallow = searcher.configured(reranker=fake, heads=HeadsConfig(rerank_depth=2))
    page = shallow.search(SearchRequest("oil prices", k=4))
    assert fake.pairs == 4 and all("rerank" in h.stages for h in page.results)
    second = shallow.search(SearchRequest("oil prices", k=4, page=2))
    assert not any("rerank" in h.stages for h in second.results)  # past the first page
    assert not {h.id for h in page.results} & {h.id for h in second.results}


def test_reader_answers_questions_with_article_offsets(searcher, news_articles):
    reading = searcher.configured(reader=FakeReader())
    response = reading.search(SearchRequest("who insists N95 masks guard against the virus?"))
    assert [a.text for a in response.answers] == ["mask makers"]
    answer = response.answers[0]
    article = next(a for a in news_articles if a.id == answer.doc_id)
    assert article.text[answer.start : answer.end] == "mask makers"
    hit = next(h for h in response.results if h.id == answer.doc_id)
    assert hit.answer.context[hit.answer.start : hit.answer.end] == "mask makers"
    assert response.to_dict()["answers"] == [
        {
            "text": "mask makers",
            "score": 0.9,
            "doc_id": "mask-1",
            "start": answer.start,
            "end": answer.end,
        }
    ]


def test_keyword_query_gets_no_forced_answer(searcher):
    response = searcher.configured(reader=FakeReader()).search(SearchRequest("oil prices"))
    assert response.answers == [] and all(h.answer is None for h in response.results)


def test_enrichment_is_stored_and_returned(enriched):
    hit = enriched.search(SearchRequest("OPEC production cut", k=1)).results[0]
    assert hit.id == "oil-2"
    assert hit.topic.label == "Business" and hit.topic.score == pytest.approx(0.8)
    assert {(e.type, e.text, e.field) for e in hit.entities} >= {
        ("ORG", "OPEC", "title"),
        ("LOC", "Russia", "title"),
        ("ORG", "OPEC", "text"),
    }
    data = hit.to_dict()
    assert data["topic"] == {"label": "Business", "score": pytest.approx(0.8)}
    entity = data["entities"][0]
    assert {"type", "text", "start", "end"} <= set(entity)


def test_entity_offsets_point_into_their_field(enriched, news_articles):
    hit = enriched.search(SearchRequest("OPEC", k=1)).results[0]
    article = next(a for a in news_articles if a.id == hit.id)
    for e in hit.entities:
        field = article.title if e.field == "title" else article.text
        assert field[e.start : e.end] == e.text


def test_facets_count_the_query_matches_and_filters_narrow(enriched):
    response = enriched.search(SearchRequest("oil cut league", k=10))
    facets = response.facets
    assert sum(facets["topic"].values()) == response.total
    assert facets["topic"]["Business"] >= 2 and facets["topic"]["Sports"] >= 1
    assert facets["entity"]["ORG=OPEC"] == 1
    narrowed = enriched.search(SearchRequest("oil cut league", k=10, topics=("sports",)))
    assert narrowed.total == facets["topic"]["Sports"]
    assert {h.topic.label for h in narrowed.results} == {"Sports"}
    by_entity = enriched.search(SearchRequest("cut", k=10, entities=(("ORG", "opec"),)))
    assert [h.id for h in by_entity.results] == ["oil-2"]


def test_unenriched_index_has_empty_labels(searcher):
    response = searcher.search(SearchRequest("oil", k=2))
    assert response.results[0].topic is None and response.results[0].entities == []
    assert response.facets["topic"] == {} and response.facets["source"]
