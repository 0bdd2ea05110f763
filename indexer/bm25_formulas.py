"""The BM25 formulas, pure: idf, the term-frequency part, length normalisation, and the
collection statistics they read (:class:`TermStats`).

Five variants, the formulas and delta of bm25s (``bm25s.scoring``), so that the
differential tests can hold our scores to theirs. Lucene's, the default, has
idf = log(1 + (N - n + 0.5) / (n + 0.5)), never negative, and the term-frequency part
``tf / (tf + k1 * norm)`` with ``norm = 1 - b + b * len / avglen``: rank-bm25's BM25Okapi
term divided by the constant ``k1 + 1``.

>>> round(idf("lucene", df=1, n=3), 4), round(idf("atire", df=1, n=3), 4)
(0.9808, 1.0986)
>>> float(tf_part("lucene", 2.0, norm=1.0, k1=1.5, delta=0.5))
0.5714285714285714
>>> length_norm(np.array([2.0, 4.0]), avg_length=3.0, b=0.75).tolist()
[0.75, 1.25]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

METHODS = ("lucene", "robertson", "atire", "bm25l", "bm25+")
#: the variants under which a passage without the query term still scores (so pruning,
#: which skips such passages, would not be exact)
SCORES_ABSENT = ("bm25l", "bm25+")


def check_method(method: str) -> str:
    """``method`` if it names a variant, else a ValueError naming the choices."""
    if method not in METHODS:
        raise ValueError(
            f"method={method!r}: choose 'lucene', 'robertson', 'atire', 'bm25l' or 'bm25+'"
        )
    return method


def idf(method: str, df: int, n: int) -> float:
    """bm25s's idf formulas (``bm25s.scoring._score_idf_*``), ``df >= 1``, ``n`` passages."""
    if method == "lucene":
        return math.log(1 + (n - df + 0.5) / (df + 0.5))
    if method == "robertson":
        return math.log(max(1.0, (n - df + 0.5) / (df + 0.5)))
    if method == "atire":
        return math.log(n / df)
    if method == "bm25l":
        return math.log((n + 1) / (df + 0.5))
    return math.log((n + 1) / df)  # bm25+


def tf_part(
    method: str, tf: np.ndarray | float, norm: np.ndarray | float, k1: float, delta: float
) -> np.ndarray:
    """bm25s's term-frequency parts (``bm25s.scoring._score_tfc_*``), ``norm`` as
    :func:`length_norm` gives it; a passage's score is the sum over query terms of
    ``idf * tf_part``."""
    if method in ("lucene", "robertson"):
        return tf / (k1 * norm + tf)
    if method == "atire":
        return tf * (k1 + 1) / (tf + k1 * norm)
    if method == "bm25l":
        c = tf / norm
        return (k1 + 1) * (c + delta) / (k1 + c + delta)
    return (k1 + 1) * tf / (k1 * norm + tf) + delta  # bm25+


def length_norm(lengths: np.ndarray | float, avg_length: float, b: float) -> np.ndarray:
    """``1 - b + b * len / avglen``, the length normalisation of every variant (an empty
    collection's mean length counts as 1)."""
    return 1 - b + b * np.asarray(lengths, dtype=np.float64) / (avg_length or 1.0)


@dataclass(frozen=True)
class TermStats:
    """The collection statistics BM25 needs for a query's terms: live passages ``n``,
    their total token count, and each term's document frequency (live passages).

    One index reports its own (:meth:`indexer.lexical.BM25Index.term_stats`); the shards
    of a sharded index report theirs and the coordinator adds them up (:meth:`sum`).

    >>> TermStats.sum([TermStats(2, 6, {"oil": 1}), TermStats(3, 9, {"oil": 2, "gas": 1})])
    TermStats(n=5, total_length=15, df={'oil': 3, 'gas': 1})
    >>> TermStats(5, 15, {}).avg_length
    3.0
    """

    n: int
    total_length: int
    df: dict[str, int]

    @property
    def avg_length(self) -> float:
        return self.total_length / self.n if self.n else 0.0

    @staticmethod
    def sum(parts: Sequence[TermStats]) -> TermStats:
        df: dict[str, int] = {}
        for part in parts:
            for term, count in part.df.items():
                df[term] = df.get(term, 0) + int(count)
        return TermStats(sum(int(p.n) for p in parts), sum(int(p.total_length) for p in parts), df)

    def to_dict(self) -> dict:
        return {"n": self.n, "total_length": self.total_length, "df": dict(self.df)}

    @classmethod
    def from_dict(cls, data: dict) -> TermStats:
        return cls(int(data["n"]), int(data["total_length"]), dict(data["df"]))
