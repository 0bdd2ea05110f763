"""Build an index directory from articles, and swap it in only when it is complete.

The directory holds ``manifest.json``, ``store.sqlite`` (articles, passages),
``bm25/`` (bm25s arrays and JSON) and ``dense.faiss``. A build writes everything
into a temporary sibling directory; only when every file is written does it
replace the old index (rename old aside, rename new in, delete old). A crash
leaves the previous index in place; if it strikes between the two renames, the
next build restores the set-aside copy (a reader opens it read-only meanwhile).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from tqdm.auto import tqdm

from indexer.article import Article
from indexer.dense import DenseIndex, Embedder, choose_kind
from indexer.enrich import enrich
from indexer.faults import pause_point
from indexer.lexical import BM25Index
from indexer.manifest import BM25_DIR, DENSE, STORE, Manifest, aside_path
from indexer.passages import retrieval_text, split_passages
from indexer.store import write_store
from indexer.writelock import WriterLock
from newsrank.config import IndexConfig
from newsrank.errors import IndexWriteError, NewsrankError
from newsrank.protocols import Tagger, TopicClassifier


@dataclass(frozen=True)
class _Enrichers:
    classifier: TopicClassifier | None
    tagger: Tagger | None
    info: dict


@dataclass(frozen=True)
class BuildResult:
    index_dir: Path
    manifest: Manifest

    @property
    def passages_per_second(self) -> float:
        total = sum(self.manifest.timings.values())
        return self.manifest.passages / total if total else 0.0


def restore_interrupted(index_dir: Path) -> None:
    """If a crash struck between the swap's two renames, put the old index back.

    Only the writer calls this (readers open the set-aside copy as it is, see
    :mod:`indexer.reader`).
    """
    aside = aside_path(index_dir)
    if not index_dir.exists() and aside.exists():
        aside.rename(index_dir)


def build_index(
    articles: list[Article],
    index_dir: str | Path,
    config: IndexConfig | None = None,
    *,
    skipped: int = 0,
    embedder: Embedder | None = None,
    classifier: TopicClassifier | None = None,
    tagger: Tagger | None = None,
    enrichment: dict | None = None,
    progress: bool = True,
) -> BuildResult:
    """Index ``articles`` into ``index_dir`` (replacing what is there, atomically).

    With a ``classifier`` and/or ``tagger``, every article is labelled with a topic
    and named entities (see ``indexer.enrich``); ``enrichment`` describes the heads
    for the manifest.
    """
    config = config or IndexConfig()
    if not articles:
        raise NewsrankError("no articles to index: every input record was skipped or empty")
    index_dir = Path(index_dir).resolve()
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    with WriterLock(index_dir):
        restore_interrupted(index_dir)
        _remove_orphans(index_dir)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(index_dir), dir=index_dir.parent))
        except OSError as exc:
            raise _write_error(index_dir, exc) from exc
        try:
            heads = _Enrichers(classifier, tagger, enrichment or {})
            manifest = _write_index(tmp, articles, config, skipped, embedder, heads, progress)
            _fsync_tree(tmp)
            pause_point("written")
            _swap_in(tmp, index_dir)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _write_error(index_dir, exc) from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return BuildResult(index_dir=index_dir, manifest=manifest)


def _tmp_prefix(index_dir: Path) -> str:
    return f".{index_dir.name}.tmp-"


def _remove_orphans(index_dir: Path) -> None:
    """Temporary directories of writers that were killed (only called under the lock)."""
    for orphan in index_dir.parent.glob(_tmp_prefix(index_dir) + "*"):
        shutil.rmtree(orphan, ignore_errors=True)


def _write_error(index_dir: Path, exc: OSError) -> IndexWriteError:
    return IndexWriteError(
        f"could not write the index {index_dir} ({exc.strerror or exc}); nothing was "
        "changed, the old index (if any) is still in place"
    )


def _fsync_tree(directory: Path) -> None:
    """Flush every file of ``directory`` (and the directory entries) to disk, so that the
    swap never publishes an index whose files are still only in the page cache."""
    for path in sorted(directory.rglob("*"), reverse=True):
        flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_index(
    out: Path,
    articles: list[Article],
    config: IndexConfig,
    skipped: int,
    embedder: Embedder | None,
    heads: _Enrichers,
    progress: bool,
) -> Manifest:
    timings: dict[str, float] = {}

    labels = None
    if heads.classifier is not None or heads.tagger is not None:
        t = time.perf_counter()
        labels = enrich(
            articles,
            heads.classifier,
            heads.tagger,
            lead_words=config.lead_words,
            progress=progress,
        )
        timings["enrich"] = time.perf_counter() - t

    t = time.perf_counter()
    spans = [
        split_passages(a.text, config.passage_words, config.passage_overlap)
        for a in tqdm(articles, desc="passages", unit="article", disable=not progress)
    ]
    texts = [
        retrieval_text(a.title, a.text[start:end])
        for a, article_spans in zip(articles, spans)
        for start, end in article_spans
    ]
    timings["split"] = time.perf_counter() - t

    t = time.perf_counter()
    n_articles, n_passages = write_store(out / STORE, articles, spans, labels)
    timings["store"] = time.perf_counter() - t

    t = time.perf_counter()
    bm25 = BM25Index(method=config.bm25_method, k1=config.bm25_k1, b=config.bm25_b)
    bm25.index(texts, show_progress=progress)
    bm25.save(out / BM25_DIR)
    timings["bm25"] = time.perf_counter() - t

    t = time.perf_counter()
    if embedder is None:
        embedder = Embedder(
            config.embedder,
            config.embed_batch_size,
            config.embed_max_length,
            precision=config.embed_precision,
        )
    timings["load_embedder"] = time.perf_counter() - t
    t = time.perf_counter()
    vectors = embedder.encode(texts, show_progress=progress)
    timings["embed"] = time.perf_counter() - t

    t = time.perf_counter()
    kind = choose_kind(config.dense_kind, n_passages, config.ann_threshold)
    dense = DenseIndex(kind=kind, hnsw_m=config.hnsw_m)
    dense.index(vectors)
    dense.save(out / DENSE)
    timings["faiss"] = time.perf_counter() - t

    manifest = Manifest(
        embedder=config.embedder,
        embedding_dim=embedder.dim,
        dense_kind=kind,
        articles=n_articles,
        passages=n_passages,
        skipped=skipped,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        settings=dataclasses.asdict(config),
        timings={k: round(v, 3) for k, v in timings.items()},
        enrichment={**heads.info, "lead_words": config.lead_words} if labels is not None else {},
        embedder_dtype=str(getattr(embedder, "precision", "fp32")),
    )
    manifest.write(out)  # written last: a directory without it is not an index
    return manifest


def _swap_in(tmp: Path, index_dir: Path) -> None:
    aside = aside_path(index_dir)
    if aside.exists():
        shutil.rmtree(aside)
    if index_dir.exists():
        index_dir.rename(aside)
        pause_point("swapping")
    tmp.rename(index_dir)
    _fsync_dir(index_dir.parent)
    os.chmod(index_dir, 0o755)
    shutil.rmtree(aside, ignore_errors=True)
