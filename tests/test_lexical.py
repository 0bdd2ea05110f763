"""BM25 postings: against the references (rank-bm25, bm25s), across segments with
deletions (exact statistics), merges (select + concat), save/load, and a property test."""

from __future__ import annotations

import json

import bm25s
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi, BM25Plus

from indexer.analysis import Tokenizer
from indexer.bm25_formulas import METHODS
from indexer.bm25_reference import LuceneIdfOkapi
from indexer.lexical import BM25Index
from indexer.postings import Postings

CORPUS = [
    "Oil prices fell as the coronavirus outbreak cut fuel demand",
    "OPEC agreed a record cut in oil production",
    "Liverpool won the league title after thirty years",
    "The central bank cut interest rates to zero",
    "Airlines asked for rescue loans as demand collapsed",
    "Wildfires burned across California in record heat",
    "Video calls boomed as offices closed during the outbreak",
    "A museum opened a gallery of ancient maps",
]
QUERIES = ["oil demand outbreak", "record cut", "league title", "rescue loans airlines", "maps"]
#: more passages for the segment tests; "oil" and "cut" are in more than half of some views
MORE = [
    "Oil oil oil: the oil glut deepened",
    "",
    "Rates cut again as oil demand fell",
    "The league resumed without fans",
    "Ancient maps of oil fields were sold",
    "Demand for maps of the outbreak grew",
    "Fuel prices and oil prices",
]
SEGMENT_QUERIES = [*QUERIES, "oil oil prices", "zebra", "oil cut cut demand", ""]
PROPERTY = settings(max_examples=120, derandomize=True, deadline=None, database=None)


def bm25s_scores(tokens: list[list[str]], query: list[str], **params) -> np.ndarray:
    engine = bm25s.BM25(**params)
    engine.index(tokens, show_progress=False)
    ids = engine.get_tokens_ids(query)
    if not ids:
        return np.zeros(len(tokens), dtype=np.float32)
    return engine.get_scores_from_ids(ids)


@pytest.mark.parametrize("k1,b", [(1.5, 0.75), (0.9, 0.4)])
def test_lucene_scores_equal_rank_bm25_up_to_its_constant(k1, b):
    tokenizer = Tokenizer()
    ours = BM25Index(method="lucene", k1=k1, b=b)
    ours.index(CORPUS)
    reference = LuceneIdfOkapi([tokenizer(t) for t in CORPUS], k1=k1, b=b)
    for query in QUERIES:
        expected = reference.get_scores(tokenizer(query)) / (k1 + 1)
        np.testing.assert_allclose(ours.scores(query), expected, rtol=1e-5, atol=1e-6)


def test_robertson_scores_equal_rank_bm25_okapi():
    # No term here is in more than half the passages, so rank-bm25's epsilon floor
    # for negative idf never applies and both implement the same formula.
    tokenizer = Tokenizer()
    ours = BM25Index(method="robertson")
    ours.index(CORPUS)
    reference = BM25Okapi([tokenizer(t) for t in CORPUS])
    for query in QUERIES:
        expected = reference.get_scores(tokenizer(query)) / 2.5
        np.testing.assert_allclose(ours.scores(query), expected, rtol=1e-5, atol=1e-6)


def test_bm25plus_equals_rank_bm25():
    # rank-bm25's BM25L is not compared: it multiplies its term by the query term's
    # frequency in the passage (0 for passages without it), unlike the paper and bm25s.
    tokenizer = Tokenizer()
    ours = BM25Index(method="bm25+", delta=0.5)
    ours.index(CORPUS)
    reference = BM25Plus([tokenizer(t) for t in CORPUS], delta=0.5)
    for query in [*QUERIES, "oil oil cut"]:
        expected = reference.get_scores(tokenizer(query))
        np.testing.assert_allclose(ours.scores(query), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("k1,b", [(1.5, 0.75), (1.2, 0.3)])
def test_every_method_equals_bm25s(method, k1, b):
    tokenizer = Tokenizer()
    texts = CORPUS + MORE  # "oil" in more than half: robertson's idf floor applies
    tokens = [tokenizer(t) for t in texts]
    ours = BM25Index(method=method, k1=k1, b=b)
    ours.index(texts)
    for query in SEGMENT_QUERIES:  # repeated query terms count as in bm25s
        expected = bm25s_scores(tokens, tokenizer(query), method=method, k1=k1, b=b)
        np.testing.assert_allclose(ours.scores(query), expected, rtol=1e-5, atol=1e-6)


def three_segments() -> tuple[list[list[str]], list[Postings], list[np.ndarray | None]]:
    tokenizer = Tokenizer()
    tokens = [tokenizer(t) for t in CORPUS + MORE]
    bounds = [0, 5, 6, len(tokens)]  # the middle segment holds one passage
    segments = [Postings.from_tokens(tokens[a:z]) for a, z in zip(bounds, bounds[1:])]
    live = [np.ones(5, bool), None, np.ones(len(tokens) - 6, bool)]
    live[0][[0, 3]] = False  # passages 0 (oil, cut) and 3 (cut)
    live[2][[0, 4]] = False  # passages 6 and 10 (oil, cut)
    return tokens, segments, live


@pytest.mark.parametrize("method", METHODS)
def test_segments_with_deletions_score_as_a_fresh_index_of_the_live_passages(method):
    tokens, segments, live = three_segments()
    view = BM25Index.over(segments, live, method=method)
    alive = np.concatenate(
        [m if m is not None else np.ones(len(s), bool) for s, m in zip(segments, live)]
    )
    fresh = BM25Index.over(
        [Postings.from_tokens([t for t, a in zip(tokens, alive) if a])], method=method
    )
    assert len(view) == len(tokens) and view.n_live == int(alive.sum()) == len(fresh)
    assert view.avg_length == pytest.approx(fresh.avg_length)
    for query in SEGMENT_QUERIES:
        scores = view.scores(query)
        assert scores.dtype == np.float32 and np.all(scores[~alive] == 0)
        np.testing.assert_allclose(scores[alive], fresh.scores(query), rtol=1e-5, atol=1e-5)
        hits = view.retrieve(query, k=100)
        assert hits.ids.dtype == np.int64 and hits.scores.dtype == np.float32
        assert alive[hits.ids].all()
        assert np.all(np.diff(hits.scores) <= 0)
        positions = np.cumsum(alive) - 1  # global slot -> number in the fresh index
        np.testing.assert_allclose(
            hits.scores, fresh.scores(query)[positions[hits.ids]], rtol=1e-5, atol=1e-5
        )


def test_a_deletion_changes_df_at_once():
    tokens, segments, _ = three_segments()
    before = BM25Index.over(segments).scores("oil")
    live = [None, None, np.ones(len(segments[2]), bool)]
    live[2][2] = False  # passage 8, "Oil oil oil: ..."
    after = BM25Index.over(segments, live).scores("oil")
    assert after[8] == 0 and before[8] > 0
    assert after[1] > before[1]  # fewer passages with "oil": a higher idf elsewhere


def test_retrieve_within_a_mask_never_returns_deleted():
    _, segments, live = three_segments()
    view = BM25Index.over(segments, live)
    mask = np.ones(len(view), bool)
    mask[1] = False
    ids = view.retrieve("oil cut", k=100, mask=mask).ids.tolist()
    assert 1 not in ids and 0 not in ids and 3 not in ids  # masked, deleted, deleted
    assert view.retrieve("oil", k=0).ids.tolist() == []


def assert_same_postings(a: Postings, b: Postings) -> None:
    assert a.terms == b.terms and len(a) == len(b)
    for name in ("indptr", "docs", "tfs", "lengths"):
        got, want = getattr(a, name), getattr(b, name)
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_merge_of_selected_segments_equals_postings_of_the_kept_tokens():
    tokens, segments, live = three_segments()
    keeps = [m if m is not None else np.ones(len(s), bool) for s, m in zip(segments, live)]
    merged = Postings.concat([s.select(k) for s, k in zip(segments, keeps)])
    kept = [t for t, k in zip(tokens, np.concatenate(keeps)) if k]
    assert_same_postings(merged, Postings.from_tokens(kept))
    assert_same_postings(Postings.concat(segments), Postings.from_tokens(tokens))
    assert_same_postings(segments[0].select(np.zeros(5, bool)), Postings.from_tokens([]))
    docs, tfs = merged.lookup("oil")
    assert docs.dtype == tfs.dtype == np.int32 and np.all(np.diff(docs) > 0)
    assert [a.tolist() for a in merged.lookup("zebra")] == [[], []]


def test_retrieve_orders_filters_and_drops_zero_scores():
    index = BM25Index()
    index.index(CORPUS)
    hits = index.retrieve("oil cut", k=10)
    assert hits.ids.tolist()[:2] == [1, 0]
    assert set(hits.ids.tolist()) == {0, 1, 3}  # only passages sharing a term
    assert np.all(np.diff(hits.scores) <= 0)
    mask = np.zeros(len(CORPUS), dtype=bool)
    mask[[0, 3]] = True
    assert index.retrieve("oil cut", k=10, mask=mask).ids.tolist() == [0, 3]
    assert index.retrieve("zebra", k=10).ids.tolist() == []


def test_save_load_round_trip_without_pickle(tmp_path):
    index = BM25Index(method="lucene", k1=1.2, b=0.6, stem=False)
    index.index(CORPUS)
    index.save(tmp_path / "bm25")
    files = list((tmp_path / "bm25").iterdir())
    assert all(p.suffix in {".npy", ".json"} for p in files)
    for path in files:  # plain files: no pickle anywhere
        if path.suffix == ".npy":
            assert np.load(path, allow_pickle=False).dtype != object
        else:
            json.loads(path.read_text())
    loaded = BM25Index.load(tmp_path / "bm25")
    assert (loaded.k1, loaded.b, loaded.tokenizer.stem) == (1.2, 0.6, False)
    assert isinstance(loaded.segments[0].docs, np.memmap)
    for query in QUERIES:
        np.testing.assert_array_equal(loaded.scores(query), index.scores(query))
    assert_same_postings(Postings.load(tmp_path / "bm25", mmap=False), index.segments[0])


def test_save_refuses_several_segments_and_load_refuses_the_old_format(tmp_path):
    _, segments, live = three_segments()
    with pytest.raises(ValueError, match="merge first"):
        BM25Index.over(segments, live).save(tmp_path / "x")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "newsrank_bm25.json").write_text('{"method": "lucene"}')
    with pytest.raises(ValueError, match="older format"):
        BM25Index.load(tmp_path / "old")
    with pytest.raises(FileNotFoundError):
        BM25Index.load(tmp_path / "missing")


def test_bad_method_is_named():
    with pytest.raises(ValueError, match="method='okapi'"):
        BM25Index(method="okapi")


def test_bad_live_mask_is_refused():
    _, segments, _ = three_segments()
    with pytest.raises(ValueError, match="live mask"):
        BM25Index.over(segments, [np.ones(2, bool), None, None])


WORDS = st.sampled_from(["oil", "gas", "cut", "rate", "map", "league", "fuel"])


@st.composite
def segmented_corpora(draw):
    tokens = draw(st.lists(st.lists(WORDS, max_size=6), max_size=14))
    cuts = sorted(draw(st.lists(st.integers(0, len(tokens)), max_size=3)))
    bounds = [0, *cuts, len(tokens)]
    alive = np.array(draw(st.lists(st.booleans(), min_size=len(tokens), max_size=len(tokens))))
    queries = draw(
        st.lists(
            st.lists(st.sampled_from(["oil", "gas", "cut", "map", "tea"]), max_size=4),
            min_size=1,
            max_size=3,
        )
    )
    method = draw(st.sampled_from(METHODS))
    return tokens, bounds, alive.astype(bool), queries, method


@PROPERTY
@given(segmented_corpora())
def test_property_segments_with_deletions_equal_a_fresh_index(case):
    tokens, bounds, alive, queries, method = case
    segments = [Postings.from_tokens(tokens[a:z]) for a, z in zip(bounds, bounds[1:])]
    live = [alive[a:z] for a, z in zip(bounds, bounds[1:])]
    view = BM25Index.over(segments, live, method=method, k1=1.2, b=0.75)
    kept = [t for t, a in zip(tokens, alive) if a]
    fresh = BM25Index.over([Postings.from_tokens(kept)], method=method, k1=1.2, b=0.75)
    assert view.n_live == len(kept)
    for query in queries:
        scores = view.scores_of_tokens(query)
        assert np.all(scores[~alive] == 0)
        np.testing.assert_allclose(
            scores[alive], fresh.scores_of_tokens(query), rtol=1e-5, atol=1e-5
        )
    merged = Postings.concat([s.select(m) for s, m in zip(segments, live)])
    assert_same_postings(merged, Postings.from_tokens(kept))


def test_with_settings_scores_as_a_fresh_index_with_those_settings():
    tokenizer = Tokenizer()
    segments = [Postings.from_tokens([tokenizer(t) for t in part]) for part in (CORPUS, MORE)]
    live = [None, np.array([True, True, False, True, True, True, True])]
    index = BM25Index.over(segments, live, k1=1.5, b=0.75)
    view = index.with_settings(k1=0.9, b=0.4)
    fresh = BM25Index.over(segments, live, k1=0.9, b=0.4)
    assert (view.k1, view.b, view.method) == (0.9, 0.4, "lucene")
    assert (index.k1, index.b) == (1.5, 0.75)  # the original is unchanged
    for q in SEGMENT_QUERIES:
        np.testing.assert_allclose(view.scores(q), fresh.scores(q))
    assert not np.allclose(view.scores("oil demand"), index.scores("oil demand"))
