"""A sharded index: N segmented indexes under one directory, articles split by id.

Layout::

    INDEX/
      shards.json     the top-level manifest: format, N, hash function, shard dirs, settings
      shard-00/       a complete segmented index (manifest.json, seg-NNNNNN/, ...)
      shard-01/ ...

Article ``id`` lives in shard ``shard_of(id, N)``: the first 8 bytes of the SHA-1 of its
UTF-8 id, big-endian, modulo N. The hash is stable across processes, machines and
Python versions (Python's ``hash`` is salted per process), so an upsert of an id always
lands in the shard that holds the old version, and a delete finds it. Each shard is an
ordinary index (:mod:`indexer.writer`, :mod:`indexer.reader`): its own lock, commits,
merges. A change that touches several shards is one commit per shard, not one atomic
commit across them (as in Elasticsearch); ``shards.json`` itself only changes when the
index is built. Changing one: :mod:`indexer.shard_writer`; reading a shard's commit:
:mod:`indexer.shard_commit`.

An unsharded index (``manifest.json`` at the top, no ``shards.json``) is exactly what it
was before shards existed; ``--shards 1`` builds that.

>>> [shard_of(i, 3) for i in ("a", "b", "c", "reuters-1")]
[1, 1, 0, 0]
>>> shard_name(4)
'shard-04'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from indexer.article import Article
from indexer.build import BuildResult, build_index
from indexer.dense import Embedder
from indexer.manifest import MANIFEST, Manifest, fsync_dir
from indexer.writer import IndexWriter
from newsrank.config import IndexConfig
from newsrank.errors import IndexNotFoundError, NewsrankError
from newsrank.protocols import Tagger, TopicClassifier

#: the top-level manifest of a sharded index
SHARDS_FILE = "shards.json"
FORMAT = "newsrank-shards-1"
HASH = "sha1-64-mod"
MAX_SHARDS = 100


def shard_of(article_id: str, n: int) -> int:
    """The shard (0..n-1) that owns ``article_id``: SHA-1, first 8 bytes, modulo n."""
    if n < 1:
        raise ValueError(f"n={n}: a sharded index has at least 1 shard")
    digest = hashlib.sha1(article_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n


def shard_name(number: int) -> str:
    return f"shard-{number:02d}"


def partition(articles: Sequence[Article], n: int) -> list[list[Article]]:
    """``articles`` split by owning shard, each part in input order.

    >>> from indexer.article import Article
    >>> parts = partition([Article(id=i, title=i, text=i) for i in "abc"], 3)
    >>> [[a.id for a in p] for p in parts]
    [['c'], ['a', 'b'], []]
    """
    parts: list[list[Article]] = [[] for _ in range(n)]
    for article in articles:
        parts[shard_of(article.id, n)].append(article)
    return parts


@dataclass(frozen=True)
class ShardLayout:
    """What ``shards.json`` says: how many shards, the hash, their directories."""

    shards: int
    dirs: tuple[str, ...]
    hash: str = HASH
    format: str = FORMAT
    settings: dict = field(default_factory=dict)
    created: str = ""

    def paths(self, directory: str | Path) -> list[Path]:
        return [Path(directory) / d for d in self.dirs]

    def owner(self, article_id: str) -> int:
        return shard_of(article_id, self.shards)

    @classmethod
    def new(cls, shards: int, config: IndexConfig) -> ShardLayout:
        if not 1 <= shards <= MAX_SHARDS:
            raise ValueError(f"shards={shards}: give 1 to {MAX_SHARDS}")
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        dirs = tuple(shard_name(i) for i in range(shards))
        return cls(shards, dirs, settings=dataclasses.asdict(config), created=stamp)

    def write(self, directory: str | Path) -> None:
        """Replace ``shards.json`` atomically (temporary file, fsync, rename)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f"{SHARDS_FILE}.tmp-{os.getpid()}"
        with open(tmp, "w") as out:
            out.write(json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, directory / SHARDS_FILE)
        fsync_dir(directory)


def is_sharded(directory: str | Path) -> bool:
    """Whether ``directory`` holds a sharded index (a ``shards.json``)."""
    return (Path(directory) / SHARDS_FILE).is_file()


def read_layout(directory: str | Path) -> ShardLayout:
    """The layout of the sharded index at ``directory``, or a clear error."""
    path = Path(directory) / SHARDS_FILE
    if not path.is_file():
        raise IndexNotFoundError(
            f"no sharded index at {directory} ({SHARDS_FILE} is missing); build one with "
            f"`newsrank index build --input FILE --index {directory} --shards N`"
        )
    try:
        data = json.loads(path.read_text())
        layout = ShardLayout(
            shards=int(data["shards"]),
            dirs=tuple(data["dirs"]),
            hash=data.get("hash", HASH),
            format=data.get("format", ""),
            settings=dict(data.get("settings", {})),
            created=data.get("created", ""),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexNotFoundError(f"{path} is unreadable ({exc}); rebuild the index") from exc
    if layout.format != FORMAT or layout.hash != HASH or len(layout.dirs) != layout.shards:
        raise IndexNotFoundError(
            f"{path} has format {layout.format!r} and hash {layout.hash!r}; this newsrank "
            f"reads {FORMAT!r} with {HASH!r}: rebuild the index"
        )
    return layout


def check_layout(directory: str | Path, shards: int) -> None:
    """Refuse to build ``shards`` shards (1: unsharded) over an index of another layout."""
    directory = Path(directory)
    if shards > 1 and (directory / MANIFEST).is_file():
        raise NewsrankError(
            f"{directory} holds an unsharded index; build the {shards}-shard index into a "
            "new directory (or remove this one first)"
        )
    if is_sharded(directory):
        held = read_layout(directory).shards
        if held != shards:
            raise NewsrankError(
                f"{directory} holds an index of {held} shards; rebuild it with --shards "
                f"{held}, or build {shards} into a new directory (or remove this one first)"
            )


def load_embedder(config: IndexConfig) -> Embedder:
    """The passage embedder of ``config``: loaded once and shared by the shards' writers."""
    return Embedder(
        config.embedder,
        config.embed_batch_size,
        config.embed_max_length,
        precision=config.embed_precision,
    )


@dataclass(frozen=True)
class ShardedBuildResult:
    index_dir: Path
    layout: ShardLayout
    manifests: list[Manifest]
    seconds: float = 0.0

    @property
    def articles(self) -> int:
        return sum(m.articles for m in self.manifests)

    @property
    def passages(self) -> int:
        return sum(m.passages for m in self.manifests)

    @property
    def skipped(self) -> int:
        return self.manifests[0].skipped if self.manifests else 0

    @property
    def passages_per_second(self) -> float:
        return self.passages / self.seconds if self.seconds else 0.0


def build_sharded(
    articles: Sequence[Article],
    index_dir: str | Path,
    shards: int,
    config: IndexConfig | None = None,
    *,
    skipped: int = 0,
    embedder: Embedder | None = None,
    classifier: TopicClassifier | None = None,
    tagger: Tagger | None = None,
    enrichment: dict | None = None,
    progress: bool = True,
    segment_articles: int | None = None,
) -> ShardedBuildResult:
    """Build ``articles`` as ``shards`` shard indexes under ``index_dir`` (replacing a
    sharded index of as many shards), then write ``shards.json``. One embedder (and
    the given heads) serve every shard. A shard that gets no article is an empty index.
    """
    config = config or IndexConfig()
    if not articles:
        raise NewsrankError("no articles to index: every input record was skipped or empty")
    directory = Path(index_dir)
    check_layout(directory, shards)
    layout = ShardLayout.new(shards, config)
    start = time.perf_counter()
    embedder = embedder if embedder is not None else load_embedder(config)
    manifests = []
    for path, part in zip(layout.paths(directory), partition(articles, shards)):
        if part:
            result: BuildResult = build_index(
                part,
                path,
                config,
                skipped=skipped,
                embedder=embedder,
                classifier=classifier,
                tagger=tagger,
                enrichment=enrichment,
                progress=progress,
                segment_articles=segment_articles,
            )
            manifests.append(result.manifest)
        else:  # an empty shard: a commit without segments, the same settings
            with IndexWriter(
                path,
                config,
                embedder=embedder,
                classifier=classifier,
                tagger=tagger,
                enrichment=enrichment,
                replace=True,
            ) as writer:
                manifests.append(writer.commit(skipped=skipped, progress={}))
    layout.write(directory)
    seconds = round(time.perf_counter() - start, 3)
    return ShardedBuildResult(directory.resolve(), layout, manifests, seconds)
