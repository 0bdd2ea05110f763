"""Order and time: ``sort=date``, the freshness boost (``recency``), the month facet and
the page's month bars, and what the search page says before a query (sources, dates,
example queries)."""

from __future__ import annotations

import json
import math
import re
from html import unescape

import pytest

from newsrank.config import Settings, WebConfig
from newsrank.errors import QueryError
from ranker.order import decay, order_by_date, recency_boost
from ranker.ranking import ArticleScore
from ranker.request import SearchRequest
from tests.test_openapi import fits
from web import create_app
from web.openapi import openapi_spec

QUERY = "the coronavirus pandemic hits the world"  # matches most of the fixture news


# --- the pure steps --------------------------------------------------------------


def test_order_by_date_is_newest_first_undated_last_ties_by_relevance():
    arts = [ArticleScore(n, 10.0 - n, n) for n in range(6)]
    dates = {0: None, 1: "2020-01-02", 2: "2021-05-05", 3: "2020-01-02", 4: None, 5: "2019-12-31"}
    assert [a.article for a in order_by_date(arts, dates)] == [2, 1, 3, 5, 0, 4]
    assert order_by_date([], {}) == []
    # the scores are untouched: only the order changes
    assert sorted(a.score for a in order_by_date(arts, dates)) == sorted(a.score for a in arts)


def test_decay_halves_per_half_life_from_the_newest_and_undated_get_the_oldest():
    kw = {"newest": "2017-03-01", "oldest": "2016-03-01"}
    assert decay("2017-03-01", half_life=7, **kw) == 1.0
    assert decay("2017-02-22", half_life=7, **kw) == 0.5
    assert math.isclose(decay("2016-03-01", half_life=365, **kw), 0.5)
    assert decay(None, half_life=365, **kw) == decay("2016-03-01", half_life=365, **kw)
    assert decay("2016-03-01", half_life=1e-300, **kw) == 0.0  # underflow, no error
    with pytest.raises(ValueError, match="half_life"):
        decay("2017-01-01", half_life=0, **kw)


def test_recency_boost_reorders_within_reranked_and_fused_groups_only():
    arts = [
        ArticleScore(0, 0.9, 0),  # reranked, old
        ArticleScore(1, 0.1, 1),  # reranked, new: low score, but reranked
        ArticleScore(2, 0.03, 2),  # fused, old
        ArticleScore(3, 0.02, 3),  # fused, new
    ]
    dates = {0: "2016-01-01", 1: "2017-01-01", 2: "2016-01-01", 3: "2017-01-01"}
    kw = {"newest": "2017-01-01", "oldest": "2016-01-01"}
    out = recency_boost(arts, dates, half_life=30, head=2, **kw)
    assert [a.article for a in out] == [1, 0, 3, 2]
    assert out[0].score == 0.1 and out[1].score < 0.9 * 0.001
    # a long half-life changes (almost) nothing; negative scores still go down with age
    assert [a.article for a in recency_boost(arts, dates, half_life=1e6, head=2, **kw)] == [
        0,
        1,
        2,
        3,
    ]
    neg = recency_boost([ArticleScore(0, -1.0, 0)], dates, half_life=366, **kw)
    assert neg[0].score == -1.5


# --- validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes,match",
    [
        ({"sort": "newest"}, "sort='newest'"),
        ({"sort": ""}, "sort=''"),
        ({"recency": 0.0}, "recency=0.0"),
        ({"recency": -3.0}, "recency=-3.0"),
        ({"recency": float("nan")}, "recency=nan"),
        ({"recency": float("inf")}, "recency=inf"),
        ({"recency": 1e9}, "recency="),
    ],
)
def test_bad_sort_and_recency_are_query_errors_naming_them(searcher, changes, match):
    with pytest.raises(QueryError, match=re.escape(match)):
        searcher.search(SearchRequest("oil", **changes))


# --- the searcher ------------------------------------------------------------------


def test_sort_by_date_keeps_the_matching_set_and_pages_through_the_sorted_list(searcher):
    relevance = searcher.search(SearchRequest(QUERY, k=100))
    newest = searcher.search(SearchRequest(QUERY, k=100, sort="date"))
    assert relevance.total == newest.total > 10
    assert {h.id for h in relevance.results} == {h.id for h in newest.results}
    dates = [h.date for h in newest.results]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert all(d is None for d in dates[len(dated) :])  # the undated come last
    assert newest.facets == relevance.facets  # facets count the same articles
    # paging works on the sorted list
    pages = [
        searcher.search(SearchRequest(QUERY, k=4, page=p, sort="date")).results for p in (1, 2, 3)
    ]
    assert [h.id for page in pages for h in page] == [h.id for h in newest.results[:12]]
    # ties (same date) keep the relevance order
    rank = {h.id: i for i, h in enumerate(relevance.results)}
    for a, b in zip(newest.results, newest.results[1:]):
        if a.date == b.date:
            assert rank[a.id] < rank[b.id]


def test_recency_is_off_by_default_and_boosts_recent_articles(searcher):
    plain = searcher.search(SearchRequest(QUERY, k=100))
    assert all("recency" not in h.stages for h in plain.results)
    assert "recency" not in plain.timings_ms
    fresh = searcher.search(SearchRequest(QUERY, k=100, recency=7.0))
    assert {h.id for h in fresh.results} == {h.id for h in plain.results}
    oldest, newest = searcher.store.date_range()
    assert (oldest, newest) == ("2020-02-20", "2020-12-15")
    for h in fresh.results:
        assert h.stages["recency"].score == h.score
        factor = decay(h.date, newest=newest, oldest=oldest, half_life=7.0)
        assert math.isclose(h.score, h.stages["fused"].score * factor)
    scores = [h.score for h in fresh.results]
    assert scores == sorted(scores, reverse=True)
    assert fresh.results[0].date >= "2020-11-01"  # a week's half-life favours December
    assert plain.results[0].id != fresh.results[0].id


def test_date_facet_counts_matching_articles_per_month(searcher):
    response = searcher.search(SearchRequest(QUERY, k=5))
    months = response.facets["date"]
    assert list(months) == sorted(months) and all(re.fullmatch(r"\d{4}-\d\d", m) for m in months)
    ranking = searcher.rank(searcher.validate(SearchRequest(QUERY, k=5)))
    dates = searcher.store.dates([a.article for a in ranking.articles])
    expected: dict[str, int] = {}
    for d in dates.values():
        if d:
            expected[d[:7]] = expected.get(d[:7], 0) + 1
    assert months == expected and sum(months.values()) < response.total  # nodate-1 is in none
    filtered = searcher.search(SearchRequest(QUERY, date_from="2020-03-01", date_to="2020-03-31"))
    assert filtered.facets["date"] == {"2020-03": filtered.total}


def test_source_summary_gives_counts_undated_and_date_ranges(searcher):
    summary = {row[0]: row[1:] for row in searcher.store.source_summary()}
    assert summary["BBC"] == (7, 1, "2020-04-01", "2020-12-01")
    assert summary["Reuters"][0:2] == (7, 0)
    assert sum(n for n, *_ in summary.values()) == searcher.store.n_articles


# --- web and CLI -------------------------------------------------------------------


def test_api_sort_recency_and_date_facet(client):
    data = client.get(f"/api/search?q={QUERY}&k=100&sort=date").get_json()
    dated = [h["date"] for h in data["results"] if h["date"]]
    assert dated == sorted(dated, reverse=True) and data["facets"]["date"]
    both = client.get(f"/api/search?q={QUERY}&recency=7&sort=date")
    fresh = fits(openapi_spec(), "/api/search", "GET", both)  # described in the OpenAPI
    assert all("recency" in h["stages"] for h in fresh["results"])
    params = {p["name"] for p in openapi_spec()["paths"]["/api/search"]["get"]["parameters"]}
    assert {"sort", "recency"} <= params
    assert client.get("/api/search?q=oil&recency=").status_code == 200  # empty: off
    for bad, name in (
        ("sort=bogus", "sort"),
        ("recency=abc", "recency"),
        ("recency=0", "recency"),
        ("recency=nan", "recency"),
        ("recency=-1", "recency"),
        ("recency=" + "9" * 5000, "recency"),
    ):
        response = client.get(f"/api/search?q=oil&{bad}")
        assert response.status_code == 400, bad
        fits(openapi_spec(), "/api/search", "GET", response)
        assert name in response.get_json()["error"], bad


def test_page_month_bars_link_to_the_months_first_and_last_day(client):
    html = client.get(f"/?q={QUERY}").get_data(as_text=True)
    links = {
        m: unescape(href)
        for href, m in re.findall(r'<a href="([^"]+)" data-month="([\d-]+)"', html)
    }
    assert "2020-02" in links and "2020-11" in links
    assert "from=2020-02-01" in links["2020-02"] and "to=2020-02-29" in links["2020-02"]
    assert "<meter" in html and "style=" not in html
    filtered = client.get(links["2020-11"]).get_data(as_text=True)
    assert re.findall(r'data-month="([\d-]+)"', filtered) == ["2020-11"]
    assert "any date" in filtered
    # the order links keep the query and switch the order
    assert 'data-sort="date"' in html
    dated = client.get(f"/?q={QUERY}&sort=date").get_data(as_text=True)
    assert 'data-sort="relevance"' in dated and "<strong>newest first</strong>" in dated


def test_page_without_query_shows_sources_dates_and_examples(client, searcher):
    html = client.get("/").get_data(as_text=True)
    assert "What this index holds" in html
    assert re.search(
        r"<td>BBC</td><td class=\"num\">7</td>\s*<td>2020-04-01 – 2020-12-01 \(1 undated\)", html
    )
    for query in WebConfig().example_queries:
        assert f'href="/?q={query.replace(" ", "+")}"' in html
    assert 4 <= len(WebConfig().example_queries) <= 6
    settings = Settings(web=WebConfig(example_queries=()))
    bare = create_app({"TESTING": True, "SEARCHER": searcher, "SETTINGS": settings})
    html = bare.test_client().get("/").get_data(as_text=True)
    assert "What this index holds" in html and "<h2>Try</h2>" not in html


def test_cli_sort_and_recency(index_dir, capsys):
    from newsrank.cli import main

    args = ["search", "--index", str(index_dir), QUERY, "--rerank-depth", "0", "--no-read"]
    assert main([*args, "--sort", "date", "-k", "30", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    dated = [h["date"] for h in data["results"] if h["date"]]
    assert dated == sorted(dated, reverse=True)
    assert main([*args, "--recency", "7", "--json"]) == 0
    assert all("recency" in h["stages"] for h in json.loads(capsys.readouterr().out)["results"])
    assert main([*args, "--recency", "0"]) == 2
    assert "recency" in capsys.readouterr().err
