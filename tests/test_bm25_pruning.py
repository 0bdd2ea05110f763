"""MaxScore pruning in BM25Index.retrieve: the same hits as scoring every posting (ids,
order, float32 scores bit for bit) across segments, deletions, masks and sharded
statistics; and far fewer postings read on a Zipfian corpus."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import topk
from indexer.bm25_formulas import TermStats
from indexer.hits import Hits
from indexer.lexical import BM25Index
from indexer.postings import Postings

VOCAB = [f"w{i}" for i in range(12)]
#: skewed: w0 is in most passages, w11 in few; many equal scores
WEIGHTS = np.array([1 / (i + 1) for i in range(len(VOCAB))])
PROPERTY = settings(max_examples=150, derandomize=True, deadline=None, database=None)


def reference(index: BM25Index, tokens, k, mask, stats) -> Hits:
    """Top k by score descending, then passage number ascending, from every score."""
    scores = index.scores_of_tokens(tokens, stats)
    if mask is not None:
        scores = np.where(mask, scores, np.float32(0))
    ids = np.flatnonzero(scores > 0)
    ids = ids[np.lexsort((ids, -scores[ids]))][: max(k, 0)].astype(np.int64)
    return Hits(ids, scores[ids])


def assert_same(got: Hits, want: Hits) -> None:
    assert got.ids.dtype == want.ids.dtype == np.int64
    assert got.scores.dtype == want.scores.dtype == np.float32
    np.testing.assert_array_equal(got.ids, want.ids)
    assert got.scores.tobytes() == want.scores.tobytes()  # bit for bit


@st.composite
def cases(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 60))
    p = WEIGHTS / WEIGHTS.sum()
    docs = [list(rng.choice(VOCAB, size=rng.integers(0, 8), p=p)) for _ in range(n)]
    cuts = sorted(
        rng.choice(np.arange(1, n), size=min(n - 1, draw(st.integers(0, 3))), replace=False)
    )
    bounds = [0, *[int(c) for c in cuts], n]
    segments = [Postings.from_tokens(docs[a:z]) for a, z in zip(bounds, bounds[1:])]
    live = [
        (rng.random(len(s)) > draw(st.sampled_from([0.0, 0.2, 0.6])))
        if rng.random() < 0.7
        else None
        for s in segments
    ]
    query = list(rng.choice([*VOCAB, "zebra"], size=draw(st.integers(0, 5))))
    k = draw(st.integers(-1, n + 2))
    mask = (rng.random(n) < 0.7) if draw(st.booleans()) else None
    method = draw(st.sampled_from(["lucene", "robertson", "atire", "bm25l", "bm25+"]))
    k1, b = draw(st.sampled_from([(1.5, 0.75), (1.2, 0.3), (0.5, 1.0), (2.0, 0.0)]))
    return segments, live, query, k, mask, dict(method=method, k1=k1, b=b)


@PROPERTY
@given(cases())
def test_pruned_retrieve_equals_every_posting_scored(case):
    segments, live, query, k, mask, params = case
    index = BM25Index.over(segments, live, **params)
    want = reference(index, query, k, mask, None)
    for prune in (True, False, None):
        assert_same(index.retrieve("", k, mask, tokens=query, prune=prune), want)
    assert index.retrieve("", k, mask, tokens=query) == want  # cached bounds, again
    with mock.patch.object(topk, "maxscore", sparse_maxscore):  # small corpora go dense
        assert_same(index.retrieve("", k, mask, tokens=query, prune=True), want)


def sparse_maxscore(*args, **kwargs):
    """topk.maxscore that never switches to a dense array."""
    return MAXSCORE(*args, **{**kwargs, "size": 2**62})


MAXSCORE = topk.maxscore


@PROPERTY
@given(cases())
def test_pruned_retrieve_with_sharded_statistics(case):
    segments, live, query, k, mask, params = case
    shards = [
        BM25Index.over(segments[:1], live[:1], **params),
        BM25Index.over(segments[1:], live[1:], **params),
    ]
    stats = TermStats.sum([s.term_stats(query) for s in shards])
    start = 0
    for shard in shards:
        sub = None if mask is None else mask[start : start + len(shard)]
        start += len(shard)
        want = reference(shard, query, k, sub, stats)
        for prune in (True, False):
            assert_same(shard.retrieve("", k, sub, tokens=query, stats=stats, prune=prune), want)


def test_ties_are_in_passage_order():
    # Passages 0-199 score the same: the k best are the k first, with or without pruning.
    index = BM25Index.over([Postings.from_tokens([["oil", "gas"]] * 200 + [["gas"]] * 600)])
    for prune in (True, False):
        for query in (["oil"], ["oil", "gas"], ["gas", "oil", "oil"]):
            hits = index.retrieve("", 5, tokens=query, prune=prune)
            assert hits.ids.tolist() == [0, 1, 2, 3, 4]
            assert len(set(hits.scores.tolist())) == 1


def test_lookup_and_select():
    parts = [
        (0, np.array([1, 3], np.int32), np.array([2, 1], np.int32), None),
        (
            10,
            np.array([0, 4], np.int32),
            np.array([5, 6], np.int32),
            np.array([0, 0, 0, 0, 1], bool),
        ),
    ]
    cand = np.array([0, 1, 3, 10, 12, 14, 20], np.int64)
    assert topk.lookup(parts, cand).tolist() == [0, 2, 1, 0, 0, 6, 0]  # 10 is deleted
    ids, tfs = topk.gather(parts, mask=np.arange(21) != 3)
    assert ids.tolist() == [1, 14] and tfs.tolist() == [2, 6]
    scores = np.array([0.5, 0, 0.5, 0.7], np.float32)
    ids, top = topk.select(np.array([2, 5, 7, 9]), scores, 2)
    assert ids.tolist() == [9, 2] and top.tolist() == pytest.approx([0.7, 0.5])


def zipf_postings(n: int, vocab: int, mean_length: int, seed: int) -> Postings:
    """``n`` passages of Zipf-distributed term ids (term "t<id>"), built with numpy."""
    rng = np.random.default_rng(seed)
    lengths = rng.poisson(mean_length, n).astype(np.int32)
    ranks = np.arange(1, vocab + 1)
    p = 1 / ranks**1.07
    terms = rng.choice(vocab, size=int(lengths.sum()), p=p / p.sum())
    docs = np.repeat(np.arange(n, dtype=np.int64), lengths)
    keys, tfs = np.unique(terms * n + docs, return_counts=True)
    term_of = keys // n
    present = np.unique(term_of)
    names = sorted(f"t{i}" for i in present.tolist())
    # Postings want terms sorted by name: renumber term ids in that order.
    rank = np.empty(vocab, np.int64)
    rank[[int(t[1:]) for t in names]] = np.arange(len(names))
    order = np.lexsort((keys % n, rank[term_of]))
    indptr = np.zeros(len(names) + 1, np.int64)
    np.cumsum(np.bincount(rank[term_of], minlength=len(names)), out=indptr[1:])
    return Postings(
        names, indptr, (keys % n)[order].astype(np.int32), tfs[order].astype(np.int32), lengths
    )


def test_pruning_reads_far_fewer_postings_on_a_zipfian_corpus():
    segment = zipf_postings(50_000, 20_000, 60, seed=7)
    live = np.random.default_rng(1).random(len(segment)) > 0.05
    index = BM25Index.over([segment, zipf_postings(5_000, 20_000, 60, seed=8)], [live, None])
    queries = [["t1", "t3", "t2000"], ["t0", "t700"], ["t5", "t2", "t150", "t9000"], ["t40", "t0"]]
    pruned_total = exhaustive_total = 0
    for query in queries:
        for k in (10, 100):
            pruned, read = index.retrieve_with_cost("", k, tokens=query, prune=True)
            exhaustive, every = index.retrieve_with_cost("", k, tokens=query, prune=False)
            assert_same(pruned, exhaustive)
            assert len(pruned.ids) == k
            pruned_total += read
            exhaustive_total += every
    assert pruned_total * 5 < exhaustive_total, (pruned_total, exhaustive_total)
    # The default chooses pruning here.
    assert index.retrieve_with_cost("", 10, tokens=queries[0])[1] < exhaustive_total / 20
