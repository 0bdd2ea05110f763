"""A sharded index searched by Ray actors (ranker.cluster) on a real local Ray: the same
results as one index, a killed actor restarted and its query retried, a dead shard
answered around (never a 5xx), and commits reaching the actors.

One Ray session (2 CPUs, loopback only) serves the whole module; skipped without Ray
(``pip install 'newsrank[cluster]'``). The Ray Data embedding test is ``slow`` (run
with ``-m slow``; it needs pyarrow too).
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

# Ray on loopback only (its default on Linux is the machine's outward address)
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray")

from indexer.article import Article  # noqa: E402
from indexer.build import build_index  # noqa: E402
from indexer.shard_writer import ShardedWriter  # noqa: E402
from indexer.shards import build_sharded  # noqa: E402
from ranker.request import SearchRequest  # noqa: E402
from ranker.search import Searcher  # noqa: E402
from ranker.sharded import ShardedIndex  # noqa: E402
from tests.test_shards import QUERIES, _stage_lists, assert_same_stage_lists  # noqa: E402


@pytest.fixture(scope="module")
def ray_session():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def fp32_embedder():
    from indexer.dense import Embedder
    from newsrank.config import IndexConfig

    return Embedder(IndexConfig().embedder, batch_size=32, precision="fp32")


@pytest.fixture(scope="module")
def built(tmp_path_factory, news_articles, fp32_embedder):
    root = tmp_path_factory.mktemp("ray-shards")
    build_index(news_articles, root / "one", embedder=fp32_embedder, progress=False)
    build_sharded(news_articles, root / "three", 3, embedder=fp32_embedder, progress=False)
    return root


@pytest.fixture()
def sharded(ray_session, built, fp32_embedder):
    """A searcher over the 3 shards with actors of its own (killed afterwards)."""
    index = ShardedIndex.open(built / "three", backend="ray")
    yield Searcher(index, embedder=fp32_embedder)
    index.close()


@pytest.fixture(scope="module")
def shared(ray_session, built, fp32_embedder):
    """A searcher over the 3 shards whose actors the tests may kill, not for good.

    A restarted actor reloads its shard; on a loaded 2-core machine that has taken
    longer than the default wait (15 s), so these tests wait up to 2 minutes: what is
    tested is that the restart is waited for and the query retried, not how fast."""
    before = os.environ.get("NEWSRANK_SHARD_RESTART_WAIT_S")
    os.environ["NEWSRANK_SHARD_RESTART_WAIT_S"] = "120"
    try:
        index = ShardedIndex.open(built / "three", backend="ray")
    finally:
        if before is None:
            os.environ.pop("NEWSRANK_SHARD_RESTART_WAIT_S")
        else:
            os.environ["NEWSRANK_SHARD_RESTART_WAIT_S"] = before
    assert index.backend.restart_wait_s == 120
    yield Searcher(index, embedder=fp32_embedder)
    index.close()


def test_actors_give_the_stage_results_of_one_index(shared, built, fp32_embedder):
    sharded = shared
    one = Searcher.open(built / "one", embedder=fp32_embedder)
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
    pids = sharded.index.backend.pids()
    assert len(set(pids)) == 3 and os.getpid() not in pids  # one process per shard
    for query in QUERIES:
        assert_same_stage_lists(
            _stage_lists(sharded, query, 500), _stage_lists(one, query, 500), query
        )
    response = sharded.search(SearchRequest("oil prices"))
    assert response.shards == {"total": 3, "ok": 3, "failed": 0}


def test_a_killed_actor_is_restarted_and_the_query_retried(shared):
    sharded = shared
    backend = sharded.index.backend
    before = sharded.search(SearchRequest("oil prices"))
    pids = backend.pids()
    ray.kill(backend.actors[1], no_restart=False)  # Ray restarts it (max_restarts)
    after = sharded.search(SearchRequest("oil prices"))
    assert after.shards == {"total": 3, "ok": 3, "failed": 0}
    assert [h.id for h in after.results] == [h.id for h in before.results]
    new = backend.pids()
    assert new[1] != pids[1] and new[0] == pids[0]
    os.kill(new[2], signal.SIGKILL)  # the worker process itself dies
    again = sharded.search(SearchRequest("oil prices"))
    assert again.shards["ok"] == 3
    assert [h.id for h in again.results] == [h.id for h in before.results]


def test_a_dead_shard_is_answered_around_never_a_5xx(sharded, built):
    from web import create_app

    app = create_app({"TESTING": True, "INDEX_DIR": str(built / "three"), "SEARCHER": sharded})
    client = app.test_client()
    ok = client.get("/api/search?q=oil+prices")
    assert ok.status_code == 200 and ok.get_json()["shards"]["failed"] == 0
    backend = sharded.index.backend
    ray.kill(backend.actors[0], no_restart=True)  # gone for good: the retry fails too
    t = time.perf_counter()
    response = client.get("/api/search?q=oil+prices")
    assert time.perf_counter() - t < 10
    assert response.status_code == 200
    data = response.get_json()
    assert data["shards"]["total"] == 3 and data["shards"]["ok"] == 2
    assert data["shards"]["failed"] == 1 and "shard 0" in data["shards"]["warnings"][0]
    assert data["results"]  # the two other shards' articles
    index = sharded.index
    shard0 = set(index.store.ids(range(index.store.parts[0].store.n_articles)).values())
    assert not shard0 & {r["id"] for r in data["results"]}


def test_a_commit_reaches_the_actors(ray_session, tmp_path, news_articles, fp32_embedder):
    path = tmp_path / "live"
    build_sharded(news_articles[:12], path, 3, embedder=fp32_embedder, progress=False)
    index = ShardedIndex.open(path, backend="ray")
    try:
        searcher = Searcher(index, embedder=fp32_embedder)
        new = Article(id="zeppelin-1", title="Zeppelin returns", text="Airship zeppelin. " * 30)
        with ShardedWriter(path, embedder=fp32_embedder) as writer:
            writer.add([new])
            writer.delete([news_articles[0].id])
            writer.commit()
        assert not index.is_current()
        fresh = index.reopen()
        assert fresh is not None and fresh.backend is index.backend
        searcher = searcher.reopened(fresh)
        response = searcher.search(SearchRequest("zeppelin airship"))
        assert response.results[0].id == "zeppelin-1" and response.shards["ok"] == 3
        gone = searcher.search(SearchRequest(news_articles[0].title, k=50))
        assert news_articles[0].id not in {h.id for h in gone.results}
    finally:
        index.close()


@pytest.mark.slow  # two workers load the embedder: about 25 s on the 2-core machine
def test_ray_data_embeds_the_passages_as_one_process_does(ray_session, news_articles, tmp_path):
    pytest.importorskip("pyarrow")  # Ray Data's format
    from indexer.dense import Embedder
    from indexer.distributed import embed_on_ray
    from indexer.passages import passage_texts
    from newsrank.config import IndexConfig

    config = IndexConfig(embed_precision="fp32")
    articles = news_articles[:6]
    texts = passage_texts(articles, config)
    assert len(texts) >= len(articles)
    embedder = embed_on_ray(texts, config, workers=2, batch_size=4)
    local = Embedder(config.embedder, precision="fp32").encode(texts)
    np.testing.assert_allclose(embedder.encode(texts), local, atol=1e-5)
    assert embedder.precision == "fp32"
    # a build takes the vectors: nothing is embedded again, the index is whole
    result = build_sharded(articles, tmp_path / "s", 2, config, embedder=embedder, progress=False)
    assert result.articles == len(articles) and result.passages == len(texts)
    assert result.manifests[0].embedding_dim == local.shape[1]
