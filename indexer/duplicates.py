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
groups (connected components, by union-find; a pair already in one group is not checked
again, so a story with many copies costs about one band's pairs). A row without a
signature (:data:`EMPTY`: a text of fewer than :data:`MIN_WORDS` words, or a segment
written before signatures existed) is in no group.

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


#: a band bucket of more rows than this (boilerplate shared by thousands of texts) is
#: checked as a sliding window: each row against the next ``MAX_BUCKET`` rows of the
#: bucket, not against all of them, so the cost stays linear in the rows
MAX_BUCKET = 256
#: candidate pairs checked against the threshold at a time (memory: 2 x 128 x 4 bytes each)
_CHECK_CHUNK = 65_536


def _band_keys(sigs: np.ndarray, band: int, rows: int) -> np.ndarray:
    """A 64-bit key per row for positions ``band * rows`` to ``(band + 1) * rows`` of the
    signatures, those positions mixed by odd multipliers: rows with equal bands get equal
    keys; unequal bands that collide only make a false candidate, which the threshold
    check drops.

    >>> s = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [1, 2, 3, 4]], np.uint32)
    >>> k0, k1 = _band_keys(s, 0, 2), _band_keys(s, 1, 2)
    >>> bool(k0[0] == k0[1] == k0[2]), bool(k1[0] == k1[2] != k1[1])
    (True, True)
    """
    lo, hi = band * rows, (band + 1) * rows
    if sigs.dtype == np.uint32 and sigs.flags.c_contiguous and lo % 2 == 0 and hi % 2 == 0:
        words = sigs.view(np.uint64)[:, lo // 2 : hi // 2]  # two positions a word, no copy
    else:
        words = sigs[:, lo:hi]
    keys = np.zeros(len(sigs), dtype=np.uint64)
    for col in range(words.shape[1]):
        keys ^= words[:, col].astype(np.uint64, copy=False) * _MIX[col % len(_MIX)]
        keys = (keys << np.uint64(23)) | (keys >> np.uint64(41))
    return keys


_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
    dtype=np.uint64,
)


def _bucket_pairs(members: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Pairs of rows sharing a bucket: ``members`` grouped by bucket (bucket ``b`` is
    ``members[starts[b] : starts[b] + sizes[b]]``); every pair of a bucket of at most
    :data:`MAX_BUCKET` rows, each row with the next ``MAX_BUCKET`` of a bigger one.

    >>> _bucket_pairs(np.array([7, 8, 9, 4, 5]), np.array([0, 3]), np.array([3, 2])).tolist()
    [[7, 8], [7, 9], [8, 9], [4, 5]]
    """
    ends = np.repeat(starts + sizes, sizes)
    pos = np.arange(len(members), dtype=np.int64)
    partners = np.minimum(ends - pos - 1, MAX_BUCKET)
    total = int(partners.sum())
    if not total:
        return np.zeros((0, 2), dtype=np.int64)
    left = np.repeat(pos, partners)
    first = np.repeat(np.cumsum(partners) - partners, partners)
    right = left + 1 + (np.arange(total, dtype=np.int64) - first)
    return np.stack([members[left], members[right]], axis=1)


def _roots(parent: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The root of each of ``rows`` in the union-find forest ``parent``."""
    found = parent[rows]
    while True:
        up = parent[found]
        if np.array_equal(up, found):
            return found
        found = up


def _compress(parent: np.ndarray) -> None:
    """Point every row of the forest straight at its root."""
    while True:
        up = parent[parent]
        if np.array_equal(up, parent):
            return
        parent[:] = up


def _union(parent: np.ndarray, pairs: np.ndarray) -> None:
    """Join the two rows of every pair in ``parent`` (a root is always the smallest row
    of its tree, so a group's label is its smallest row)."""
    while len(pairs):
        a, b = _roots(parent, pairs[:, 0]), _roots(parent, pairs[:, 1])
        apart = a != b
        if not apart.any():
            return
        a, b, pairs = a[apart], b[apart], pairs[apart]
        np.minimum.at(parent, np.maximum(a, b), np.minimum(a, b))


def _split_buckets(
    parent: np.ndarray, members: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The buckets (``members`` one bucket after another, ``sizes``) whose rows are not
    all in one group yet."""
    roots = _roots(parent, members)
    firsts = np.cumsum(sizes) - sizes
    split = np.minimum.reduceat(roots, firsts) != np.maximum.reduceat(roots, firsts)
    return members[np.repeat(split, sizes)], sizes[split]


def _check(sigs: np.ndarray, parent: np.ndarray, pairs: np.ndarray, threshold: float) -> None:
    """Join the pairs whose estimated similarity reaches ``threshold`` (a pair already in
    one group is not checked)."""
    if not len(pairs):
        return
    roots = _roots(parent, pairs.ravel()).reshape(-1, 2)
    pairs = pairs[roots[:, 0] != roots[:, 1]]
    for first in range(0, len(pairs), _CHECK_CHUNK):
        chunk = pairs[first : first + _CHECK_CHUNK]
        sim = (sigs[chunk[:, 0]] == sigs[chunk[:, 1]]).mean(axis=1)
        _union(parent, chunk[sim >= threshold])


def duplicate_groups(
    sigs: np.ndarray, threshold: float, live: np.ndarray | None = None
) -> np.ndarray:
    """Each row's duplicate group (its smallest row), -1 when it has no duplicate; rows
    with ``live`` False (deleted) and rows without a signature are in no group.

    LSH banding (:func:`lsh_bands`): rows agreeing on one band of positions are
    candidates; a candidate pair whose estimated similarity reaches ``threshold`` is
    joined (union-find), and the groups are the connected components. Band by band, a
    pair already in one group is not checked again, so a story with many copies costs
    its first band's pairs, not every band's; nothing is kept per pair beyond one band's
    candidates (checked in chunks), so memory stays linear in the rows.
    """
    sigs = np.asarray(sigs)
    n = len(sigs)
    keep = has_signature(sigs) if n else np.zeros(0, dtype=bool)
    if live is not None:
        keep &= np.asarray(live, dtype=bool)
    rows_kept = np.flatnonzero(keep)
    parent = np.arange(n, dtype=np.int64)
    if len(rows_kept) > 1:
        bands, rows = lsh_bands(threshold, sigs.shape[1])
        every = len(rows_kept) == n
        for band in range(bands):
            keys = _band_keys(sigs, band, rows)
            if not every:
                keys = keys[rows_kept]
            order = np.argsort(keys)
            sorted_keys = keys[order]
            cut = np.flatnonzero(np.diff(sorted_keys)) + 1
            starts = np.concatenate([[0], cut])
            sizes = np.diff(np.concatenate([starts, [len(keys)]]))
            shared = sizes > 1
            if not shared.any():
                continue
            starts, sizes = starts[shared], sizes[shared]
            members = rows_kept[order[_ranges(starts, sizes)]]
            # each row against its bucket's first row, then every pair of a bucket still
            # split: the copies of one story mostly join in the first pass, and a bucket
            # already in one group (most, after the first bands) costs nothing more
            for star in (True, False):
                members, sizes = _split_buckets(parent, members, sizes)
                if not len(members):
                    break
                firsts = np.cumsum(sizes) - sizes
                if star:
                    leader = np.repeat(members[firsts], sizes)
                    pairs = np.stack([leader, members], axis=1)
                else:
                    pairs = _bucket_pairs(members, firsts, sizes)
                _check(sigs, parent, pairs, threshold)
            _compress(parent)
    _compress(parent)
    labels = parent
    sizes = np.bincount(labels, minlength=n) if n else np.zeros(0, dtype=np.int64)
    return np.where(sizes[labels] > 1, labels, -1).astype(np.int64)


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The positions ``starts[i] .. starts[i] + sizes[i] - 1`` of every range, in order.

    >>> _ranges(np.array([5, 1]), np.array([2, 3])).tolist()
    [5, 6, 1, 2, 3]
    """
    total = int(sizes.sum())
    offsets = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes)
    return np.arange(total, dtype=np.int64) + offsets


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
