"""Changes to a sharded index (:mod:`indexer.shards`): one writer per shard, each
article routed to the shard that owns its id. A change that touches several shards is
one commit per shard, not one atomic commit across them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from indexer.article import Article
from indexer.dense import Embedder
from indexer.manifest import Manifest, SegmentEntry, read_manifest
from indexer.shard_commit import summed_manifest
from indexer.shards import load_embedder, read_layout
from indexer.writer import AddResult, DeleteResult, IndexWriter, MergeResult
from newsrank.config import IndexConfig
from newsrank.protocols import Tagger, TopicClassifier


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
