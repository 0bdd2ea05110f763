"""The manifest of an index directory: what it holds and how it was built.

>>> m = Manifest(embedder="e", embedding_dim=384, dense_kind="flat", articles=2, passages=3)
>>> Manifest.from_json(m.to_json()) == m
True
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from newsrank.config import IndexConfig
from newsrank.errors import IndexNotFoundError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STORE = "store.sqlite"
BM25_DIR = "bm25"
DENSE = "dense.faiss"


@dataclass(frozen=True)
class Manifest:
    embedder: str
    embedding_dim: int
    dense_kind: str
    articles: int
    passages: int
    skipped: int = 0
    format_version: int = FORMAT_VERSION
    created: str = ""
    settings: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    enrichment: dict = field(default_factory=dict)  # heads that labelled the articles
    embedder_dtype: str = ""  # "fp32" or "bf16": the passage vectors' arithmetic ("" = older)

    @property
    def lead_words(self) -> int:
        """How many words of each text (after the title) the index-time heads labelled."""
        return int(self.enrichment.get("lead_words", IndexConfig.lead_words))

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        return cls(**json.loads(text))

    def write(self, directory: Path) -> None:
        (Path(directory) / MANIFEST).write_text(self.to_json() + "\n")


def aside_path(index_dir: Path) -> Path:
    """Where a build sets the old index aside while it swaps the new one in.

    >>> aside_path(Path("var/index"))
    PosixPath('var/.index.old')
    """
    return index_dir.with_name(f".{index_dir.name}.old")


def read_manifest(directory: str | Path) -> Manifest:
    """Read and check an index directory's manifest, or explain what is wrong."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise IndexNotFoundError(
            f"no index at {directory} ({MANIFEST} is missing); build one with "
            f"`newsrank index build --input FILE --index {directory}` (or --demo)"
        )
    try:
        manifest = Manifest.from_json(path.read_text())
    except (ValueError, TypeError) as exc:
        raise IndexNotFoundError(f"{path} is unreadable ({exc}); rebuild the index") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise IndexNotFoundError(
            f"index {directory} has format {manifest.format_version}, this newsrank reads "
            f"{FORMAT_VERSION}; rebuild it with `newsrank index build`"
        )
    return manifest
