"""Seeded splits shared by training and evaluation, so both pick the same items.

The reranker's training holds out the first ``val_queries`` (60) SciFact *train*
queries of a seeded shuffle as its validation set (``training.reranker``); choosing
the rerank mixing weight on exactly those keeps the choice off the test queries and
off the queries the reranker learned from.

Collections with one judged split (TIME, MED, CRAN, CISI, the news benchmark's files)
are halved by :func:`half_of`, fixed and seed-free: tune on the ``dev`` half, report the
``test`` half.

>>> seeded_order(5, seed=13)
[1, 0, 3, 4, 2]
>>> reranker_validation(["q1", "q2", "q3", "q4", "q5"], {"q1", "q2", "q3", "q4", "q5"}, 2)
['q2', 'q1']
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection, Sequence

#: The reranker's training seed and validation size (``newsrank train reranker`` defaults).
RERANKER_SEED = 13
RERANKER_VAL_QUERIES = 60


#: the two halves :func:`half_of` names
HALVES = ("dev", "test")


def half_of(query_id: str) -> str:
    """``"dev"`` or ``"test"``: the parity of the query id's SHA-1,
    ``int(sha1(query_id).hexdigest(), 16) % 2 == 0 -> dev``.

    >>> half_of("r-001"), half_of("r-004")
    ('dev', 'test')
    """
    digest = hashlib.sha1(query_id.encode("utf-8")).hexdigest()
    return "dev" if int(digest, 16) % 2 == 0 else "test"


def seeded_order(n: int, seed: int) -> list[int]:
    """``0..n-1`` shuffled by ``random.Random(seed)`` (the order training draws from)."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return order


def reranker_validation(
    qrels_order: Sequence[str],
    judged: Collection[str],
    n: int = RERANKER_VAL_QUERIES,
    seed: int = RERANKER_SEED,
) -> list[str]:
    """The query ids the reranker held out: of the judged queries, in qrels-file order,
    the first ``n`` of :func:`seeded_order`."""
    candidates = [q for q in dict.fromkeys(qrels_order) if q in judged]
    return [candidates[i] for i in seeded_order(len(candidates), seed)[:n]]
