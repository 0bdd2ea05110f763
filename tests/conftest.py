"""Shared fixtures: the real packaged embedder, a tiny index built once, the Flask app.

Fixtures follow the Flask tutorial's names: ``app``, ``client``, ``runner``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# no test may depend on one CPU's int8 arithmetic: `precision="auto"` stays torch in the
# suite (the tests of auto's int8 choice set NEWSRANK_AUTO_INT8 themselves)
os.environ["NEWSRANK_AUTO_INT8"] = "0"

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def embedder():
    from indexer.dense import Embedder
    from newsrank.config import IndexConfig

    return Embedder(IndexConfig().embedder, batch_size=32)


@pytest.fixture(scope="session")
def news_articles():
    from indexer.ingest import read_articles

    report = read_articles([FIXTURES / "news.jsonl"])
    assert not report.rejected
    return report.articles


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, news_articles, embedder) -> Path:
    from indexer.build import build_index

    out = tmp_path_factory.mktemp("index") / "news"
    build_index(news_articles, out, embedder=embedder, progress=False)
    return out


@pytest.fixture(scope="session")
def searcher(index_dir, embedder):
    from ranker.search import Searcher

    return Searcher.open(index_dir, embedder=embedder)


@pytest.fixture()
def app(index_dir, searcher):
    from web import create_app

    return create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "SEARCHER": searcher})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (``item.report_call``), so that a
    fixture can act on failure (the browser tests save the page they saw)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
