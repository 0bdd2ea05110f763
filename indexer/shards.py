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
index is built.

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

import numpy as np

from indexer.article import Article
from indexer.build import BuildResult, build_index
from indexer.dense import Embedder
from indexer.manifest import MANIFEST, STORE, Manifest, SegmentEntry, fsync_dir, read_manifest
from indexer.reader import IndexReader, commit_stamp
from indexer.segment import read_deletes, read_minhash
from indexer.segment_store import SegmentStore
from indexer.store import StorePart
from indexer.writer import AddResult, DeleteResult, IndexWriter, MergeResult
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


class ShardedWriter:
    """Changes to a sharded index, each article routed to the shard that owns its id.

    One :class:`indexer.writer.IndexWriter` per shard, opened on first use (in shard
    order, so two sharded writers never deadlock), all sharing one embedder and the
    heads that labelled the index. :meth:`commit` commits every shard that changed.
    """

    def __init__(
        self,
        index_dir: str | Path,
        *,
        embedder: Embedder | None = None,
        classifier: TopicClassifier | None = None,
        tagger: Tagger | None = None,
        wait_s: float = 0.0,
        progress: bool = False,
    ) -> None:
        self.directory = Path(index_dir).resolve()
        self.layout = read_layout(self.directory)
        self.embedder = embedder
        self.classifier, self.tagger = classifier, tagger
        self.wait_s, self.progress = wait_s, progress
        self._writers: dict[int, IndexWriter] = {}
        self._changed: set[int] = set()

    def __enter__(self) -> ShardedWriter:
        return self

    @property
    def enrichment(self) -> dict:
        """The heads that labelled the index (every shard's are the same)."""
        return dict(read_manifest(self.layout.paths(self.directory)[0]).enrichment)

    def __exit__(self, *exc: object) -> None:
        self.close()

    def writer(self, shard: int) -> IndexWriter:
        """The open writer of ``shard`` (taking its lock on first use)."""
        if shard not in self._writers:
            if self.embedder is None:
                self.embedder = load_embedder(IndexConfig(**self.layout.settings))
            path = self.layout.paths(self.directory)[shard]
            self._writers[shard] = IndexWriter(
                path,
                embedder=self.embedder,
                classifier=self.classifier,
                tagger=self.tagger,
                wait_s=self.wait_s,
                progress=self.progress,
            ).open()
        return self._writers[shard]

    def _route(self, ids: Sequence[str]) -> dict[int, list[int]]:
        """Positions of ``ids`` by owning shard, shards ascending."""
        routed: dict[int, list[int]] = {}
        for i, article_id in enumerate(ids):
            routed.setdefault(self.layout.owner(article_id), []).append(i)
        return dict(sorted(routed.items()))

    def add(self, articles: Sequence[Article]) -> AddResult:
        """Upsert ``articles``: each goes to its owning shard (where an older version of
        its id is, by construction), as one new segment per shard touched."""
        added, replaced, segments, seconds = [], [], [], 0.0
        for shard, rows in self._route([a.id for a in articles]).items():
            result = self.writer(shard).add([articles[i] for i in rows])
            self._changed.add(shard)
            added += result.added
            replaced += result.replaced
            if result.segment:
                segments.append(f"{self.layout.dirs[shard]}/{result.segment}")
            seconds += result.seconds
        return AddResult(
            added=added, replaced=replaced, segment=",".join(segments), seconds=round(seconds, 3)
        )

    def delete(self, ids: Sequence[str]) -> DeleteResult:
        deleted, unknown = [], []
        for shard, rows in self._route(list(ids)).items():
            result = self.writer(shard).delete([ids[i] for i in rows])
            self._changed.add(shard)
            deleted += result.deleted
            unknown += result.unknown
        return DeleteResult(deleted=deleted, unknown=unknown)

    def commit(self, *, skipped: int | None = None) -> Manifest:
        """Commit every shard that changed (one commit each); all shards' commits
        summed (:func:`summed_manifest`)."""
        for shard in sorted(self._changed):
            self._writers[shard].commit(skipped=skipped)
        self._changed.clear()
        return self.manifest

    def maybe_merge(self) -> MergeResult:
        """The merge policy, on every shard this writer changed."""
        return _summed_merges(
            [self._writers[s].maybe_merge() for s in sorted(self._writers)],
            [self.layout.dirs[s] for s in sorted(self._writers)],
        )

    def merge(self, force: bool = False) -> MergeResult:
        """Merge the segments of every shard (``force``: each into one)."""
        shards = range(self.layout.shards)
        results = [self.writer(s).merge(force=force) for s in shards]
        return _summed_merges(results, list(self.layout.dirs))

    @property
    def manifest(self) -> Manifest:
        """Every shard's newest commit, summed."""
        manifests = []
        for shard, path in enumerate(self.layout.paths(self.directory)):
            writer = self._writers.get(shard)
            held = writer.manifest if writer is not None else None
            manifests.append(held if held is not None else read_manifest(path))
        return summed_manifest(manifests, self.layout.dirs)

    @property
    def segments(self) -> list[SegmentEntry]:
        return list(self.manifest.segments)

    def close(self) -> None:
        """Release every shard's lock; what was not committed is dropped."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


def _summed_merges(results: Sequence[MergeResult], names: Sequence[str]) -> MergeResult:
    return MergeResult(
        merged=[[f"{n}/{s}" for s in group] for r, n in zip(results, names) for group in r.merged],
        into=[f"{n}/{i}" if i else "" for r, n in zip(results, names) for i in r.into],
        dropped_articles=sum(r.dropped_articles for r in results),
        seconds=round(sum(r.seconds for r in results), 3),
    )


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
