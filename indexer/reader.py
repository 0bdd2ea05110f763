"""Open one commit of an index for reading: its segments seen as one index.

A reader never writes and never takes the writer's lock. It reads the commit point
(``manifest.json``, replaced atomically by each commit) and opens the segments it
names with their deletion markers; :attr:`IndexReader.store`, :attr:`bm25` and
:attr:`dense` are the commit-wide views the searcher uses, with deleted articles
already left out. :meth:`IndexReader.reopen` opens a newer commit, loading only the
segments that are new to it (the others, immutable, are shared), which is what a
running server does to see changes near-real-time.

>>> IndexReader.open("/nonexistent/index")
Traceback (most recent call last):
...
newsrank.errors.IndexNotFoundError: no index at /nonexistent/index (manifest.json is missing); build one with `newsrank index build --input FILE --index /nonexistent/index` (or --demo)
"""  # noqa: E501

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.dense import Embedder, SegmentedDense
from indexer.duplicates import DuplicateGroups, commit_groups
from indexer.lexical import BM25Index
from indexer.manifest import MANIFEST, Manifest, read_manifest
from indexer.segment import SegmentReader, read_deletes
from indexer.store import ArticleStore, StorePart
from newsrank.config import IndexConfig
from newsrank.errors import IndexMismatchError, IndexNotFoundError


def commit_stamp(directory: Path) -> tuple[int, int] | None:
    """What changes when a commit is published (the manifest file is replaced by a new
    one): its inode and modification time. None when there is no manifest."""
    try:
        st = os.stat(Path(directory) / MANIFEST)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


class CommitDuplicates:
    """A commit's near-duplicate groups, computed once and kept: what
    :class:`IndexReader` and the sharded index (``ranker.sharded``) share. The class
    gives ``_lazy`` (a dict), ``_lazy_lock``, ``store``, ``settings`` and
    ``_signature_parts()`` (each part's MinHash signatures and article count)."""

    _lazy: dict
    _lazy_lock: threading.Lock

    def _signature_parts(self) -> tuple[list[np.ndarray | None], list[int]]:
        raise NotImplementedError

    def duplicates(self, wait: bool = True) -> DuplicateGroups:
        """This commit's near-duplicate groups over its live articles (the segments'
        MinHash signatures, LSH-banded; :mod:`indexer.duplicates`), computed on first use
        and kept: a deleted article is in no group, an added copy is in its story's.
        ``duplicate_seconds`` says what computing them took.

        ``wait=False``: while they are not computed yet, a reopened commit answers with
        the groups of the commit it was reopened from, carried over to its segments
        (deleted articles left out; articles of new segments in no group yet), so that a
        search right after a commit does not wait for them (they take about 0.1-0.3 s
        on the demo; a server computes them in the background, :meth:`Searcher.reopened`),
        and a commit being warmed (:meth:`warm_duplicates`) answers with no groups.
        """
        carried = self._lazy.get("carried")
        if not wait and carried is not None and "duplicates" not in self._lazy:
            return carried
        with self._lazy_lock:
            groups = self._lazy.get("duplicates")
            if groups is None:
                t = time.perf_counter()
                parts, sizes = self._signature_parts()
                groups = self._lazy["duplicates"] = commit_groups(
                    parts,
                    sizes,
                    self.settings.duplicate_threshold,  # type: ignore[attr-defined]
                    live=self.store.live,  # type: ignore[attr-defined]
                )
                self._lazy["duplicate_seconds"] = time.perf_counter() - t
            return groups

    def warm_duplicates(self) -> threading.Thread:
        """Compute the groups in a background thread (a server does this when it opens
        an index: at a million passages they take seconds). Until they are ready a
        search that does not wait for them collapses nothing (or what a reopened commit
        carried over); one that waits (``duplicates()``) waits for this computation."""
        self._lazy.setdefault("carried", DuplicateGroups.none(0))
        thread = threading.Thread(target=self.duplicates, name="newsrank-duplicates", daemon=True)
        thread.start()
        return thread

    @property
    def duplicate_seconds(self) -> float | None:
        """Seconds :meth:`duplicates` took for this commit (None: not computed yet)."""
        return self._lazy.get("duplicate_seconds")


@dataclass(frozen=True)
class IndexReader(CommitDuplicates):
    """One commit of one index directory, loaded once and shared by threads."""

    directory: Path
    manifest: Manifest
    store: ArticleStore
    bm25: BM25Index
    dense: SegmentedDense
    segments: dict[str, SegmentReader] = field(default_factory=dict)
    stamp: tuple[int, int] | None = None
    ef_search: int = 128
    #: what is computed on first use and kept for this commit (duplicate groups)
    _lazy: dict = field(default_factory=dict, repr=False, compare=False)
    _lazy_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def open(
        cls, index_dir: str | Path, ef_search: int = 128, *, previous: IndexReader | None = None
    ) -> IndexReader:
        """Open the newest commit of ``index_dir`` (sharing ``previous``'s segments)."""
        directory = Path(index_dir)
        for attempt in range(3):
            stamp = commit_stamp(directory)
            manifest = read_manifest(directory)
            try:
                return cls._open(directory, manifest, stamp, ef_search, previous)
            except (OSError, IndexNotFoundError):
                # a merge committed and a later writer removed a segment this commit
                # named between our two reads: read the newer commit
                if attempt == 2 or commit_stamp(directory) == stamp:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _open(
        cls,
        directory: Path,
        manifest: Manifest,
        stamp: tuple[int, int] | None,
        ef_search: int,
        previous: IndexReader | None,
    ) -> IndexReader:
        known = previous.segments if previous is not None else {}
        segments: dict[str, SegmentReader] = {}
        parts, postings, dense, live = [], [], [], []
        for entry in manifest.segments:
            reader = known.get(entry.name) or SegmentReader.open(
                directory / entry.name, ef_search=ef_search
            )
            segments[entry.name] = reader
            deleted = read_deletes(directory / entry.name, entry)
            parts.append(StorePart(entry.name, reader.store, deleted))
            passage_live = None
            if len(deleted):
                article_live = np.ones(reader.store.n_articles, dtype=bool)
                article_live[deleted] = False
                passage_live = article_live[reader.store.passage_article]
            postings.append(reader.postings)
            dense.append(reader.dense)
            live.append(passage_live)
        settings = IndexConfig(**manifest.settings)
        bm25 = BM25Index.over(postings, live, **settings.bm25_settings())
        reader = cls(
            directory=directory,
            manifest=manifest,
            store=ArticleStore(parts, labelled=bool(manifest.enrichment)),
            bm25=bm25,
            dense=SegmentedDense(dense, live),
            segments=segments,
            stamp=stamp,
            ef_search=ef_search,
        )
        if previous is not None:
            carried = _carried_duplicates(previous, reader)
            if carried is not None:
                reader._lazy["carried"] = carried
        return reader

    def with_bm25(self, **settings: object) -> IndexReader:
        """This commit with its BM25 scored at other query-time settings (``k1``, ``b``,
        ``method``: ``BM25Index.with_settings``); nothing is re-read, and this reader is
        unchanged. The index keeps the settings its manifest records."""
        return dataclasses.replace(self, bm25=self.bm25.with_settings(**settings))

    @property
    def generation(self) -> int:
        return self.manifest.generation

    def is_current(self) -> bool:
        """Whether this is still the newest commit (one ``stat``: cheap enough per request)."""
        return commit_stamp(self.directory) == self.stamp

    def reopen(self) -> IndexReader | None:
        """The newest commit, or None when this reader already has it; only segments new
        since this commit are loaded."""
        if self.is_current():
            return None
        reader = IndexReader.open(self.directory, self.ef_search, previous=self)
        return None if reader.generation == self.generation else reader

    def _signature_parts(self) -> tuple[list[np.ndarray | None], list[int]]:
        return (
            [self.segments[e.name].minhash for e in self.manifest.segments],
            [p.store.n_articles for p in self.store.parts],
        )

    @property
    def settings(self) -> IndexConfig:
        """The index settings it was built with."""
        return IndexConfig(**self.manifest.settings)

    def open_embedder(self) -> Embedder:
        """The query embedder this index was built with (as its manifest records)."""
        return manifest_embedder(self.manifest, self.directory)

    def check_embedder(self, embedder: object) -> None:
        """Raise :class:`IndexMismatchError` unless ``embedder`` gives vectors of this
        index's dimension."""
        check_embedder(self.manifest, self.directory, embedder)


def manifest_embedder(manifest: Manifest, directory: Path) -> Embedder:
    """The embedder ``manifest`` records, loaded with its index settings and checked
    against its vectors (an index, or a sharded index's summed manifest)."""
    settings = IndexConfig(**manifest.settings)
    embedder = Embedder(
        manifest.embedder,
        max_length=settings.embed_max_length,
        precision=settings.embed_precision,
    )
    check_embedder(manifest, directory, embedder)
    return embedder


def check_embedder(manifest: Manifest, directory: Path, embedder: object) -> None:
    """Raise :class:`IndexMismatchError` unless ``embedder`` gives vectors of the
    dimension the index at ``directory`` (with ``manifest``) holds."""
    dim = getattr(embedder, "dim", manifest.embedding_dim)
    if manifest.segments and dim != manifest.embedding_dim:
        name = getattr(embedder, "model_name", type(embedder).__name__)
        raise IndexMismatchError(
            f"embedder {name!r} gives {dim}-d vectors but the index {directory} "
            f"holds {manifest.embedding_dim}-d ones; use {manifest.embedder!r}"
        )


def _carried_duplicates(previous: IndexReader, reader: IndexReader) -> DuplicateGroups | None:
    """``previous``'s duplicate groups (computed or carried) moved to ``reader``'s
    numbering: rows of the segments both share keep their group, deleted rows and the
    rows of new segments get none. None when ``previous`` has no groups yet."""
    old = previous._lazy.get("duplicates") or previous._lazy.get("carried")
    if old is None:
        return None
    labels = np.full(reader.store.n_articles, -1, dtype=np.int64)
    old_base = {p.name: int(b) for p, b in zip(previous.store.parts, previous.store.article_base)}
    for part, base in zip(reader.store.parts, reader.store.article_base):
        if part.name in old_base:
            n, start = part.store.n_articles, old_base[part.name]
            labels[base : base + n] = old.labels[start : start + n]
    labels[~reader.store.live] = -1
    return DuplicateGroups.of(labels)
