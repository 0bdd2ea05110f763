"""BM25 (bm25s) against the reference implementation, rank-bm25."""

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from indexer.bm25_reference import LuceneIdfOkapi
from indexer.lexical import BM25Index, Tokenizer

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
    assert all(p.suffix in {".npy", ".json", ".jsonl"} for p in (tmp_path / "bm25").iterdir())
    loaded = BM25Index.load(tmp_path / "bm25")
    assert (loaded.k1, loaded.b, loaded.tokenizer.stem) == (1.2, 0.6, False)
    for query in QUERIES:
        np.testing.assert_allclose(loaded.scores(query), index.scores(query))


def test_bad_method_is_named():
    with pytest.raises(ValueError, match="method='okapi'"):
        BM25Index(method="okapi")
