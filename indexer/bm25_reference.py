"""The reference BM25s that the shipped engine (indexer.lexical's postings) is checked against.

rank-bm25 is the design card's BM25 library, bm25s the engine this project used before
the live, segmented index; both stay as references only. ``tests/test_lexical.py``
checks that our scores equal theirs on corpora without deletions (every bm25s method),
``benchmarks/bm25_engines.py`` times all of them (numbers in docs/benchmarks.md).
The "lucene" method uses Lucene's idf, which rank-bm25's Okapi class does not, so the
reference swaps it in; the remaining difference is Okapi's constant factor ``k1 + 1``.

>>> ref = LuceneIdfOkapi([["oil", "price"], ["oil"], ["tea"]])
>>> round(ref.idf["tea"], 4), round(ref.idf["oil"], 4)
(0.9808, 0.47)
"""

from __future__ import annotations

import math

from rank_bm25 import BM25Okapi


class LuceneIdfOkapi(BM25Okapi):
    """rank-bm25's Okapi scorer with Lucene's idf, log(1 + (N - n + .5) / (n + .5))."""

    def _calc_idf(self, nd):
        for word, freq in nd.items():
            self.idf[word] = math.log(1 + (self.corpus_size - freq + 0.5) / (freq + 0.5))
