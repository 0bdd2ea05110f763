"""Open an index directory for reading: manifest, article store, BM25 and FAISS parts.

A reader never writes. Recovery after a crash belongs to the writer
(:func:`indexer.build.build_index` puts a set-aside copy back); if a build was killed
between the two renames of its swap, so that only the set-aside copy
(``.NAME.old``) holds a complete index, the reader opens that copy as it is, read-only,
and says so in :attr:`IndexReader.recovered_from`.

>>> IndexReader.open("/nonexistent/index")
Traceback (most recent call last):
...
newsrank.errors.IndexNotFoundError: no index at /nonexistent/index (manifest.json is missing); build one with `newsrank index build --input FILE --index /nonexistent/index` (or --demo)
"""  # noqa: E501

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from indexer.dense import DenseIndex, Embedder
from indexer.lexical import BM25Index
from indexer.manifest import BM25_DIR, DENSE, MANIFEST, STORE, Manifest, aside_path, read_manifest
from indexer.store import ArticleStore
from newsrank.config import IndexConfig
from newsrank.errors import IndexMismatchError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexReader:
    """The read-only parts of one index directory, loaded once and shared by threads."""

    directory: Path
    manifest: Manifest
    store: ArticleStore
    bm25: BM25Index
    dense: DenseIndex
    #: the set-aside copy this reader opened because the index itself was missing
    recovered_from: Path | None = None

    @classmethod
    def open(cls, index_dir: str | Path, ef_search: int = 128) -> IndexReader:
        """Open ``index_dir`` (or, after a build killed mid-swap, its set-aside copy)."""
        directory = Path(index_dir)
        recovered = None
        aside = aside_path(directory.resolve())
        if not (directory / MANIFEST).is_file() and (aside / MANIFEST).is_file():
            log.warning(
                "%s is missing but %s holds the index a killed build set aside; reading it "
                "(the next `newsrank index build` puts it back)",
                directory,
                aside,
            )
            directory, recovered = aside, aside
        manifest = read_manifest(directory)
        return cls(
            directory=directory,
            manifest=manifest,
            store=ArticleStore(directory / STORE),
            bm25=BM25Index.load(directory / BM25_DIR),
            dense=DenseIndex.load(directory / DENSE, ef_search=ef_search),
            recovered_from=recovered,
        )

    @property
    def settings(self) -> IndexConfig:
        """The index settings it was built with."""
        return IndexConfig(**self.manifest.settings)

    def open_embedder(self) -> Embedder:
        """The query embedder this index was built with (as its manifest records)."""
        settings = self.settings
        embedder = Embedder(
            self.manifest.embedder,
            max_length=settings.embed_max_length,
            precision=settings.embed_precision,
        )
        self.check_embedder(embedder)
        return embedder

    def check_embedder(self, embedder: object) -> None:
        """Raise :class:`IndexMismatchError` unless ``embedder`` gives vectors of this
        index's dimension."""
        dim = getattr(embedder, "dim", self.manifest.embedding_dim)
        if dim != self.manifest.embedding_dim:
            name = getattr(embedder, "model_name", type(embedder).__name__)
            raise IndexMismatchError(
                f"embedder {name!r} gives {dim}-d vectors but the index {self.directory} "
                f"holds {self.manifest.embedding_dim}-d ones; use {self.manifest.embedder!r}"
            )
