"""A segment: an immutable slice of the index, written once and never changed.

``seg-NNNNNN/`` holds everything about its articles: ``store.sqlite`` (articles,
passage spans, topic and entity labels; :mod:`indexer.segment_store`), ``lexical/``
(BM25 postings and passage lengths; :class:`indexer.postings.Postings`),
``dense.faiss`` (the passage vectors), ``minhash.npy`` (each article's near-duplicate
signature, :mod:`indexer.duplicates`; a segment without it has no duplicates) and,
written last, ``segment.json``. A segment
is born from new articles (the writer embeds and labels only those) or from a merge
(the live rows of several segments copied, nothing embedded or labelled again).
Deleting an article never touches its segment: the writer lists its row in a new
deletion marker, ``deletes-GGGGGG.npy`` (sorted int64 rows, numpy's own format).

Passages, labels and vectors keep the order of the articles, so a merge of segments
A then B holds exactly what a fresh build of A's then B's live articles would.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from indexer.article import Article
from indexer.dense import DenseIndex
from indexer.duplicates import NUM_PERM, empty_signatures
from indexer.manifest import DENSE, LEXICAL, SEGMENT_DONE, STORE, SegmentEntry, fsync_dir
from indexer.postings import Postings
from indexer.segment_store import SegmentStore, write_store
from newsrank.types import ArticleLabels

#: the near-duplicate signatures of a segment's articles (uint32, one row per article)
MINHASH = "minhash.npy"


@dataclass(frozen=True)
class SegmentData:
    """What a segment holds, in memory: articles in row order, each article's passage
    spans, labels (or None: not enriched), postings, passage vectors and the articles'
    near-duplicate signatures (None: none, so no article of it has duplicates)."""

    articles: Sequence[Article]
    spans: Sequence[Sequence[tuple[int, int]]]
    labels: Sequence[ArticleLabels] | None
    postings: Postings
    vectors: np.ndarray
    minhash: np.ndarray | None = None

    @property
    def n_passages(self) -> int:
        return sum(len(s) for s in self.spans)


def segment_name(number: int) -> str:
    """The directory name of segment ``number``.

    >>> segment_name(7)
    'seg-000007'
    """
    return f"seg-{number:06d}"


def deletes_name(generation: int) -> str:
    """The deletion marker written by commit ``generation``.

    >>> deletes_name(12)
    'deletes-000012.npy'
    """
    return f"deletes-{generation:06d}.npy"


def write_segment(
    directory: Path,
    data: SegmentData,
    *,
    dense_kind: str,
    hnsw_m: int = 32,
    timings: dict[str, float] | None = None,
) -> SegmentEntry:
    """Write ``data`` as a new segment directory (flushed to disk); return its entry.
    ``timings`` gets the seconds spent on ``store``, ``bm25`` (postings) and ``faiss``."""
    timings = {} if timings is None else timings
    if directory.exists():
        shutil.rmtree(directory)  # a partial segment of a killed writer, never committed
    directory.mkdir(parents=True)
    t = time.perf_counter()
    n_articles, n_passages = write_store(directory / STORE, data.articles, data.spans, data.labels)
    timings["store"] = timings.get("store", 0.0) + time.perf_counter() - t
    if n_passages != len(data.postings) or n_passages != len(data.vectors):
        raise ValueError(
            f"segment {directory.name}: {n_passages} passages but {len(data.postings)} "
            f"postings rows and {len(data.vectors)} vectors"
        )
    t = time.perf_counter()
    data.postings.save(directory / LEXICAL)
    timings["bm25"] = timings.get("bm25", 0.0) + time.perf_counter() - t
    t = time.perf_counter()
    dense = DenseIndex(kind=dense_kind, hnsw_m=hnsw_m)
    dense.index(data.vectors)
    dense.save(directory / DENSE)
    timings["faiss"] = timings.get("faiss", 0.0) + time.perf_counter() - t
    if data.minhash is not None:
        if data.minhash.shape != (n_articles, NUM_PERM):
            raise ValueError(
                f"segment {directory.name}: {n_articles} articles but minhash signatures of "
                f"shape {data.minhash.shape}"
            )
        np.save(directory / MINHASH, np.ascontiguousarray(data.minhash, dtype=np.uint32))
    entry = SegmentEntry(
        name=directory.name,
        articles=n_articles,
        passages=n_passages,
        dense_kind=dense_kind,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    (directory / SEGMENT_DONE).write_text(json.dumps({"articles": n_articles}) + "\n")
    fsync_tree(directory)
    return entry


def fsync_tree(directory: Path) -> None:
    """Flush every file of ``directory`` (and the directory entries) to disk."""
    for path in sorted(directory.rglob("*"), reverse=True):
        flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fsync_dir(directory)
    fsync_dir(directory.parent)


def write_deletes(path: Path, rows: Sequence[int]) -> None:
    """A deletion marker: the segment's deleted rows (sorted), flushed to disk."""
    with open(path, "wb") as out:
        np.save(out, np.array(sorted(int(r) for r in rows), dtype=np.int64))
        out.flush()
        os.fsync(out.fileno())


def read_deletes(directory: Path, entry: SegmentEntry) -> np.ndarray:
    """The deleted rows of a segment as of its commit (empty without a marker)."""
    if not entry.deletes:
        return np.zeros(0, dtype=np.int64)
    return np.load(directory / entry.deletes, allow_pickle=False)


@dataclass(frozen=True)
class SegmentReader:
    """One segment opened for reading: store, postings, vectors and near-duplicate
    signatures (shared by every commit that still names it, so a reopen loads only new
    segments)."""

    name: str
    store: SegmentStore
    postings: Postings
    dense: DenseIndex
    minhash: np.ndarray | None = None  # None: written without signatures

    @classmethod
    def open(cls, directory: Path, ef_search: int = 128) -> SegmentReader:
        return cls(
            name=directory.name,
            store=SegmentStore(directory / STORE),
            postings=Postings.load(directory / LEXICAL),
            dense=DenseIndex.load(directory / DENSE, ef_search=ef_search),
            minhash=read_minhash(directory),
        )

    def live_data(self, deleted: np.ndarray) -> SegmentData:
        """The live rows of this segment, as a merge copies them."""
        keep = np.ones(self.store.n_articles, dtype=bool)
        keep[np.asarray(deleted, dtype=np.int64)] = False
        rows = [int(n) for n in np.flatnonzero(keep)]
        stored = self.store.articles(rows)
        labels = self.store.labels(rows) if self.store.labelled else None
        spans: list[list[tuple[int, int]]] = [[] for _ in rows]
        position = {n: i for i, n in enumerate(rows)}
        for pid, article in enumerate(self.store.passage_article):
            if keep[article]:
                start, end = self.store.passage_spans[pid]
                spans[position[int(article)]].append((int(start), int(end)))
        passage_keep = keep[self.store.passage_article]
        vectors = self.dense.vectors()[passage_keep]
        articles = [
            Article(a.id, a.title, a.text, a.date, a.source, a.url, a.category)
            for a in (stored[n] for n in rows)
        ]
        return SegmentData(
            articles=articles,
            spans=spans,
            labels=[labels[n] for n in rows] if labels is not None else None,
            postings=self.postings.select(passage_keep),
            vectors=vectors,
            minhash=None if self.minhash is None else self.minhash[rows],
        )


def read_minhash(directory: Path) -> np.ndarray | None:
    """A segment's signatures, or None when it has none (or they do not fit its rows:
    read as "no duplicates" rather than fail)."""
    path = directory / MINHASH
    if not path.exists():
        return None
    sigs = np.load(path, mmap_mode="r", allow_pickle=False)  # read when grouped
    return sigs if sigs.ndim == 2 and sigs.shape[1] == NUM_PERM else None


def concat_data(parts: Sequence[SegmentData]) -> SegmentData:
    """Several segments' data, one after another (what a merge writes)."""
    labelled = any(p.labels is not None for p in parts)
    return SegmentData(
        articles=[a for p in parts for a in p.articles],
        spans=[s for p in parts for s in p.spans],
        labels=(
            [lab for p in parts for lab in (p.labels or [ArticleLabels()] * len(p.articles))]
            if labelled
            else None
        ),
        postings=Postings.concat([p.postings for p in parts]),
        vectors=np.concatenate([p.vectors for p in parts]),
        minhash=(
            np.concatenate(
                [
                    p.minhash if p.minhash is not None else empty_signatures(len(p.articles))
                    for p in parts
                ]
            )
            if any(p.minhash is not None for p in parts)
            else None
        ),
    )
