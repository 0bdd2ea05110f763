"""One shard's commit as the coordinator of a sharded search holds it
(:class:`ShardCommit`), and every shard's commit summed into one manifest
(:func:`summed_manifest`): what ``ranker.sharded`` and ``ranker.cluster`` read of a
sharded index (:mod:`indexer.shards`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.manifest import STORE, Manifest, read_manifest
from indexer.reader import IndexReader, commit_stamp
from indexer.segment import read_deletes, read_minhash
from indexer.segment_store import SegmentStore
from indexer.store import StorePart
from newsrank.errors import IndexNotFoundError


def summed_manifest(manifests: Sequence[Manifest], names: Sequence[str]) -> Manifest:
    """One manifest describing every shard's commit together: counts summed, the
    segments named ``shard-NN/seg-NNNNNN``, the generation the sum of the shards'
    (it grows with every commit of any shard); settings and heads of the first."""
    first = manifests[0]
    segments = tuple(
        dataclasses.replace(s, name=f"{name}/{s.name}")
        for m, name in zip(manifests, names)
        for s in m.segments
    )
    dim = max((m.embedding_dim for m in manifests), default=first.embedding_dim)
    return dataclasses.replace(
        first,
        embedding_dim=dim,
        articles=sum(m.articles for m in manifests),
        passages=sum(m.passages for m in manifests),
        generation=sum(m.generation for m in manifests),
        segments=segments,
        retired={},
        updated=max(m.updated for m in manifests),
        progress={},
    )


@dataclass(frozen=True)
class ShardCommit:
    """What the coordinator of a sharded search holds of one shard's commit: its
    manifest and article stores (SQLite) and near-duplicate signatures, not its postings
    or vectors (those stay with the shard's searcher, possibly another process).

    Its store parts are named ``shard-NN/seg-NNNNNN``, so the parts of every shard can
    make one :class:`indexer.store.ArticleStore` (``ranker.sharded``).
    """

    name: str
    directory: Path
    manifest: Manifest
    stamp: tuple[int, int] | None
    parts: tuple[StorePart, ...]
    minhash: tuple[np.ndarray | None, ...]

    @property
    def generation(self) -> int:
        return self.manifest.generation

    @property
    def n_passages(self) -> int:
        return sum(p.store.n_passages for p in self.parts)

    def is_current(self) -> bool:
        return commit_stamp(self.directory) == self.stamp

    @classmethod
    def of_reader(cls, name: str, reader: IndexReader) -> ShardCommit:
        """The commit an open reader holds (in process: nothing is opened twice)."""
        parts = tuple(StorePart(f"{name}/{p.name}", p.store, p.deleted) for p in reader.store.parts)
        minhash = tuple(reader.segments[e.name].minhash for e in reader.manifest.segments)
        return cls(name, reader.directory, reader.manifest, reader.stamp, parts, minhash)

    @classmethod
    def open(
        cls, name: str, directory: str | Path, previous: ShardCommit | None = None
    ) -> ShardCommit:
        """The newest commit of the shard at ``directory``: stores and signatures only
        (the segments ``previous`` already has are shared, not reopened)."""
        directory = Path(directory)
        known = {}
        if previous is not None:
            known = {p.name: (p.store, m) for p, m in zip(previous.parts, previous.minhash)}
        for attempt in range(3):
            stamp = commit_stamp(directory)
            manifest = read_manifest(directory)
            try:
                parts, minhash = [], []
                for entry in manifest.segments:
                    key = f"{name}/{entry.name}"
                    store, sigs = known.get(key) or (
                        SegmentStore(directory / entry.name / STORE),
                        read_minhash(directory / entry.name),
                    )
                    parts.append(StorePart(key, store, read_deletes(directory / entry.name, entry)))
                    minhash.append(sigs)
                return cls(name, directory, manifest, stamp, tuple(parts), tuple(minhash))
            except (OSError, IndexNotFoundError):
                # a writer replaced the commit between our reads: read the newer one
                if attempt == 2 or commit_stamp(directory) == stamp:
                    raise
        raise AssertionError("unreachable")
