"""A sharded index (indexer.shards, ranker.sharded) without Ray: the layout, routing of
writes to the owning shard, and the same stage results as one index (global BM25
statistics), through the coordinator's merge code with the in-process backend."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from indexer.article import Article
from indexer.build import build_index
from indexer.reader import IndexReader
from indexer.shard_writer import ShardedWriter
from indexer.shards import (
    SHARDS_FILE,
    build_sharded,
    partition,
    read_layout,
    shard_of,
)
from newsrank.errors import NewsrankError
from ranker.request import SearchRequest
from ranker.search import Searcher
from ranker.shard_search import ShardReply
from ranker.sharded import ShardedIndex, ShardTally

QUERIES = [
    "oil prices",
    "OPEC cut output",
    "election results",
    "central bank interest rates",
    "football match",
    "space launch",
    "climate",
]


@pytest.fixture(scope="module")
def fp32_embedder():
    """Passage vectors in float32: in bfloat16 a vector depends slightly on the batch it
    was embedded in (docs/live-index.md), and the shards embed other batches."""
    from indexer.dense import Embedder
    from newsrank.config import IndexConfig

    return Embedder(IndexConfig().embedder, batch_size=32, precision="fp32")


@pytest.fixture(scope="module")
def built(tmp_path_factory, news_articles, fp32_embedder):
    root = tmp_path_factory.mktemp("shards")
    build_index(news_articles, root / "one", embedder=fp32_embedder, progress=False)
    build_sharded(news_articles, root / "three", 3, embedder=fp32_embedder, progress=False)
    return root


def _stage_lists(searcher: Searcher, query: str, depth: int, request=None):
    """Each stage's passages as (article id, passage span, score to 4 decimals), which
    name a passage in any layout, best first."""
    request = searcher.validate(request or SearchRequest(query))
    mask = searcher._passage_mask(request)
    hits = searcher.retriever.run(request.query, depth, mask, {})
    store = searcher.store
    out = {}
    for stage, h in hits.items():
        nums = [int(store.passage_article[p]) for p in h.ids]
        ids = store.ids(nums)
        spans = [store.passage_span(int(p)) for p in h.ids]
        out[stage] = sorted(
            ((ids[n], span, round(float(s), 4)) for n, span, s in zip(nums, spans, h.scores)),
            key=lambda x: (-x[2], x[0], x[1]),
        )
    return out


def test_layout_hash_is_stable_and_every_article_is_in_its_shard(built, news_articles):
    layout = read_layout(built / "three")
    assert layout.shards == 3 and layout.dirs == ("shard-00", "shard-01", "shard-02")
    data = json.loads((built / "three" / SHARDS_FILE).read_text())
    assert data["hash"] == "sha1-64-mod" and data["settings"]["bm25_method"] == "lucene"
    # sha1 of the UTF-8 id: the same in every process (Python's hash() is salted)
    assert [shard_of(i, 3) for i in ("a", "b", "c", "reuters-1")] == [1, 1, 0, 0]
    for i, path in enumerate(layout.paths(built / "three")):
        held = IndexReader.open(path).store.ids(range(IndexReader.open(path).store.n_articles))
        assert held and all(shard_of(a, 3) == i for a in held.values())
    assert sum(len(p) for p in partition(news_articles, 3)) == len(news_articles)
    assert not (built / "three" / "manifest.json").exists()  # the shards hold the commits


def assert_same_stage_lists(a: dict, b: dict, context: str = "") -> None:
    """The same passages in every stage, their scores equal to within 2e-4: vectors
    embedded in other batches can differ in their last float32 bits, and rounding to 4
    decimals can then split 0.06395 into 0.0639 and 0.064 (seen on an AVX2-only CPU)."""
    assert a.keys() == b.keys(), context
    for stage in a:
        got = {(i, span): v for i, span, v in a[stage]}
        want = {(i, span): v for i, span, v in b[stage]}
        assert len(got) == len(a[stage]) and got.keys() == want.keys(), (context, stage)
        worst = max((abs(got[k] - want[k]) for k in got), default=0.0)
        assert worst <= 2e-4, (context, stage, worst)


def test_three_shards_give_the_stage_results_of_one_index(built, fp32_embedder):
    one = Searcher.open(built / "one", embedder=fp32_embedder)
    three = Searcher(ShardedIndex.open(built / "three", backend="local"), embedder=one.embedder)
    assert three.store.n_live == one.store.n_live
    with_bm25 = 0
    for query in QUERIES:
        # deep enough to hold every match: no tie at a cut-off
        a, b = _stage_lists(one, query, 500), _stage_lists(three, query, 500)
        assert_same_stage_lists(a, b, query)
        assert a["dense"]
        with_bm25 += bool(a["bm25"])
        ra, rb = one.search(SearchRequest(query, k=10)), three.search(SearchRequest(query, k=10))
        # results: the same articles and fused scores (exact RRF ties may swap: they are
        # broken by article number, which differs between the layouts)
        key = [(h.id, round(h.score, 4)) for h in ra.results]
        assert sorted(key) == sorted((h.id, round(h.score, 4)) for h in rb.results)
        assert rb.shards == {"total": 3, "ok": 3, "failed": 0}
        assert ra.shards == {"total": 1, "ok": 1, "failed": 0}
    assert with_bm25 >= 4  # the queries do match words of the corpus


def test_filters_are_cut_into_each_shards_range(built, news_articles, fp32_embedder):
    one = Searcher.open(built / "one", embedder=fp32_embedder)
    three = Searcher(ShardedIndex.open(built / "three", backend="local"), embedder=one.embedder)
    source = next(a.source for a in news_articles if a.source)
    request = SearchRequest("oil prices economy", sources=(source,))
    a, b = _stage_lists(one, "", 500, request), _stage_lists(three, "", 500, request)
    assert_same_stage_lists(a, b)
    assert a["dense"]
    ids = {x[0] for x in a["dense"]}
    assert ids <= {art.id for art in news_articles if art.source == source}


def test_writes_go_to_the_owning_shard_and_statistics_stay_global(
    tmp_path, news_articles, fp32_embedder
):
    index = tmp_path / "sharded"
    build_sharded(news_articles[:15], index, 3, embedder=fp32_embedder, progress=False)
    sharded = Searcher(ShardedIndex.open(index, backend="local"), embedder=fp32_embedder)
    changed = Article(id=news_articles[3].id, title="Rewritten", text="Oil output rises " * 20)
    owner = shard_of(changed.id, 3)
    with ShardedWriter(index, embedder=fp32_embedder) as writer:
        added = writer.add([changed, *news_articles[15:20]])
        assert changed.id in added.replaced  # the upsert found the old version: same shard
        assert set(writer._writers) == {shard_of(a.id, 3) for a in [changed, *news_articles[15:20]]}
        gone = writer.delete([news_articles[0].id, "no-such-id"])
        assert gone.deleted == [news_articles[0].id] and gone.unknown == ["no-such-id"]
        manifest = writer.commit()
    assert manifest.articles == 15 - 1 + 5
    reader = IndexReader.open(index / f"shard-{owner:02d}")
    num = reader.store.num_of(changed.id)
    assert num is not None and reader.store.articles([num])[num].title == "Rewritten"
    # the running searcher sees the commits once reopened; a reopen shares segments
    reopened = sharded.index.reopen()
    assert reopened is not None and reopened.generation > sharded.index.generation
    assert sharded.index.reopen() is not None  # the old one is still on its commit
    assert reopened.reopen() is None
    live = [a for a in news_articles[1:20] if a.id != changed.id] + [changed]
    fresh = tmp_path / "fresh"
    build_index(live, fresh, embedder=fp32_embedder, progress=False)
    one = Searcher.open(fresh, embedder=fp32_embedder)
    after = sharded.reopened(reopened)
    for query in ("oil output rises", "election", "bank rates"):
        assert_same_stage_lists(
            _stage_lists(after, query, 500), _stage_lists(one, query, 500), query
        )
    response = after.search(SearchRequest("rewritten oil output"))
    assert response.results[0].id == changed.id
    assert news_articles[0].id not in {h.id for h in after.search(SearchRequest("x y")).results}


def test_an_empty_shard_and_the_layout_checks(tmp_path, fp32_embedder):
    arts = [Article(id=i, title=f"Oil news {i}", text="Crude oil prices " * 30) for i in "ab"]
    assert [len(p) for p in partition(arts, 3)] == [0, 2, 0]
    build_sharded(arts, tmp_path / "s", 3, embedder=fp32_embedder, progress=False)
    searcher = Searcher(ShardedIndex.open(tmp_path / "s", backend="local"), embedder=fp32_embedder)
    response = searcher.search(SearchRequest("oil prices", collapse=False))
    assert {h.id for h in response.results} == {"a", "b"}
    assert response.shards["ok"] == 3
    with pytest.raises(NewsrankError, match="holds an index of 3 shards"):
        build_sharded(arts, tmp_path / "s", 2, embedder=fp32_embedder, progress=False)
    build_index(arts, tmp_path / "u", embedder=fp32_embedder, progress=False)
    with pytest.raises(NewsrankError, match="holds an unsharded index"):
        build_sharded(arts, tmp_path / "u", 2, embedder=fp32_embedder, progress=False)
    with pytest.raises(ValueError, match="shard backend 'grpc'"):
        ShardedIndex.open(tmp_path / "s", backend="grpc")


class _Flaky:
    """A backend whose shard ``bad`` fails every call (as a dead actor would)."""

    def __init__(self, inner, bad: int) -> None:
        self.inner, self.bad, self.n = inner, bad, inner.n
        self.calls: list[tuple[str, int]] = []

    def submit(self, method, calls):
        self.calls += [(method, s) for s in calls]
        good = {s: a for s, a in calls.items() if s != self.bad}
        replies = self.inner.submit(method, good).result()
        if self.bad in calls:
            replies.append(ShardReply(self.bad, error="RayActorError: the actor died"))

        class Done:
            def result(self_inner):
                return sorted(replies, key=lambda r: r.shard)

        return Done()

    def reopen(self):
        return self.inner.reopen()

    def commits(self, previous):
        return self.inner.commits(previous)

    def close(self):
        pass


def test_a_failed_shard_gives_a_partial_answer_with_a_warning(built, fp32_embedder):
    from ranker.shard_search import LocalBackend

    layout = read_layout(built / "three")
    backend = _Flaky(LocalBackend(layout, built / "three"), bad=1)
    index = ShardedIndex.open(built / "three", backend=backend)
    searcher = Searcher(index, embedder=fp32_embedder)
    response = searcher.search(SearchRequest("oil prices"))
    assert response.shards["total"] == 3 and response.shards["ok"] == 2
    assert response.shards["failed"] == 1 and "shard 1" in response.shards["warnings"][0]
    assert response.results  # the other shards answered
    store = index.store
    shard_one = range(
        int(index.passage_base[1]), int(index.passage_base[1] + index.passage_sizes[1])
    )
    for hit in response.results:
        assert hit.passage not in shard_one
    assert store.n_live > 0


def test_local_backend_retries_a_failing_call_once(built):
    from ranker.shard_search import LocalBackend

    backend = LocalBackend(read_layout(built / "three"), built / "three")
    searcher = backend.searchers[0]
    failures = iter([RuntimeError("transient")])
    real = searcher.stats

    def flaky(*args):
        for exc in failures:
            raise exc
        return real(*args)

    searcher.stats = flaky  # type: ignore[method-assign]
    gen = searcher.generation()
    reply = backend.submit("stats", {0: (gen, ["oil"])}).result()[0]
    assert reply.ok and reply.value.df["oil"] >= 0
    searcher.stats = lambda *a: (_ for _ in ()).throw(RuntimeError("down"))  # type: ignore
    reply = backend.submit("stats", {0: (gen, ["oil"])}).result()[0]
    assert not reply.ok and "down" in reply.error


def test_tally_to_dict():
    tally = ShardTally(3)
    tally.record([ShardReply(0, 1), ShardReply(2, error="dead")])
    assert tally.to_dict()["ok"] == 2 and tally.to_dict()["failed"] == 1


def test_cli_build_add_delete_info_and_search_of_a_sharded_index(tmp_path, fixtures, capsys):
    from newsrank.cli import main

    index = tmp_path / "idx"
    argv = ["index", "build", "--input", str(fixtures / "news.jsonl"), "--index", str(index)]
    assert main([*argv, "--shards", "3", "--no-enrich", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["shards"] == 3 and sum(summary["shard_articles"]) == summary["articles"]
    assert main([*argv, "--no-enrich", "--json"]) == 2  # unsharded over sharded: refused
    assert "holds an index of 3 shards" in capsys.readouterr().err
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"id": "oil-1", "title": "Oil rewritten", "text": "Barrels. " * 40}))
    assert main(["index", "add", "--index", str(index), "--input", str(new), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["replaced"] == 1 and out["added"] == 0
    assert main(["index", "delete", "--index", str(index), "--id", "oil-2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["deleted"] == 1
    assert main(["index", "info", "--index", str(index)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["shards"] == 3 and info["articles"] == summary["articles"] - 1
    search = ["search", "oil", "--index", str(index), "--json", "--rerank-depth", "0"]
    assert main([*search, "--no-read", "--shard-backend", "local"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["shards"] == {"total": 3, "ok": 3, "failed": 0}
    assert "oil-2" not in {r["id"] for r in data["results"]}
    assert "oil-1" in {r["id"] for r in data["results"]}


def test_without_ray_a_sharded_index_names_the_extra(built, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as when not installed
    with pytest.raises(NewsrankError, match=r"pip install 'newsrank\[cluster\]'"):
        ShardedIndex.open(built / "three", backend="ray")


def test_the_unsharded_default_never_imports_ray(index_dir):
    import subprocess

    code = (
        "import sys, numpy as np; from ranker.search import Searcher; "
        "from ranker.request import SearchRequest; import web.engine, web.admin\n"
        "class E:\n dim = 384\n def encode(self, texts, show_progress=False, queries=False):\n"
        "  return np.ones((len(texts), 384), 'float32') / 384 ** 0.5\n"
        f"s = Searcher.open({str(index_dir)!r}, embedder=E())\n"
        "assert s.search(SearchRequest('oil')).shards['total'] == 1\n"
        "print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_merge_keeps_every_shard_searchable(tmp_path, news_articles, fp32_embedder):
    index = tmp_path / "m"
    build_sharded(news_articles[:12], index, 2, embedder=fp32_embedder, progress=False)
    with ShardedWriter(index, embedder=fp32_embedder) as writer:
        writer.add(news_articles[12:18])
        writer.commit()
        result = writer.merge(force=True)
    assert result.merged and all("/" in s for g in result.merged for s in g)
    searcher = Searcher(ShardedIndex.open(index, backend="local"), embedder=fp32_embedder)
    assert searcher.store.n_live == 18
    assert len(searcher.manifest.segments) == 2
    assert np.all(searcher.store.live)
