import pytest

from newsrank.config import SearchConfig
from newsrank.errors import QueryError
from ranker.request import SearchRequest
from ranker.search import Searcher


def ids(response):
    return [hit.id for hit in response.results]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("oil industry during the coronavirus outbreak", "oil-1"),
        ("OPEC production cut", "oil-2"),
        ("who insists N95 masks guard against the virus", "mask-1"),
        ("Olympic games postponed", "olympics-1"),
        ("semiconductor shortage car factories", "tech-2"),
    ],
)
def test_fused_search_puts_the_right_article_first(searcher, query, expected):
    assert ids(searcher.search(SearchRequest(query, k=5)))[0] == expected


def test_dense_stage_finds_paraphrases_bm25_misses(index_dir, embedder):
    query = "petroleum firms suffer amid epidemic"
    bm25_only = Searcher.open(index_dir, config=SearchConfig(stages=("bm25",)), embedder=embedder)
    dense_only = Searcher.open(index_dir, config=SearchConfig(stages=("dense",)), embedder=embedder)
    assert ids(dense_only.search(SearchRequest(query, k=3)))[0] in {"oil-1", "oil-2", "oil-3"}
    assert not {"oil-1", "oil-2", "oil-3"} & set(ids(bm25_only.search(SearchRequest(query, k=3))))


def test_results_carry_stage_ranks_scores_and_a_highlighted_snippet(searcher):
    hit = searcher.search(SearchRequest("OPEC oil production cut", k=3)).results[0]
    assert hit.id == "oil-2" and hit.source == "Reuters" and hit.date == "2020-04-12"
    assert set(hit.stages) == {"bm25", "dense", "fused"}
    assert hit.stages["fused"].rank == 1
    assert hit.score == pytest.approx(hit.stages["fused"].score)
    assert hit.score == pytest.approx(
        1 / (60 + hit.stages["bm25"].rank) + 1 / (60 + hit.stages["dense"].rank)
    )
    marked = {hit.snippet[a:b].lower() for a, b in hit.highlights}
    assert {"opec", "oil", "production", "cut"} <= marked


def test_source_and_date_filters(searcher):
    response = searcher.search(SearchRequest("outbreak", k=20, sources=("dw",)))
    assert response.results and {h.source for h in response.results} == {"DW"}
    response = searcher.search(
        SearchRequest("election ballots", k=20, date_from="2020-11-01", date_to="2020-11-30")
    )
    assert set(ids(response)) == {"election-1", "election-2"}


def test_paging_walks_through_all_matches_without_repeats(searcher):
    first = searcher.search(SearchRequest("the", k=4, page=1))
    second = searcher.search(SearchRequest("the", k=4, page=2))
    assert first.total == second.total and first.total >= 8
    assert len(first.results) == 4 and not set(ids(first)) & set(ids(second))
    assert second.results[0].stages["fused"].rank == 5


def test_linear_fusion_option(index_dir, embedder):
    searcher = Searcher.open(index_dir, config=SearchConfig(fusion="linear"), embedder=embedder)
    hit = searcher.search(SearchRequest("Wimbledon cancelled", k=1)).results[0]
    assert hit.id == "tennis-1" and 0 < hit.score <= 1.0


@pytest.mark.parametrize(
    "request_,message",
    [
        (SearchRequest("   "), "empty query"),
        (SearchRequest("?! \x00 ..."), "no letter or digit"),
        (SearchRequest("x" * 501), "limit is 500"),
        (SearchRequest("oil", k=0), "k=0"),
        (SearchRequest("oil", page=0), "page=0"),
        (SearchRequest("oil", date_from="last week"), "from date"),
    ],
)
def test_bad_requests_raise_clear_errors(searcher, request_, message):
    with pytest.raises(QueryError, match=message):
        searcher.search(request_)


def test_missing_index_is_a_clear_error(tmp_path):
    from newsrank.errors import IndexNotFoundError

    with pytest.raises(IndexNotFoundError, match="newsrank index build"):
        Searcher.open(tmp_path / "nope")


def test_configured_shares_the_open_index(searcher):
    bm25_only = searcher.configured(config=SearchConfig(stages=("bm25",)))
    assert bm25_only.index is searcher.index and bm25_only.embedder is searcher.embedder
    hit = bm25_only.search(SearchRequest("Wimbledon", k=1)).results[0]
    assert set(hit.stages) == {"bm25", "fused"}
    assert searcher.config.stages == ("bm25", "dense")


def test_an_embedder_of_another_dimension_is_an_index_mismatch(searcher):
    from newsrank.errors import IndexMismatchError

    class Tiny:
        dim, model_name = 8, "tiny-8d"

    with pytest.raises(IndexMismatchError, match="tiny-8d.*8-d vectors.*384-d"):
        searcher.configured().__class__(searcher.index, embedder=Tiny())


def test_search_many_and_rank_many_agree_with_search(searcher):
    requests = [SearchRequest(q, k=3) for q in ("oil prices", "football league", "election")]
    one_by_one = [[h.id for h in searcher.search(r).results] for r in requests]
    batched = [[h.id for h in resp.results] for resp in searcher.search_many(requests)]
    assert batched == one_by_one
    timings: list[dict] = []
    rankings = searcher.rank_many(requests, timings)
    assert [searcher.ids(r, 3) for r in rankings] == one_by_one
    assert len(timings) == 3 and all({"embed", "bm25", "dense", "fuse"} <= set(t) for t in timings)
