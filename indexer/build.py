"""Build an index from articles: a writer that replaces everything in one commit.

``build_index`` writes the articles as new segments (one, unless ``segment_articles``
asks for several) and commits them in place of whatever the directory held, so a
reader keeps the old index until the new one is complete, and a build killed at any
point leaves the old index in place (its partial segments are removed by the next
writer). With ``commit_every`` each segment is committed as soon as it is written,
so that a first build is searchable before it is finished (``make demo``); the
commit's ``progress`` says how far it is.

The result is the same kind of index that ``newsrank index add`` changes: see
:mod:`indexer.writer`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from indexer.article import Article
from indexer.dense import Embedder
from indexer.manifest import Manifest
from indexer.writer import IndexWriter
from newsrank.config import IndexConfig
from newsrank.errors import IndexWriteError, NewsrankError
from newsrank.protocols import Tagger, TopicClassifier


@dataclass(frozen=True)
class BuildResult:
    index_dir: Path
    manifest: Manifest
    seconds: float = 0.0

    @property
    def passages_per_second(self) -> float:
        return self.manifest.passages / self.seconds if self.seconds else 0.0


def build_index(
    articles: Sequence[Article],
    index_dir: str | Path,
    config: IndexConfig | None = None,
    *,
    skipped: int = 0,
    embedder: Embedder | None = None,
    classifier: TopicClassifier | None = None,
    tagger: Tagger | None = None,
    enrichment: dict | None = None,
    progress: bool = True,
    segment_articles: int | None = None,
    commit_every: bool = False,
    on_commit: Callable[[Manifest], None] | None = None,
    resume: bool = False,
    total: int | None = None,
) -> BuildResult:
    """Index ``articles`` into ``index_dir``, replacing what is there.

    With a ``classifier`` and/or ``tagger``, every article is labelled with a topic
    and named entities (see ``indexer.enrich``); ``enrichment`` describes the heads
    for the manifest. ``segment_articles``: articles per segment (default: all in one);
    ``commit_every``: commit after each segment (else once, at the end); ``resume``:
    add to the index a killed progressive build left (instead of replacing it), whose
    ``total`` articles (default: these) the progress counts.
    """
    config = config or IndexConfig()
    if not articles:
        raise NewsrankError("no articles to index: every input record was skipped or empty")
    size = segment_articles or len(articles)
    if size < 1:
        raise ValueError(f"segment_articles={segment_articles}: give at least 1")
    start = time.perf_counter()
    writer = IndexWriter(
        index_dir,
        config,
        embedder=embedder,
        classifier=classifier,
        tagger=tagger,
        enrichment=enrichment,
        replace=not resume,
        progress=progress and size == len(articles),
    )
    total = total or len(articles)
    before = total - len(articles)
    try:
        with writer:
            manifest = None
            chunks = range(0, len(articles), size)
            for first in tqdm(chunks, desc="segments", disable=not progress or len(chunks) < 2):
                writer.add(articles[first : first + size])
                done = before + min(first + size, len(articles))
                if commit_every and done < total:
                    manifest = writer.commit(
                        skipped=skipped, progress={"done": done, "total": total}
                    )
                    if on_commit is not None:
                        on_commit(manifest)
            manifest = writer.commit(skipped=skipped, progress={})
            if on_commit is not None:
                on_commit(manifest)
            if commit_every:
                writer.maybe_merge()
                manifest = writer.manifest or manifest
        seconds = round(time.perf_counter() - start, 3)  # the build, not the wait below
        if commit_every and manifest.retired:
            # the segments the merges replaced: removed once no server can be reading
            # them, rather than left for whichever writer comes next
            time.sleep(writer.grace_s)
            with IndexWriter(index_dir, wait_s=60) as cleaner:
                cleaner.collect()
                manifest = cleaner.manifest or manifest
    except OSError as exc:
        raise IndexWriteError(
            f"could not write the index {index_dir} ({exc.strerror or exc}); nothing was "
            "committed, the old index (if any) is still in place"
        ) from exc
    return BuildResult(Path(index_dir).resolve(), manifest, seconds)
