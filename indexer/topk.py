"""Exact top-k for BM25 without scoring every posting: MaxScore, term at a time.

Pure functions over one query's postings; :meth:`indexer.lexical.BM25Index.retrieve`
supplies the formulas. A query term's postings are given as ``parts``: for each segment
that holds it, ``(first global passage number, local passage numbers ascending, tfs,
the segment's live mask or None)``.

:func:`maxscore` orders the terms by the upper bound of their contribution (rare terms
first), scores the postings of the first ("essential") terms, and stops adding terms
as soon as the bounds of the others together fall below ``theta``, the k-th best score
so far: a passage none of the essential terms holds cannot reach the top k. The other
terms (common words, long lists) are only looked up for the remaining candidates
(binary search), and candidates that cannot reach ``theta`` any more are dropped.
Every comparison keeps a relative margin larger than float32's rounding, so the
candidates always contain the exact top k; the caller then computes their exact scores
as the exhaustive path does and :func:`select` orders them (score descending, then
passage number ascending).

>>> parts_a = [(0, np.array([0, 2, 5], np.int32), np.array([1, 3, 1], np.int32), None)]
>>> lookup(parts_a, np.array([1, 2, 5], np.int64)).tolist()
[0, 3, 1]
>>> [int(i) for i in select(np.array([3, 4, 7]), np.array([1.0, 2.0, 2.0], np.float32), 2)[0]]
[4, 7]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Parts = Sequence[tuple[int, np.ndarray, np.ndarray, "np.ndarray | None"]]
#: ``weigh(term, passages, tfs)``: the term's contribution (float64) to those passages
Weigh = Callable[[int, np.ndarray, np.ndarray], np.ndarray]
_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_TINY = 1e-30  # absolute slack: below float32's smallest normal


def gather(parts: Parts, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The live postings allowed by ``mask``: (global passage numbers ascending, tfs)."""
    ids, tfs = [], []
    for start, docs, tf, live in parts:
        keep = None if live is None else live[docs]
        glob = docs.astype(np.int64) + start
        if mask is not None:
            keep = mask[glob] if keep is None else keep & mask[glob]
        if keep is not None:
            glob, tf = glob[keep], tf[keep]
        ids.append(glob)
        tfs.append(tf)
    if not ids:
        return _EMPTY_IDS, _EMPTY_IDS
    return (ids[0], tfs[0]) if len(ids) == 1 else (np.concatenate(ids), np.concatenate(tfs))


def lookup(parts: Parts, cand: np.ndarray) -> np.ndarray:
    """The term frequency in each passage of ``cand`` (int64 ascending), 0 where the term
    is absent or the passage deleted: a binary search per candidate, O(len(cand) log L)."""
    out = np.zeros(len(cand), dtype=np.int32)
    for start, docs, tf, live in parts:
        lo = int(np.searchsorted(cand, start + int(docs[0]), "left"))
        hi = int(np.searchsorted(cand, start + int(docs[-1]), "right"))
        if hi <= lo:
            continue
        local = (cand[lo:hi] - start).astype(docs.dtype)  # docs' dtype: no copy of docs
        pos = np.searchsorted(docs, local)
        found = docs[pos] == local
        if live is not None:
            found &= live[local]
        out[lo:hi] = np.where(found, tf[pos], 0)
    return out


def kth_largest(values: np.ndarray, k: int) -> float:
    """The k-th largest of ``values``, 0.0 when there are fewer than ``k``."""
    if len(values) < k:
        return 0.0
    return float(np.partition(values, len(values) - k)[len(values) - k])


def select(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best passages with a positive score, by score descending, ties by
    passage number ascending; ``ids`` ascending, ``scores`` aligned (float32)."""
    positive = scores > 0
    ids, scores = ids[positive], scores[positive]
    if k <= 0:
        return ids[:0].astype(np.int64), scores[:0]
    if len(ids) > k:  # keep every tie of the k-th score, in passage order
        keep = scores >= np.partition(scores, len(scores) - k)[len(scores) - k]
        ids, scores = ids[keep], scores[keep]
    order = np.argsort(-scores, kind="stable")[:k]
    return ids[order].astype(np.int64), scores[order]


def _merge(
    cand: np.ndarray, part: np.ndarray, ids: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The union of ``cand`` and ``ids`` (both ascending) and the sum of their values
    (``part`` and ``weights``, 0 where absent): the smaller searched in the larger, the
    unmatched inserted in one linear pass."""
    if len(cand) >= len(ids):
        big, big_values, small, small_values = cand, part, ids, weights
    else:
        big, big_values, small, small_values = ids, weights, cand, part
    big, values = big.astype(np.int64), big_values.astype(np.float64)  # copies
    if not len(small):
        return big, values
    pos = np.searchsorted(big, small)
    found = big[np.minimum(pos, len(big) - 1)] == small
    values[pos[found]] += small_values[found]
    new = np.flatnonzero(~found)
    if not len(new):
        return big, values
    at = pos[new] + np.arange(len(new))  # where the unmatched land in the union
    old = np.ones(len(big) + len(new), dtype=bool)
    old[at] = False
    union, union_values = np.empty(len(old), np.int64), np.empty(len(old))
    union[old], union_values[old] = big, values
    union[at], union_values[at] = small[new], small_values[new]
    return union, union_values


def maxscore(
    terms: Sequence[Parts],
    bounds: Sequence[float],
    k: int,
    weigh: Weigh,
    mask: np.ndarray | None = None,
    size: int = 0,
) -> tuple[np.ndarray, int]:
    """Candidate passages (int64 ascending) that include the top ``k`` by the sum of the
    terms' contributions, and the number of postings read (gathered or looked up).

    ``bounds[j]``: no contribution of term ``j`` exceeds it (contributions are >= 0);
    ``weigh(j, ids, tfs)``: term ``j``'s contributions. Passages outside ``mask`` (bool
    per slot) and deleted ones are never candidates. ``size``: the number of passage
    slots; once the essential terms' postings pass ``size / 32``, their partial scores
    are added up in a dense array (faster than merging such long sorted lists).
    """
    m = len(terms)
    order = sorted(range(m), key=lambda j: -bounds[j])
    rest = np.zeros(m + 1)  # rest[i]: the bounds of order[i:] together
    rest[:m] = np.cumsum([bounds[j] for j in order][::-1])[::-1]
    eps = (m + 2) * 2.0**-23  # float32 rounding of m contributions and their sum
    hi, lo = 1 + eps, 1 - eps
    cand, part = _EMPTY_IDS, np.zeros(0)
    touched, theta, e, dense, seen = 0, 0.0, 0, None, []
    while e < m:  # essential terms: every posting
        j = order[e]
        ids, tfs = gather(terms[j], mask)
        touched += sum(len(p[1]) for p in terms[j])
        if dense is None and 32 * (len(cand) + len(ids)) > size:
            dense = np.zeros(size)
            dense[cand] = part
            seen.append(cand)
        if dense is None:
            cand, part = _merge(cand, part, ids, weigh(j, ids, tfs))
            theta = kth_largest(part, k)
        else:  # ids are distinct: += adds once each, and theta stays a k-th best
            dense[ids] += weigh(j, ids, tfs)
            seen.append(ids)
            theta = max(theta, kth_largest(dense[ids], k))
        e += 1
        if rest[e] == 0 or rest[e] * hi + _TINY < theta * lo:
            break
    if dense is not None:  # the candidates that can still reach theta, in order
        floor = (theta * lo - _TINY) / hi - rest[e]
        cand = np.flatnonzero(dense > max(floor * (1 - 2**-40), 0))
        part = dense[cand]
        for ids in seen:
            dense[ids] = 0  # a zeroed scratch array from now on
    for i in range(e, m):  # the others: only the candidates that can still make it
        keep = (part + rest[i]) * hi + _TINY >= theta * lo
        cand, part = cand[keep], part[keep]
        j = order[i]
        length = sum(len(p[1]) for p in terms[j])
        if dense is not None and 8 * len(cand) > length:  # many candidates: scan the list
            ids, tfs = gather(terms[j])
            dense[ids] = weigh(j, ids, tfs)
            part += dense[cand]
            dense[ids] = 0
            touched += length
        else:  # a binary search per candidate
            tfs = lookup(terms[j], cand)
            touched += len(cand)
            hit = np.flatnonzero(tfs)
            part[hit] += weigh(j, cand[hit], tfs[hit])
        theta = kth_largest(part, k)
    keep = part * hi + _TINY >= theta * lo
    return cand[keep & (part > 0)], touched
