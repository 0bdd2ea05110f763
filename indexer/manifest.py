"""The commit point of an index directory: which segments are live, and how it was built.

An index directory holds immutable segments (``seg-NNNNNN/``: article store, lexical
postings, vectors; :mod:`indexer.segment`), deletion markers beside them
(``seg-NNNNNN/deletes-GGGGGG.npy``: rows deleted as of commit ``G``), and
``manifest.json``, the commit point: it names the live segments with their current
deletion marker, and records the index-wide settings (embedder, passage split, BM25).
Lucene's ``segments_N`` is the model. The writer publishes a commit by writing the
new manifest to a temporary file, flushing it, and renaming it over the old one (an
atomic switch), so a reader sees either the old commit or the new one, whole.

>>> m = Manifest(embedder="e", embedding_dim=384, dense_kind="flat", articles=2, passages=3,
...              segments=(SegmentEntry("seg-000000", articles=2, passages=3),))
>>> Manifest.from_json(m.to_json()) == m
True
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from indexer.faults import pause_point
from newsrank.config import IndexConfig
from newsrank.errors import IndexNotFoundError

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
# the files of one segment
STORE = "store.sqlite"
LEXICAL = "lexical"
DENSE = "dense.faiss"
SEGMENT_DONE = "segment.json"  # written last: a segment directory without it is partial


@dataclass(frozen=True)
class SegmentEntry:
    """One live segment of a commit."""

    name: str
    articles: int  # rows in the segment (deleted ones included)
    passages: int
    deleted: int = 0  # rows deleted as of this commit
    deleted_passages: int = 0
    deletes: str = ""  # the deletion marker file in the segment directory ("" = none)
    dense_kind: str = "flat"
    created: str = ""

    @property
    def live_articles(self) -> int:
        return self.articles - self.deleted

    @property
    def live_passages(self) -> int:
        return self.passages - self.deleted_passages


@dataclass(frozen=True)
class Manifest:
    embedder: str
    embedding_dim: int
    dense_kind: str
    articles: int  # live articles of the commit
    passages: int  # live passages
    skipped: int = 0
    format_version: int = FORMAT_VERSION
    created: str = ""
    settings: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # of the last write
    enrichment: dict = field(default_factory=dict)  # heads that labelled the articles
    embedder_dtype: str = ""  # "fp32" or "bf16": the passage vectors' arithmetic ("" = older)
    generation: int = 0  # commits so far
    segments: tuple[SegmentEntry, ...] = ()
    next_segment: int = 0  # the number the next new segment gets
    #: files and segment directories no longer live, with the time they were dropped
    #: (removed once no reader can still be using them; see indexer.writer)
    retired: dict = field(default_factory=dict)
    updated: str = ""  # when this commit was written
    progress: dict = field(default_factory=dict)  # a build still adding: {"done", "total"}

    @property
    def lead_words(self) -> int:
        """How many words of each text (after the title) the index-time heads labelled."""
        return int(self.enrichment.get("lead_words", IndexConfig.lead_words))

    @property
    def deleted(self) -> int:
        """Deleted articles still held by segments (a merge drops them)."""
        return sum(s.deleted for s in self.segments)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        data["segments"] = tuple(SegmentEntry(**s) for s in data.get("segments", ()))
        return cls(**data)

    def write(self, directory: Path) -> None:
        """Publish this commit: temporary file, flushed, renamed over ``manifest.json``."""
        directory = Path(directory)
        tmp = directory / f"{MANIFEST}.tmp-{os.getpid()}"
        with open(tmp, "w") as out:
            out.write(self.to_json() + "\n")
            out.flush()
            os.fsync(out.fileno())
        pause_point("committing")
        os.replace(tmp, directory / MANIFEST)
        fsync_dir(directory)


def fsync_dir(directory: Path) -> None:
    """Flush a directory's entries (a rename or a new file in it) to disk."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_manifest(directory: str | Path) -> Manifest:
    """Read and check an index directory's commit point, or explain what is wrong."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise IndexNotFoundError(
            f"no index at {directory} ({MANIFEST} is missing); build one with "
            f"`newsrank index build --input FILE --index {directory}` (or --demo)"
        )
    version = read_format(directory)
    if version is not None and version != FORMAT_VERSION:
        raise IndexNotFoundError(
            f"index {directory} has format {version}, this newsrank reads "
            f"{FORMAT_VERSION}; rebuild it with `newsrank index build`"
        )
    try:
        manifest = Manifest.from_json(path.read_text())
    except (ValueError, TypeError) as exc:
        raise IndexNotFoundError(f"{path} is unreadable ({exc}); rebuild the index") from exc
    return manifest


def read_format(directory: Path) -> int | None:
    """The format version of the index at ``directory`` (None: no readable manifest)."""
    try:
        return int(json.loads((Path(directory) / MANIFEST).read_text())["format_version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
