"""The index writer: the one process that changes an index, segment by segment.

Lucene's design, on newsrank's parts (see docs/live-index.md):

- **add** (upsert) writes the new articles as a new immutable segment (only they are
  labelled and embedded) and marks older versions of the same ids deleted;
- **delete** marks articles deleted; nothing is rewritten;
- **commit** writes each changed segment's new deletion marker, flushes it, and then
  switches ``manifest.json`` (the commit point) atomically. Nothing a writer does is
  visible, or durable, before its commit; everything is, after it;
- **merge** copies the live rows of several segments into one new segment (no
  embedding, no labelling) and commits it in their place; a merge policy
  (:mod:`indexer.merge_policy`, Lucene's log merge policy by default) picks what to merge
  after each commit, ``merge(force=True)`` compacts everything.

One writer at a time: :class:`indexer.writelock.WriterLock` (a second writer waits up
to ``wait_s`` seconds, then gets :class:`IndexLockedError`). Readers never take the
lock and never block: they read whole commits. Files a commit no longer names are
*retired*, not deleted: a reader may still be searching the commit before (a server
reopens within a second or two), so they are removed by a later writer once they
have been retired for ``grace_s`` seconds. Anything no commit ever named (a killed
writer's partial segment, its temporary manifest) is an orphan, removed as soon as
the next writer opens the index.

    with IndexWriter("var/index", embedder=embedder) as writer:
        writer.add([Article("a1", "Oil falls", "Prices dropped.")])
        writer.delete(["old-id"])
        writer.commit()
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from indexer.analysis import Tokenizer
from indexer.article import Article
from indexer.dense import Embedder, choose_kind
from indexer.duplicates import signatures
from indexer.enrich import enrich
from indexer.faults import pause_point
from indexer.file_deleter import remove, remove_expired, remove_old_format, remove_orphans
from indexer.manifest import (
    MANIFEST,
    STORE,
    Manifest,
    SegmentEntry,
    read_format,
    read_manifest,
)
from indexer.merge_policy import LogMergePolicy, MergePolicy
from indexer.passages import article_passages
from indexer.postings import Postings
from indexer.segment import (
    SegmentData,
    SegmentReader,
    concat_data,
    deletes_name,
    read_deletes,
    segment_name,
    write_deletes,
    write_segment,
)
from indexer.segment_store import SegmentStore
from indexer.writelock import WriterLock
from newsrank.config import IndexConfig
from newsrank.errors import IndexMismatchError, IndexWriteError, NewsrankError
from newsrank.protocols import Tagger, TopicClassifier

#: seconds a retired file is kept for readers still on an older commit
GRACE_S = 60.0


@dataclass(frozen=True)
class AddResult:
    added: list[str]  # ids new to the index
    replaced: list[str]  # ids whose older version was deleted
    segment: str | None  # the new segment (None: nothing to add)
    seconds: float = 0.0


@dataclass(frozen=True)
class DeleteResult:
    deleted: list[str]
    unknown: list[str]  # ids the index does not hold (or already deleted)


@dataclass(frozen=True)
class MergeResult:
    merged: list[list[str]]  # the groups of segments merged
    into: list[str]  # the segment each group became ("" for a group with nothing live)
    dropped_articles: int  # deleted rows the merge removed for good
    seconds: float


@dataclass
class _Pending:
    """What the writer has done since the last commit."""

    segments: list[SegmentEntry]
    deleted: dict[str, set[int]] = field(default_factory=dict)  # rows, by segment
    changed: set[str] = field(default_factory=set)  # segments with new deletions
    dropped: list[str] = field(default_factory=list)  # segments a merge or build replaced
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, summed


class IndexWriter:
    """The writer of one index directory (creating it on first commit).

    ``config``: the settings of a *new* index (or of a ``replace``); an existing index
    keeps the settings it was created with. ``embedder``, ``classifier``, ``tagger``:
    loaded models to use (the embedder is loaded from the settings when first needed;
    an enriched index must be given the heads that labelled it). ``replace``: the next
    commit holds only what this writer adds (``newsrank index build``).
    """

    def __init__(
        self,
        index_dir: str | Path,
        config: IndexConfig | None = None,
        *,
        embedder: Embedder | None = None,
        classifier: TopicClassifier | None = None,
        tagger: Tagger | None = None,
        enrichment: dict | None = None,
        replace: bool = False,
        wait_s: float = 0.0,
        progress: bool = False,
        merge_policy: MergePolicy | None = None,
        grace_s: float = GRACE_S,
    ) -> None:
        self.directory = Path(index_dir).resolve()
        self._config_arg = config
        self.embedder = embedder
        self.classifier, self.tagger = classifier, tagger
        self._enrichment_arg = enrichment
        self.replace = replace
        self.progress = progress
        self.merge_policy = merge_policy or LogMergePolicy()
        self.grace_s = grace_s
        self._lock = WriterLock(self.directory, wait_s=wait_s)
        self._open = False

    # -- life cycle

    def __enter__(self) -> IndexWriter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> IndexWriter:
        """Take the lock, read the last commit and remove what killed writers left."""
        self._lock.acquire()
        try:
            self._read_commit()
            remove_orphans(self.directory, self.manifest, self._retired)
        except BaseException:
            self._lock.release()
            raise
        self._open = True
        return self

    def close(self) -> None:
        """Release the lock; what was not committed is dropped (its files are orphans)."""
        self._open = False
        self._lock.release()

    def _read_commit(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        version = read_format(self.directory)
        if (self.directory / MANIFEST).exists() and version is None and not self.replace:
            raise IndexWriteError(
                f"{self.directory / MANIFEST} is unreadable; rebuild the index with "
                "`newsrank index build`"
            )
        if version is not None and version != 2 and not self.replace:
            raise IndexWriteError(
                f"{self.directory} holds an index of format {version}, which cannot take "
                "changes; rebuild it once with `newsrank index build`"
            )
        self.manifest: Manifest | None = read_manifest(self.directory) if version == 2 else None
        if self.manifest is not None and not self.replace:
            self.config = IndexConfig(**self.manifest.settings)
            self.enrichment = dict(self.manifest.enrichment)
        else:
            self.config = self._config_arg or IndexConfig()
            self.enrichment = (
                {**self._enrichment_arg, "lead_words": self.config.lead_words}
                if self._enrichment_arg is not None
                and (self.classifier is not None or self.tagger is not None)
                else {}
            )
        old = list(self.manifest.segments) if self.manifest is not None else []
        self._next = self.manifest.next_segment if self.manifest is not None else 0
        self._retired = dict(self.manifest.retired) if self.manifest is not None else {}
        self._stores: dict[str, SegmentStore] = {}
        if self.replace:
            self._pending = _Pending(segments=[], dropped=[s.name for s in old])
        else:
            self._pending = _Pending(segments=old)

    def _check_open(self) -> None:
        if not self._open:
            raise NewsrankError("the index writer is not open: use `with IndexWriter(...)`")

    @property
    def segments(self) -> list[SegmentEntry]:
        """The segments as the next commit will name them (deletions not yet counted)."""
        return list(self._pending.segments)

    # -- reading the segments this writer holds

    def _store(self, name: str) -> SegmentStore:
        if name not in self._stores:
            self._stores[name] = SegmentStore(self.directory / name / STORE)
        return self._stores[name]

    def _deleted(self, entry: SegmentEntry) -> set[int]:
        if entry.name not in self._pending.deleted:
            rows = read_deletes(self.directory / entry.name, entry)
            self._pending.deleted[entry.name] = {int(r) for r in rows}
        return self._pending.deleted[entry.name]

    def _delete_live(self, ids: Sequence[str]) -> set[str]:
        """Mark every live row with one of ``ids`` deleted; return the ids found."""
        found: set[str] = set()
        for entry in self._pending.segments:
            rows = self._store(entry.name).nums_of(ids)
            deleted = self._deleted(entry)
            for article_id, row in rows.items():
                if row not in deleted:
                    deleted.add(row)
                    self._pending.changed.add(entry.name)
                    found.add(article_id)
        return found

    # -- changes

    def add(self, articles: Sequence[Article]) -> AddResult:
        """Upsert ``articles`` as one new segment: an id the index holds is replaced (its
        old version deleted). Within ``articles`` an id may appear once."""
        self._check_open()
        start = time.perf_counter()
        articles = list(articles)
        if not articles:
            return AddResult([], [], None)
        ids = [a.id for a in articles]
        if len(set(ids)) != len(ids):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise NewsrankError(f"ids given twice in one add: {twice[:5]}; give each once")
        if self.enrichment and self.classifier is None and self.tagger is None:
            raise NewsrankError(
                f"{self.directory} is labelled by the heads {self.enrichment}; give the "
                "writer those heads (classifier=, tagger=) so new articles are labelled too"
            )
        replaced = self._delete_live(ids)
        data = self._segment_data(articles)
        name = segment_name(self._next)
        self._next += 1
        entry = self._write_segment(name, data, self._pending.timings)
        pause_point("segment-written")
        self._pending.segments.append(entry)
        seconds = time.perf_counter() - start
        added = [i for i in ids if i not in replaced]
        return AddResult(added, sorted(replaced), name, round(seconds, 3))

    def delete(self, ids: Sequence[str]) -> DeleteResult:
        """Mark the articles with these ids deleted (ids not in the index are listed as
        unknown, not an error)."""
        self._check_open()
        ids = list(dict.fromkeys(ids))
        found = self._delete_live(ids)
        return DeleteResult([i for i in ids if i in found], [i for i in ids if i not in found])

    def _segment_data(self, articles: list[Article]) -> SegmentData:
        timings: dict[str, float] = {}
        config = self.config
        labels = None
        if self.enrichment:
            t = time.perf_counter()
            labels = enrich(
                articles,
                self.classifier,
                self.tagger,
                lead_words=int(self.enrichment.get("lead_words", config.lead_words)),
                progress=self.progress,
            )
            timings["enrich"] = time.perf_counter() - t
        t = time.perf_counter()
        spans, texts = article_passages(articles, config)
        timings["split"] = time.perf_counter() - t
        t = time.perf_counter()
        tokenizer = Tokenizer()
        postings = Postings.from_tokens([tokenizer(x) for x in texts])
        timings["bm25"] = time.perf_counter() - t  # the postings; saving them is added
        embedder = self._embedder()
        t = time.perf_counter()
        vectors = embedder.encode(texts, show_progress=self.progress)
        timings["embed"] = time.perf_counter() - t
        t = time.perf_counter()
        minhash = signatures(a.text for a in articles)  # near-duplicate signatures
        timings["minhash"] = time.perf_counter() - t
        for stage, seconds in timings.items():  # every add since the last commit
            self._pending.timings[stage] = self._pending.timings.get(stage, 0.0) + seconds
        return SegmentData(articles, spans, labels, postings, vectors, minhash)

    def _write_segment(
        self, name: str, data: SegmentData, timings: dict[str, float] | None = None
    ) -> SegmentEntry:
        """Write a new segment; on failure remove what was written and say why."""
        try:
            return write_segment(
                self.directory / name,
                data,
                dense_kind=choose_kind(
                    self.config.dense_kind, data.n_passages, self.config.ann_threshold
                ),
                hnsw_m=self.config.hnsw_m,
                timings=timings,
            )
        except BaseException as exc:
            remove(self.directory / name)
            if isinstance(exc, OSError):
                raise self._write_error(exc) from exc
            raise

    def _write_error(self, exc: OSError) -> IndexWriteError:
        return IndexWriteError(
            f"could not write the index {self.directory} ({exc.strerror or exc}); nothing "
            "was committed, the last commit is still in place"
        )

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            t = time.perf_counter()
            self.embedder = Embedder(
                self.config.embedder,
                self.config.embed_batch_size,
                self.config.embed_max_length,
                precision=self.config.embed_precision,
            )
            self._pending.timings["load_embedder"] = time.perf_counter() - t
        dim = getattr(self.embedder, "dim", None)
        if self.manifest is not None and not self.replace and dim != self.manifest.embedding_dim:
            raise IndexMismatchError(
                f"embedder gives {dim}-d vectors but {self.directory} holds "
                f"{self.manifest.embedding_dim}-d ones; use {self.manifest.embedder!r}"
            )
        return self.embedder

    # -- commit

    def commit(self, *, skipped: int | None = None, progress: dict | None = None) -> Manifest:
        """Make every change so far durable and visible, atomically; returns the commit.

        ``skipped``: bad input records to report in the manifest; ``progress``: a build
        that is still adding, ``{"done": articles, "total": articles}`` (``{}``: done).
        """
        self._check_open()
        now = time.time()
        pending = self._pending
        generation = (self.manifest.generation if self.manifest is not None else 0) + 1
        segments: list[SegmentEntry] = []
        for entry in pending.segments:
            if entry.name in pending.changed:
                rows = sorted(self._deleted(entry))
                if len(rows) == entry.articles:  # nothing live: the segment goes
                    pending.dropped.append(entry.name)
                    continue
                marker = deletes_name(generation)
                try:
                    write_deletes(self.directory / entry.name / marker, rows)
                except OSError as exc:
                    raise self._write_error(exc) from exc
                if entry.deletes:
                    self._retired[f"{entry.name}/{entry.deletes}"] = now
                passages = self._store(entry.name).passages_of(rows)
                entry = dataclasses.replace(
                    entry, deleted=len(rows), deleted_passages=passages, deletes=marker
                )
            segments.append(entry)
        for name in pending.dropped:
            self._retired[name] = now
        remove_expired(self.directory, self._retired, self.grace_s, now)
        manifest = self._manifest(generation, segments, skipped, progress)
        pause_point("before-commit")
        try:
            manifest.write(self.directory)
        except OSError as exc:
            for leftover in self.directory.glob(f"{MANIFEST}.tmp-*"):
                remove(leftover)
            raise self._write_error(exc) from exc
        self.manifest = manifest
        self.replace = False
        self._pending = _Pending(segments=list(segments))
        if generation == 1:  # a format-1 index this commit replaced
            remove_old_format(self.directory)
        return manifest

    def _manifest(
        self,
        generation: int,
        segments: list[SegmentEntry],
        skipped: int | None,
        progress: dict | None,
    ) -> Manifest:
        previous = self.manifest if not self.replace else None
        embedder_name = self.config.embedder
        dim = getattr(self.embedder, "dim", None) or (
            self.manifest.embedding_dim if self.manifest is not None else 0
        )
        dtype = (
            str(getattr(self.embedder, "precision", "fp32"))
            if self.embedder is not None
            else (previous.embedder_dtype if previous is not None else "")
        )
        largest = max(segments, key=lambda s: s.passages, default=None)
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return Manifest(
            embedder=embedder_name,
            embedding_dim=int(dim),
            dense_kind=largest.dense_kind if largest is not None else "flat",
            articles=sum(s.live_articles for s in segments),
            passages=sum(s.live_passages for s in segments),
            skipped=(skipped if skipped is not None else (previous.skipped if previous else 0)),
            created=previous.created if previous is not None else stamp,
            settings=dataclasses.asdict(self.config),
            timings=(
                {k: round(v, 3) for k, v in self._pending.timings.items()}
                if self._pending.timings or previous is None
                else previous.timings  # a commit of deletions or a merge: keep the last add's
            ),
            enrichment=self.enrichment,
            embedder_dtype=dtype,
            generation=generation,
            segments=tuple(segments),
            next_segment=self._next,
            retired=dict(self._retired),
            updated=stamp,
            progress=progress or {},
        )

    # -- merges

    def merge(self, force: bool = False) -> MergeResult:
        """Merge what the policy selects (``force``: everything into one segment, deleted
        rows dropped) and commit, if there was anything to merge. Uncommitted changes
        are committed first."""
        self._check_open()
        start = time.perf_counter()
        if self._has_changes():
            self.commit()
        segments = self._pending.segments
        if force:
            needed = len(segments) > 1 or any(s.deleted for s in segments)
            groups = [[s.name for s in segments]] if needed else []
        else:
            groups = self.merge_policy.select(segments)
        if not groups:
            return MergeResult([], [], 0, 0.0)
        into: list[str] = []
        dropped = 0
        by_name = {s.name: s for s in segments}
        for group in groups:
            entries = [by_name[n] for n in group]
            dropped += sum(e.deleted for e in entries)
            merged = self._merge_group(entries)
            into.append(merged.name if merged is not None else "")
            position = segments.index(entries[0])
            segments = [s for s in segments if s.name not in group]
            if merged is not None:
                segments.insert(position, merged)
            self._pending.dropped.extend(group)
        self._pending.segments = segments
        self.commit()
        return MergeResult(groups, into, dropped, round(time.perf_counter() - start, 3))

    def maybe_merge(self) -> MergeResult:
        """Merge what the merge policy selects (what the CLI does after each commit)."""
        return self.merge(force=False)

    def _merge_group(self, entries: list[SegmentEntry]) -> SegmentEntry | None:
        """Write the live rows of ``entries`` as one new segment (None: nothing live)."""
        parts = []
        for entry in entries:
            reader = SegmentReader.open(self.directory / entry.name)
            parts.append(reader.live_data(np.array(sorted(self._deleted(entry)), np.int64)))
        data = concat_data(parts)
        if not data.articles:
            return None
        name = segment_name(self._next)
        self._next += 1
        entry = self._write_segment(name, data)
        pause_point("merge-written")
        return entry

    def _has_changes(self) -> bool:
        p = self._pending
        committed = [s.name for s in self.manifest.segments] if self.manifest else []
        return bool(p.changed or p.dropped or [s.name for s in p.segments] != committed)

    # -- files no commit needs

    def collect(self) -> list[str]:
        """Remove the retired files whose grace period is over, and commit their removal
        from the manifest's list (a new generation with the same segments); returns what
        was removed. Writers do this on every commit anyway; this is for an index that
        will see no writer for a while (the end of a progressive build)."""
        self._check_open()
        removed = sorted(remove_expired(self.directory, self._retired, self.grace_s, time.time()))
        if removed:
            self.commit()
        return removed
