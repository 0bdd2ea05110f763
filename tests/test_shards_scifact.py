"""A 3-shard SciFact index gives the BM25 and dense stage results of one index (issue
#11: "a test proves it on a fixture corpus and on SciFact"). Reads ../shared/data (skips
without it).

The dense stage's vectors come from a hashed bag-of-words embedder: deterministic, exact
in float32 whatever batch a passage lands in, and a few seconds for SciFact's 7,758
passages where the packaged MiniLM would take minutes. What is under test is the
sharding (global BM25 statistics, each shard's top k merged), not the model; the real
embedder is used on the fixture corpus (tests/test_shards.py).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np
import pytest

from corpora.beir import read_beir
from indexer.article import Article
from indexer.build import build_index
from indexer.shards import build_sharded
from ranker.search import Searcher
from ranker.sharded import ShardedIndex
from tests.test_shards import _stage_lists

_WORD = re.compile(r"\w+")


class HashedWords:
    """Unit vectors of hashed word counts (a stand-in embedder, float32)."""

    model_name = "hashed-words-256"
    passage_model = model_name
    precision = "fp32"
    dim = 256

    def encode(
        self, texts: Sequence[str], show_progress: bool = False, queries: bool = False
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                out[row, zlib.crc32(word.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


@pytest.fixture(scope="module")
def scifact(shared_data, tmp_path_factory):
    collection = read_beir(shared_data / "beir" / "scifact")
    articles = [
        Article(id=doc, title=title, text=text)
        for doc, (title, text) in collection.corpus.items()
        if text.strip()
    ]
    root = tmp_path_factory.mktemp("scifact-shards")
    embedder = HashedWords()
    build_index(articles, root / "one", embedder=embedder, progress=False)
    build_sharded(articles, root / "three", 3, embedder=embedder, progress=False)
    return collection, root, embedder


def test_three_shards_give_one_index_stage_results_on_scifact(scifact):
    collection, root, embedder = scifact
    one = Searcher.open(root / "one", embedder=embedder)
    three = Searcher(ShardedIndex.open(root / "three", backend="local"), embedder=embedder)
    assert three.store.n_live == one.store.n_live > 5000
    queries = [collection.queries[q] for q in collection.judged]
    assert len(queries) >= 300
    for query in queries:
        # deep enough that no exact tie sits at the cut-off of either layout
        a, b = _stage_lists(one, query, 200), _stage_lists(three, query, 200)
        assert a["bm25"] and a["dense"], query
        # ids, passages and scores (4 decimals); at the deepest score a tie may be cut
        # differently, so the lists are compared above it
        for stage in ("bm25", "dense"):
            floor = a[stage][-1][2]
            above = [x for x in a[stage] if x[2] > floor]
            assert above == [x for x in b[stage] if x[2] > floor], (stage, query)
