"""The real shipped heads, each loaded at most once per test session (a few seconds
each), for the tests of their input handling (test_long_inputs, test_properties,
test_fuzz). Skips when a head's directory is not in the checkout.

Those modules run with one torch thread (:func:`one_torch_thread`): on a busy 2-core
machine two threads made a search with the real heads ten times slower (3 s, not 0.3).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from newsrank.threads import use_torch_threads


@pytest.fixture(scope="module", autouse=False)
def one_torch_thread():
    """One torch thread for the module's tests, the previous count restored after."""
    before = use_torch_threads(None)
    use_torch_threads(1)
    yield
    use_torch_threads(before)


def _need(name: str) -> str:
    from heads.registry import resolve_head

    if not Path(resolve_head(name)).is_dir():
        pytest.skip(f"heads/shipped/{name} is not in this checkout")
    return name


@functools.cache
def reader():
    from heads.reader import Reader

    return Reader(_need("reader"))


@functools.cache
def reranker():
    from heads.cross_encoder import CrossEncoder

    return CrossEncoder(_need("reranker"))


@functools.cache
def tagger():
    from heads.tagger import EntityTagger

    return EntityTagger(_need("tagger"))


@functools.cache
def classifier():
    from heads.classifier import TextClassifier

    return TextClassifier(_need("topic-agnews"))


#: A paragraph pasted into the search box: 398 characters, over 190 tokens (numbers and
#: symbols split into many), more than the reader's 256-token window leaves a question
#: besides its 64-token stride. It made the reader raise, so search gave HTTP 500.
PASTED = (
    "Brent crude fell 24% to $19.33/bbl on 2020-04-21 (WTI: -$37.63), the IEA said; "
    "OPEC+ cut 9.7m b/d, i.e. ~9.7% of 2019's 100.1m b/d demand. Saudi Aramco's Q1 "
    "net income: SAR 62.48bn (-25%); ExxonMobil Q1 EPS -$0.14 vs +$0.55 a year ago; "
    "Rosneft/Lukoil/Gazprom Neft output -19.1%/-8.2%/-4.6% y/y; US rigs 378 (-59%); "
    "Cushing stocks 55.0m bbl of 76m bbl capacity; contango ~$10.8/bbl (Jun/Jul)."
)


def engine(searcher):
    """A web engine over ``searcher`` with every real head (reranker and reader in the
    search too) and no time budget, so that every search runs the heads."""
    import dataclasses

    from newsrank.config import WebConfig
    from web.engine import Engine

    web = WebConfig()
    if "search_budget_ms" in {f.name for f in dataclasses.fields(WebConfig)}:
        web = dataclasses.replace(web, search_budget_ms=None)
    configured = searcher.configured(reranker=reranker(), reader=reader())
    return Engine(configured, classifier(), tagger(), reader(), web=web)


#: Long articles (about 250 words, two passages each): a passage longer than what a
#: long question leaves of the reader's window, so the reader has to cut windows; the
#: fixture news (under 40 words each) never makes it do that.
LONG_ARTICLES = [
    (
        "long-oil",
        "Oil markets in turmoil as OPEC and Russia agree record production cut",
        "Business",
        "Reuters",
        "Oil producers led by OPEC and Russia agreed to cut output by 9.7 million barrels "
        "a day after the coronavirus outbreak crushed fuel demand. Brent crude fell below "
        "twenty dollars a barrel and storage at Cushing, Oklahoma, filled up. ",
    ),
    (
        "long-election",
        "Voters queue for hours as election officials count record postal ballots",
        "World",
        "BBC",
        "Election officials in several states counted a record number of postal ballots "
        "while voters queued for hours outside polling stations. Courts heard challenges "
        "to the count and observers from both parties watched every table. ",
    ),
    (
        "long-football",
        "Liverpool win the Premier League title after a thirty-year wait",
        "Sports",
        "Guardian",
        "Liverpool won the Premier League title for the first time in thirty years after "
        "Chelsea beat Manchester City. Fans gathered outside Anfield despite the lockdown "
        "and the manager Juergen Klopp thanked the players and the supporters. ",
    ),
]
_built: dict[str, Path] = {}


def long_index(tmp_path_factory, news_articles, embedder) -> Path:
    """An index of the fixture news plus :data:`LONG_ARTICLES`, labelled by the fake
    classifier and tagger (so topic and entity filters have something to match);
    built once per session, whichever module asks first."""
    if "index" not in _built:
        from indexer.article import Article
        from tests.fakes import build_fake_enriched

        long = [
            Article(id_, title, text * 8, date="2020-04-12", source=source, category=category)
            for id_, title, category, source, text in LONG_ARTICLES
        ]
        out = tmp_path_factory.mktemp("long-index") / "news"
        _built["index"] = build_fake_enriched(out, [*news_articles, *long], embedder)
    return _built["index"]
