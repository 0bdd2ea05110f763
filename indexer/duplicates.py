"""Near-duplicate detection: MinHash signatures and LSH banding, in numpy. Pure functions.

An article's signature is a MinHash (Broder 1997) of the set of its body text's word
3-shingles, the text normalised first (case folded, punctuation dropped: only runs of
word characters count), so a wire copy re-published with another headline, another
casing or other quotes gets (nearly) the same signature. The share of equal positions
of two signatures estimates the Jaccard similarity of the two shingle sets.

Signatures are computed once, when an article's segment is written (a plain
``minhash.npy``, one row per segment article; :mod:`indexer.segment`). Duplicate groups
are computed per commit from the live articles' signatures (:func:`duplicate_groups`):
LSH banding (Leskovec, Rajaraman and Ullman, *Mining of Massive Datasets*, ch. 3) finds
candidate pairs, each is checked against the threshold, and the pairs are joined into
groups (connected components). A row without a signature (:data:`EMPTY`: a text of
fewer than :data:`MIN_WORDS` words, or a segment written before signatures existed) is
in no group.

>>> a = signature("Oil prices fell sharply on Monday as OPEC met in Vienna to talk.")
>>> b = signature("OIL PRICES FELL SHARPLY, on Monday -- as OPEC met in Vienna to talk!")
>>> float(similarity(a, b))
1.0
>>> c = signature("Something else entirely, with words enough to have a signature of its own.")
>>> groups = duplicate_groups(np.stack([a, b, c]), 0.8)
>>> groups.tolist()
[0, 0, -1]
"""

from __future__ import annotations

import functools
import itertools
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: MinHash permutations (signature length)
NUM_PERM = 128
#: words per shingle
SHINGLE_WORDS = 3
#: fewer words than this and a text gets no signature: too short to tell a copy from a
#: coincidence (the demo holds several texts that are just "-1" or "View Comments")
MIN_WORDS = 10
#: the largest hash value; a signature of only these is "no signature"
MAX_HASH = np.uint64(0xFFFFFFFF)
_PRIME = np.uint64((1 << 61) - 1)  # a Mersenne prime, as in datasketch
_WORD = re.compile(r"\w+", re.UNICODE)


def _permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of the hash family h(x) = (a*x + b) mod p, fixed by ``seed``; a and b
    are below 2**32 so that a*x + b fits in 64 bits for 32-bit x."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 1 << 32, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint64)
    return a, b


_A, _B = _permutations(NUM_PERM)
#: the signature of a text with no words
EMPTY = np.full(NUM_PERM, MAX_HASH, dtype=np.uint32)


def normalized_words(text: str) -> list[str]:
    """The words of ``text`` with case folded and punctuation dropped.

    >>> normalized_words("U.S. Oil-prices FELL, didn't they?")
    ['u', 's', 'oil', 'prices', 'fell', 'didn', 't', 'they']
    """
    return _WORD.findall(text.casefold())


def shingle_hashes(text: str, k: int = SHINGLE_WORDS) -> np.ndarray:
    """32-bit hashes (uint64) of the distinct word ``k``-shingles of the normalised text
    (a text of fewer than ``k`` words is one shingle; no words: none).

    >>> len(shingle_hashes("one two three four")), len(shingle_hashes("")), len(shingle_hashes("a"))
    (2, 0, 1)
    """
    words = normalized_words(text)
    if not words:
        return np.zeros(0, dtype=np.uint64)
    h = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in words), np.uint64, len(words))
    k = min(k, len(h))
    n = len(h) - k + 1
    x = np.zeros(n, dtype=np.uint64)
    for i in range(k):  # a polynomial hash of the k word hashes (wrapping in 64 bits)
        x = x * np.uint64(0x100000001B3) + h[i : i + n]
    x ^= x >> np.uint64(29)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(32)
    return np.unique(x & MAX_HASH)


def signature(text: str, min_words: int = MIN_WORDS) -> np.ndarray:
    """The MinHash signature of ``text`` (``NUM_PERM`` uint32), :data:`EMPTY` for a text of
    fewer than ``min_words`` words.

    >>> bool((signature("-1") == EMPTY).all())
    True
    """
    if len(normalized_words(text)) < min_words:
        return EMPTY.copy()
    hashes = shingle_hashes(text)
    permuted = (hashes[:, None] * _A[None, :] + _B[None, :]) % _PRIME & MAX_HASH
    return permuted.min(axis=0).astype(np.uint32)


def signatures(texts: Iterable[str]) -> np.ndarray:
    """One signature row per text: ``(n, NUM_PERM)`` uint32."""
    rows = [signature(t) for t in texts]
    return np.stack(rows) if rows else np.zeros((0, NUM_PERM), dtype=np.uint32)


def empty_signatures(n: int) -> np.ndarray:
    """``n`` rows of "no signature" (articles whose segment has none)."""
    return np.tile(EMPTY, (n, 1))


def has_signature(sigs: np.ndarray) -> np.ndarray:
    """Which rows hold a real signature (not :data:`EMPTY`)."""
    return ~(sigs == EMPTY[None, : sigs.shape[1]]).all(axis=1)


def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity: the share of equal positions (rows broadcast); 0 when
    either has no signature."""
    a, b = np.asarray(a), np.asarray(b)
    both = has_signature(np.atleast_2d(a)) & has_signature(np.atleast_2d(b))
    sim = (a == b).mean(axis=-1)
    return np.where(both.reshape(np.shape(sim)), sim, 0.0)


@functools.lru_cache(maxsize=64)
def lsh_bands(threshold: float, num_perm: int = NUM_PERM, recall: float = 0.99) -> tuple[int, int]:
    """``(bands, rows)`` for LSH at ``threshold``: a pair of similarity s shares at least
    one band with probability 1 - (1 - s**rows)**bands. ``rows`` is the largest for which
    a pair *at* the threshold becomes a candidate with probability >= ``recall``; every
    candidate is then checked against the threshold, so a false candidate costs one
    comparison while a missed pair is a missed duplicate.

    >>> lsh_bands(0.65), lsh_bands(0.8)
    ((32, 4), (21, 6))
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold={threshold}: give a similarity between 0 and 1")
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= recall:
            best = (bands, rows)
    return best


def candidate_pairs(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Pairs ``(i, j)``, i < j, of rows that agree on at least one band of ``rows``
    positions (sorted, distinct; ``(m, 2)`` int64). Rows without a signature are left out.
    """
    keep = np.flatnonzero(has_signature(sigs))
    found: set[tuple[int, int]] = set()
    for band in range(bands):
        part = np.ascontiguousarray(sigs[keep, band * rows : (band + 1) * rows])
        if not part.shape[1]:
            break
        keys = part.view(np.dtype((np.void, part.dtype.itemsize * part.shape[1]))).ravel()
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        shared = np.flatnonzero(counts > 1)
        if not len(shared):
            continue
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)])
        for bucket in shared:
            members = keep[order[starts[bucket] : starts[bucket + 1]]]
            found.update(itertools.combinations(sorted(int(m) for m in members), 2))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.array(sorted(found), dtype=np.int64)


def duplicate_pairs(sigs: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs whose estimated similarity is at least ``threshold``, and
    their similarities."""
    bands, rows = lsh_bands(threshold, sigs.shape[1] if sigs.ndim == 2 else NUM_PERM)
    pairs = candidate_pairs(sigs, bands, rows)
    if not len(pairs):
        return pairs, np.zeros(0)
    sims = similarity(sigs[pairs[:, 0]], sigs[pairs[:, 1]])
    ok = sims >= threshold
    return pairs[ok], sims[ok]


def groups_from_pairs(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected components of the pairs as labels: each row's group is the smallest row
    in it, -1 for a row in no pair.

    >>> groups_from_pairs(5, np.array([[1, 3], [3, 4]])).tolist()
    [-1, 1, -1, 1, 1]
    """
    parent = np.arange(n, dtype=np.int64)

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    for i, j in pairs:
        ri, rj = root(int(i)), root(int(j))
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    labels = np.full(n, -1, dtype=np.int64)
    if len(pairs):
        touched = np.unique(pairs)
        labels[touched] = [root(int(x)) for x in touched]
    return labels


def duplicate_groups(
    sigs: np.ndarray, threshold: float, live: np.ndarray | None = None
) -> np.ndarray:
    """Each row's duplicate group (its smallest row), -1 when it has no duplicate; rows
    with ``live`` False (deleted) and rows without a signature are in no group."""
    sigs = np.asarray(sigs)
    if live is not None:
        sigs = sigs.copy()
        sigs[~np.asarray(live, dtype=bool)] = EMPTY[: sigs.shape[1]]
    pairs, _ = duplicate_pairs(sigs, threshold)
    return groups_from_pairs(len(sigs), pairs)


@dataclass(frozen=True)
class DuplicateGroups:
    """One commit's duplicate groups over its article numbers.

    >>> g = DuplicateGroups.of(np.array([-1, 1, -1, 1]))
    >>> g.others(1), g.others(3), g.others(0), g.group_of(3)
    ([3], [1], [], 1)
    """

    labels: np.ndarray  # article number -> group (smallest member), -1: none
    members: dict[int, list[int]] = field(default_factory=dict)  # group -> its articles

    @classmethod
    def of(cls, labels: np.ndarray) -> DuplicateGroups:
        members: dict[int, list[int]] = {}
        for num in np.flatnonzero(labels >= 0):
            members.setdefault(int(labels[num]), []).append(int(num))
        return cls(labels, members)

    @classmethod
    def none(cls, n: int) -> DuplicateGroups:
        return cls(np.full(n, -1, dtype=np.int64))

    def group_of(self, num: int) -> int:
        """The group of article ``num``, -1 when it has no duplicate."""
        return int(self.labels[num]) if 0 <= num < len(self.labels) else -1

    def group(self, num: int) -> list[int]:
        """Article ``num`` and its duplicates (just ``[num]`` when it has none)."""
        g = self.group_of(num)
        return list(self.members[g]) if g >= 0 else [num]

    def others(self, num: int) -> list[int]:
        """The duplicates of article ``num`` (never itself)."""
        return [m for m in self.group(num) if m != num]

    @property
    def n_groups(self) -> int:
        return len(self.members)


def commit_signatures(parts: Sequence[np.ndarray | None], sizes: Sequence[int]) -> np.ndarray:
    """The segments' signatures one after another (commit-wide article numbers); a
    segment without signatures (None, or of another width) gets "no signature" rows."""
    rows = []
    for sigs, n in zip(parts, sizes):
        ok = sigs is not None and sigs.ndim == 2 and sigs.shape == (n, NUM_PERM)
        rows.append(sigs if ok else empty_signatures(n))
    return np.concatenate(rows) if rows else np.zeros((0, NUM_PERM), dtype=np.uint32)


def commit_groups(
    parts: Sequence[np.ndarray | None],
    sizes: Sequence[int],
    threshold: float,
    live: np.ndarray | None = None,
) -> DuplicateGroups:
    """The near-duplicate groups of a commit (or of every shard's commit, in order):
    its segments' signatures (:func:`commit_signatures`), grouped among ``live``
    articles at ``threshold`` (:func:`duplicate_groups`)."""
    sigs = commit_signatures(parts, sizes)
    return DuplicateGroups.of(duplicate_groups(sigs, threshold, live=live))
