"""One segment's lexical part: immutable postings (CSR over sorted terms), Lucene-style.

For every distinct term (sorted), the ascending passage numbers that contain it and the
term frequency there (``indptr``, ``docs``, ``tfs``), plus every passage's token count.
Postings never change after they are written: deletions are a bool "live" mask per
segment kept by the caller, and merges build new postings with :meth:`Postings.select`
(drop deleted passages) and :meth:`Postings.concat`. Saved as plain ``.npy`` files and a
JSON term list (no pickle), memory-mapped read-only when loaded. Scoring is
:mod:`indexer.lexical`'s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_EMPTY_INT = np.zeros(0, dtype=np.int32)
_EMPTY_INT.flags.writeable = False


class Postings:
    """One segment's lexical part, immutable: term -> (passage numbers, term frequencies),
    passage lengths.

    ``terms`` is sorted; term ``j``'s postings are ``docs[indptr[j]:indptr[j + 1]]``
    (ascending passage numbers, int32) and ``tfs[...]`` (int32); ``lengths[i]`` is the
    token count of passage ``i`` (int32). Only terms with at least one posting are kept.

    >>> p = Postings.from_tokens([["oil", "price", "oil"], [], ["gas", "oil"]])
    >>> len(p), p.n_terms, p.terms
    (3, 3, ['gas', 'oil', 'price'])
    >>> [a.tolist() for a in p.lookup("oil")], p.lengths.tolist()
    ([[0, 2], [2, 1]], [3, 0, 2])
    >>> [a.tolist() for a in p.select(np.array([False, True, True])).lookup("oil")]
    [[1], [1]]
    """

    def __init__(
        self,
        terms: Sequence[str],
        indptr: np.ndarray,
        docs: np.ndarray,
        tfs: np.ndarray,
        lengths: np.ndarray,
    ) -> None:
        if len(indptr) != len(terms) + 1 or len(docs) != len(tfs) or indptr[-1] != len(docs):
            raise ValueError("inconsistent postings: indptr, docs and tfs do not match terms")
        self._terms = list(terms)
        self._ids: dict[str, int] | None = None
        self.indptr, self.docs, self.tfs, self.lengths = indptr, docs, tfs, lengths

    @property
    def terms(self) -> list[str]:
        """The distinct terms, sorted."""
        return self._terms

    @property
    def n_terms(self) -> int:
        return len(self._terms)

    @property
    def n_postings(self) -> int:
        return len(self.docs)

    def __len__(self) -> int:
        return len(self.lengths)

    def __repr__(self) -> str:
        return f"Postings({len(self)} passages, {self.n_terms} terms, {self.n_postings} postings)"

    def term_id(self, term: str) -> int:
        """Row of ``term`` in ``indptr``, or -1 when the segment does not contain it."""
        if self._ids is None:
            self._ids = {t: j for j, t in enumerate(self._terms)}
        return self._ids.get(term, -1)

    def lookup(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(passage numbers ascending, term frequencies), both int32; empty if unknown."""
        j = self.term_id(term)
        if j < 0:
            return _EMPTY_INT, _EMPTY_INT
        start, end = int(self.indptr[j]), int(self.indptr[j + 1])
        return self.docs[start:end], self.tfs[start:end]

    @classmethod
    def from_tokens(cls, tokens: Sequence[Sequence[str]]) -> Postings:
        """Postings of passages ``tokens[0], tokens[1], ...`` (passage ``i`` = ``tokens[i]``)."""
        n = len(tokens)
        lengths = np.fromiter((len(t) for t in tokens), dtype=np.int32, count=n)
        vocab: dict[str, int] = {}
        flat = np.fromiter(
            (vocab.setdefault(w, len(vocab)) for doc in tokens for w in doc),
            dtype=np.int64,
            count=int(lengths.sum(dtype=np.int64)),
        )
        terms = sorted(vocab)
        rank = np.empty(len(vocab), dtype=np.int64)
        rank[np.fromiter((vocab[t] for t in terms), dtype=np.int64, count=len(terms))] = np.arange(
            len(terms)
        )
        docs = np.repeat(np.arange(n, dtype=np.int64), lengths)
        keys, tfs = np.unique(rank[flat] * max(n, 1) + docs, return_counts=True)
        term_of = keys // max(n, 1)
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_of, minlength=len(terms)), out=indptr[1:])
        return cls(
            terms,
            indptr,
            (keys % max(n, 1)).astype(np.int32),
            tfs.astype(np.int32),
            lengths,
        )

    def _term_of_postings(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_terms, dtype=np.int64), np.diff(self.indptr))

    def select(self, keep: np.ndarray) -> Postings:
        """The passages where ``keep`` (bool per passage) is True, renumbered 0.. in order."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (len(self),):
            raise ValueError(f"keep has shape {keep.shape}, expected ({len(self)},)")
        new_number = np.cumsum(keep, dtype=np.int64) - 1
        kept = keep[self.docs]
        counts = np.bincount(self._term_of_postings()[kept], minlength=self.n_terms)
        present = np.flatnonzero(counts)
        indptr = np.zeros(len(present) + 1, dtype=np.int64)
        np.cumsum(counts[present], out=indptr[1:])
        return Postings(
            [self._terms[j] for j in present.tolist()],
            indptr,
            new_number[self.docs[kept]].astype(np.int32),
            np.asarray(self.tfs[kept], dtype=np.int32),
            np.asarray(self.lengths[keep], dtype=np.int32),
        )

    @staticmethod
    def concat(parts: Sequence[Postings]) -> Postings:
        """One segment: the passages of ``parts[0]`` first, then ``parts[1]``, ..."""
        terms = sorted(set().union(*(p.terms for p in parts)))
        ids = {t: j for j, t in enumerate(terms)}
        term_of, docs, tfs = [], [], []
        offset = 0
        for part in parts:
            mapping = np.fromiter((ids[t] for t in part.terms), np.int64, count=part.n_terms)
            term_of.append(mapping[part._term_of_postings()])
            docs.append(np.asarray(part.docs, dtype=np.int64) + offset)
            tfs.append(np.asarray(part.tfs))
            offset += len(part)
        if offset > np.iinfo(np.int32).max:
            raise ValueError("a segment holds at most 2**31 - 1 passages")
        term_all = np.concatenate(term_of) if parts else np.zeros(0, np.int64)
        # Stable: for one term, the postings of earlier parts (lower numbers) stay first.
        order = np.argsort(term_all, kind="stable")
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_all, minlength=len(terms)), out=indptr[1:])
        cat = np.concatenate
        return Postings(
            terms,
            indptr,
            cat(docs)[order].astype(np.int32) if parts else _EMPTY_INT.copy(),
            cat(tfs)[order].astype(np.int32) if parts else _EMPTY_INT.copy(),
            cat([p.lengths for p in parts]).astype(np.int32) if parts else _EMPTY_INT.copy(),
        )

    def save(self, directory: str | Path) -> None:
        """Plain files in ``directory`` (created): terms.json and .npy arrays, no pickle."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "terms.json").write_text(json.dumps(self._terms, ensure_ascii=False))
        for name in ("indptr", "docs", "tfs", "lengths"):
            np.save(directory / f"{name}.npy", np.ascontiguousarray(getattr(self, name)))

    @classmethod
    def load(cls, directory: str | Path, mmap: bool = True) -> Postings:
        """Postings saved by :meth:`save`; the arrays memory-mapped read-only if ``mmap``."""
        directory = Path(directory)
        if not (directory / "terms.json").is_file():
            raise FileNotFoundError(f"{directory / 'terms.json'} is missing: not postings")
        terms = json.loads((directory / "terms.json").read_text())
        mode = "r" if mmap else None
        arrays = [
            np.load(directory / f"{name}.npy", mmap_mode=mode, allow_pickle=False)
            for name in ("indptr", "docs", "tfs", "lengths")
        ]
        return cls(terms, *arrays)
