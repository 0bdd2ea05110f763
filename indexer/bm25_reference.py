"""The reference BM25 that the shipped engine (bm25s) is checked and timed against.

rank-bm25 is the design card's BM25 library; the engine uses bm25s because it answers a
query about 100 times faster (docs/benchmarks.md). Both must give the same scores:
``tests/test_lexical.py`` compares them, ``benchmarks/bm25_engines.py`` times them.
bm25s's "lucene" method uses Lucene's idf, which rank-bm25's Okapi class does not, so the
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
