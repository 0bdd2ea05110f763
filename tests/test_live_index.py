"""The live index: upserts, deletes, commits and merges (``indexer.writer``), in-process.

The crash cases (real processes killed at injected points) are in test_faults.py, the
HTTP write API in test_write_api.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from indexer.article import Article
from indexer.build import build_index
from indexer.fulltext import FullTextEntities
from indexer.manifest import read_manifest
from indexer.merge_policy import LogMergePolicy
from indexer.reader import IndexReader
from indexer.writer import IndexWriter
from newsrank.errors import NewsrankError
from ranker.request import SearchRequest
from ranker.search import Searcher
from tests.fakes import FakeClassifier, FakeReader, FakeTagger, build_fake_enriched

QUERIES = ["oil prices", "football league cup", "election voters", "bank interest rates",
           "space rocket launch", "climate"]  # fmt: skip


class Counting:
    """An embedder that counts what it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.dim, self.texts = inner, inner.dim, 0
        self.precision = getattr(inner, "precision", "fp32")

    def encode(self, texts, show_progress=False, queries=False):
        self.texts += 0 if queries else len(texts)
        return self.inner.encode(texts, show_progress=show_progress, queries=queries)


def _searcher(index, embedder, **parts) -> Searcher:
    return Searcher(IndexReader.open(index), embedder=embedder, **parts)


def _stage_table(searcher: Searcher, query: str) -> dict[str, list[tuple[str, int, float]]]:
    """Each stage's ``(article id, rank, score)`` for a query, best first."""
    ranking = searcher.rank(searcher.validate(SearchRequest(query, k=10)))
    out = {}
    for stage, scores in ranking.stages.items():
        ids = searcher.store.ids(list(scores))
        rows = sorted(scores.items(), key=lambda kv: kv[1].rank)
        out[stage] = [(ids[n], s.rank, round(float(s.score), 4)) for n, s in rows]
    return out


def changed_index(out, news_articles, embedder, replace: bool = True):
    """An index built from the first 10 fixture articles, then changed: the rest added in
    two commits, three deleted and (``replace``) one replaced."""
    build_index(news_articles[:10], out, embedder=embedder, progress=False)
    with IndexWriter(out, embedder=embedder) as writer:
        writer.add(news_articles[10:18])
        writer.commit()
        writer.add(news_articles[18:])
        writer.delete([news_articles[1].id, news_articles[12].id, news_articles[20].id])
        if replace:
            changed = dataclasses.replace(news_articles[5], title="Rewritten", text="Tea.")
            result = writer.add([changed])
            assert result.replaced == [changed.id] and result.added == []
        writer.commit()
    return out


@pytest.fixture()
def live(tmp_path, news_articles, embedder):
    return changed_index(tmp_path / "live", news_articles, embedder)


def _live_articles(index) -> list[Article]:
    """The live articles in index order (what a merge keeps, in its order)."""
    store = IndexReader.open(index).store
    nums = [int(n) for n in np.flatnonzero(store.live)]
    stored = store.articles(nums)
    return [
        Article(a.id, a.title, a.text, a.date, a.source, a.url, a.category)
        for a in (stored[n] for n in nums)
    ]


def test_deleted_and_replaced_articles_are_gone_from_everything(live, news_articles, embedder):
    deleted = {news_articles[i].id for i in (1, 12, 20)}
    searcher = _searcher(live, embedder, reader=FakeReader())
    store = searcher.store
    assert store.n_live == len(news_articles) - 3
    assert read_manifest(live).articles == store.n_live and read_manifest(live).deleted == 4
    for query in QUERIES + [news_articles[1].title, news_articles[12].title]:
        response = searcher.search(SearchRequest(query, k=50))
        ids = {hit.id for hit in response.results}
        assert not ids & deleted
        assert response.total == len(ids)  # every match is on this one page
        assert not {a.article for a in response.answers} - {
            store.num_of(i) for i in ids
        }  # answers come from live articles only
        assert sum(response.facets["source"].values()) <= response.total
    for gone in deleted:
        assert store.num_of(gone) is None
    assert sum(n for _, n, *_ in store.source_summary()) == store.n_live
    changed = store.articles([store.num_of(news_articles[5].id)])
    assert next(iter(changed.values())).title == "Rewritten"
    old_words = searcher.search(SearchRequest(news_articles[5].title, k=50))
    assert all(h.title != news_articles[5].title for h in old_words.results)


def test_bm25_statistics_are_exact_before_a_merge(live, tmp_path, embedder):
    fresh = tmp_path / "fresh"
    build_index(_live_articles(live), fresh, embedder=embedder, progress=False)
    a, b = IndexReader.open(live), IndexReader.open(fresh)
    for query in QUERIES:
        ours, theirs = a.bm25.retrieve(query, 20), b.bm25.retrieve(query, 20)
        ours_ids = [a.store.ids([int(a.store.passage_article[p])]) for p in ours.ids]
        their_ids = [b.store.ids([int(b.store.passage_article[p])]) for p in theirs.ids]
        assert [list(x.values()) for x in ours_ids] == [list(x.values()) for x in their_ids]
        np.testing.assert_allclose(ours.scores, theirs.scores, atol=1e-4)


@pytest.fixture(scope="module")
def fp32_embedder():
    """Float32 whatever the CPU: a fresh build embeds in other batches than the segments
    did, and bfloat16 results depend on the batch (float32 ones agree to ~1e-6)."""
    from indexer.dense import Embedder
    from newsrank.config import IndexConfig

    return Embedder(IndexConfig().embedder, batch_size=32, precision="fp32")


def test_after_merge_every_stage_equals_a_fresh_build(tmp_path, news_articles, fp32_embedder):
    embedder = fp32_embedder
    live = changed_index(tmp_path / "live", news_articles, embedder, replace=False)
    expected_articles = _live_articles(live)
    with IndexWriter(live, embedder=embedder) as writer:
        result = writer.merge(force=True)
    assert result.dropped_articles == 3 and len(result.merged) == 1
    manifest = read_manifest(live)
    assert len(manifest.segments) == 1 and manifest.deleted == 0
    fresh = tmp_path / "fresh"
    build_index(expected_articles, fresh, embedder=embedder, progress=False)
    merged, built = _searcher(live, embedder), _searcher(fresh, embedder)
    for query in QUERIES:
        ours, theirs = _stage_table(merged, query), _stage_table(built, query)
        assert set(ours) >= {"bm25", "dense", "fused"}
        assert ours == theirs, query


def test_an_add_embeds_only_the_new_articles(live, embedder):
    counting = Counting(embedder)
    with IndexWriter(live, embedder=counting) as writer:
        writer.add([Article("n1", "New one", "A short new text."),
                    Article("n2", "New two", " ".join(["word"] * 450))])  # fmt: skip
        writer.commit()
    assert counting.texts == 1 + 3  # passages of the two new articles, nothing else


def test_unknown_ids_are_reported_not_fatal(live, embedder):
    with IndexWriter(live, embedder=embedder) as writer:
        result = writer.delete(["bank-1", "no-such-id", "bank-1"])
        writer.commit()
    assert result.deleted == ["bank-1"] and result.unknown == ["no-such-id"]
    with IndexWriter(live, embedder=embedder) as writer:
        assert writer.delete(["bank-1"]).unknown == ["bank-1"]  # already deleted


def test_ids_twice_in_one_add_are_refused(live, embedder):
    with IndexWriter(live, embedder=embedder) as writer:
        with pytest.raises(NewsrankError, match="ids given twice"):
            writer.add([Article("d", "A", "x"), Article("d", "B", "y")])


def test_nothing_is_visible_before_commit(live, embedder):
    before = read_manifest(live)
    with IndexWriter(live, embedder=embedder) as writer:
        writer.add([Article("pending", "Pending", "Not committed yet.")])
        writer.delete(["bank-1"])
        assert IndexReader.open(live).store.held(["pending", "bank-1"]) == {"bank-1"}
    assert read_manifest(live) == before  # closed without a commit: dropped
    with IndexWriter(live, embedder=embedder):
        pass  # the next writer removes the uncommitted segment
    names = {p.name for p in live.iterdir()}
    assert names <= {s.name for s in before.segments} | set(before.retired) | {"manifest.json"}


def test_a_reader_keeps_its_commit_and_reopen_shares_segments(live, embedder):
    old = IndexReader.open(live)
    with IndexWriter(live, embedder=embedder) as writer:
        writer.add([Article("fresh-1", "Fresh", "Brand new article about tea.")])
        writer.commit()
    assert not old.is_current()
    new = old.reopen()
    assert new is not None and new.generation == old.generation + 1 and new.reopen() is None
    for name, segment in old.segments.items():
        assert new.segments[name] is segment  # unchanged segments are not loaded again
    assert old.store.num_of("fresh-1") is None and new.store.num_of("fresh-1") is not None
    with IndexWriter(live, embedder=embedder) as writer:  # merged away, files retired
        writer.merge(force=True)
    response = Searcher(old, embedder=embedder).search(SearchRequest("oil prices"))
    assert response.results  # a search on the older commit still reads its segments


def test_retired_files_go_after_the_grace_period(live, embedder):
    with IndexWriter(live, embedder=embedder) as writer:
        writer.merge(force=True)
    retired = read_manifest(live).retired
    assert retired and all((live / name).exists() for name in retired)
    with IndexWriter(live, embedder=embedder, grace_s=0) as writer:
        writer.delete(["bank-1"])
        writer.commit()
    manifest = read_manifest(live)
    assert not any((live / name).exists() for name in retired)
    assert set(manifest.retired).isdisjoint(retired)


def test_the_merge_policy_keeps_segments_few(tmp_path, embedder):
    out = tmp_path / "idx"
    build_index([Article("a0", "A", "zero")], out, embedder=embedder, progress=False)
    policy = LogMergePolicy(factor=3)
    for i in range(1, 8):
        with IndexWriter(out, embedder=embedder, merge_policy=policy) as writer:
            writer.add([Article(f"a{i}", "A", f"number {i}")])
            writer.commit()
            writer.maybe_merge()
        assert len(read_manifest(out).segments) < 3 + 3
    store = IndexReader.open(out).store
    assert store.n_live == 8 and len(read_manifest(out).segments) <= 4


def test_an_enriched_index_labels_new_articles_and_needs_its_heads(tmp_path, news_articles,
                                                                   embedder):  # fmt: skip
    out = build_fake_enriched(tmp_path / "rich", news_articles[:5], embedder)
    with IndexWriter(out, embedder=embedder) as writer:
        with pytest.raises(NewsrankError, match="labelled by the heads"):
            writer.add([Article("x", "Oil deal", "Oil in Moscow.")])
    with IndexWriter(out, embedder=embedder, classifier=FakeClassifier(),
                     tagger=FakeTagger()) as writer:  # fmt: skip
        writer.add([Article("x", "Oil deal", "Oil in Moscow.")])
        writer.commit()
    store = IndexReader.open(out).store
    labels = store.labels([store.num_of("x")])[store.num_of("x")]
    assert labels.topic == "Business"
    assert "Business" in store.facet_counts([store.num_of("x")])["topic"]


def test_the_full_text_cache_survives_merges(tmp_path, news_articles, embedder):
    out = build_fake_enriched(tmp_path / "rich", news_articles[:6], embedder, lead_words=3)
    cache = FullTextEntities(out, FakeTagger(), "fake", lead_words=3)
    with IndexWriter(out, embedder=embedder, classifier=FakeClassifier(),
                     tagger=FakeTagger()) as writer:  # fmt: skip
        writer.add(news_articles[6:9])
        writer.delete([news_articles[0].id])
        writer.commit()
    store = IndexReader.open(out).store
    target = news_articles[7].id
    assert cache.tag_articles(store, [store.num_of(target)]) == 1
    before = cache.cached(store, [store.num_of(target)])
    with IndexWriter(out, embedder=embedder) as writer:
        writer.merge(force=True)
    merged = IndexReader.open(out).store
    num = merged.num_of(target)
    assert num != store.num_of(target)  # renumbered by the merge
    assert cache.cached(merged, [num]) == {num: before[store.num_of(target)]}
    assert cache.request(merged, [num]) == 0  # nothing to tag again


def test_collect_removes_expired_retired_files_and_commits_it(live, embedder):
    with IndexWriter(live, embedder=embedder) as writer:
        writer.merge(force=True)
        assert writer.collect() == []  # still within the grace period
    retired = read_manifest(live).retired
    with IndexWriter(live, embedder=embedder, grace_s=0) as writer:
        assert writer.collect() == sorted(retired)
    manifest = read_manifest(live)
    assert manifest.retired == {} and manifest.timings  # the last add's timings are kept
    assert sorted(p.name for p in live.iterdir()) == sorted(
        ["manifest.json", *(s.name for s in manifest.segments)]
    )
