"""A collection opened for evaluation: indexed once into a cache, its judged queries
chosen, and a searcher opened on the cached index.

The cache directory of a collection is keyed by the corpus file's bytes and the index
settings (:func:`cache_key`), so a second run with the same corpus and settings reuses
the index, also under another collection's name (:func:`cached_twin`); a cached index a
newer indexer cannot read is rebuilt (:func:`open_searcher`). A BEIR document without a
title gets its first :data:`TITLE_WORDS` words as title (the indexer needs one).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from corpora.beir import Collection, corpus_file, is_smart, read_beir, write_beir
from corpora.splits import HALVES, half_of, reranker_validation
from indexer.article import Article
from indexer.build import build_index
from indexer.manifest import MANIFEST
from newsrank.config import IndexConfig, SearchConfig
from newsrank.errors import IndexNotFoundError, NewsrankError
from ranker.request import SearchRequest
from ranker.search import Searcher

log = logging.getLogger(__name__)

TITLE_WORDS = 12


def title_of(title: str, text: str) -> str:
    """The title the indexer gets: the document's, else its first 12 words.

    >>> title_of("", "one two three four five six seven eight nine ten eleven twelve thirteen")
    'one two three four five six seven eight nine ten eleven twelve'
    """
    return title.strip() or " ".join(text.split()[:TITLE_WORDS]) or "(untitled)"


def to_articles(c: Collection) -> list[Article]:
    return [Article(doc_id, title_of(t, x), x) for doc_id, (t, x) in c.corpus.items()]


#: The :class:`IndexConfig` fields BM25 reads at query time only
#: (``BM25Index.with_settings``): they change no stored byte, so they are not part of
#: the cache key, and :func:`open_searcher` scores the cached index with the config's.
QUERY_TIME_SETTINGS = ("bm25_method", "bm25_k1", "bm25_b")


def cache_key(corpus: Path, config: IndexConfig) -> str:
    """SHA-1 of the corpus file's bytes and the index settings that shape the stored
    index (first 16 hex digits; not :data:`QUERY_TIME_SETTINGS`)."""
    h = hashlib.sha1()
    with open(corpus, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    stored = {k: v for k, v in dataclasses.asdict(config).items() if k not in QUERY_TIME_SETTINGS}
    settings = dict(stored, title_words=TITLE_WORDS)
    h.update(json.dumps(settings, sort_keys=True).encode())
    return h.hexdigest()[:16]


def ensure_index(
    collection_dir: str | Path,
    cache: str | Path = "runs/eval-cache",
    config: IndexConfig | None = None,
    embedder: object | None = None,
    progress: bool = True,
) -> tuple[Collection, Path]:
    """Load a collection and index it into ``cache`` unless an identical index is there."""
    config = config or IndexConfig()
    src = Path(collection_dir)
    if is_smart(src):  # convert once; the converted corpus file keys the cache
        converted = Path(cache) / "converted" / src.name.lower()
        write_beir(read_beir(src), converted)
        src = converted
    collection = read_beir(src)
    collection.name = Path(collection_dir).name.lower()
    key = cache_key(corpus_file(src), config)
    index_dir = Path(cache) / f"{collection.name}-{key}"
    if not (index_dir / MANIFEST).is_file():
        twin = cached_twin(cache, key)
        if twin is not None:
            log.info("%s: reusing %s (same corpus and settings)", collection.name, twin)
            return collection, twin
        build_index(
            to_articles(collection), index_dir, config, embedder=embedder, progress=progress
        )
    return collection, index_dir


def cached_twin(cache: str | Path, key: str) -> Path | None:
    """A complete cached index with this :func:`cache_key` under another collection's
    name (the news benchmark's four folders share one corpus), or None."""
    twins = sorted(d for d in Path(cache).glob(f"*-{key}") if (d / MANIFEST).is_file())
    return twins[0] if twins else None


@dataclass
class EvalSet:
    """A collection opened for evaluation: its cached index, the index settings and
    embedder that built it, and the judged queries to ask (of ``split``)."""

    collection: Collection
    index_dir: Path
    index_config: IndexConfig
    embedder: object
    judged: list[str]

    @property
    def queries(self) -> dict[str, str]:
        """The judged queries to ask: id -> text, in file order."""
        return {q: self.collection.queries[q] for q in self.judged}

    @property
    def qrels(self) -> dict[str, dict[str, int]]:
        """The judgments of the judged queries: id -> document id -> grade."""
        return {q: self.collection.qrels[q] for q in self.judged}


def search_config(depth: int = 100, **settings: object) -> SearchConfig:
    """The product's search settings as an evaluation asks them: queries of any length
    (SciFact claims, CRAN's questions run long) and ``depth`` results; ``settings``
    override others (``rrf_weights``...)."""
    return SearchConfig(max_query_chars=100_000, max_k=max(depth, 10), **settings)  # type: ignore[arg-type]


def open_eval_set(
    collection_dir: str | Path,
    cache: str | Path = "runs/eval-cache",
    *,
    precision: str = "auto",
    embedder: object | None = None,
    embedder_name: str | None = None,
    split: str = "test",
    sample: int | None = None,
    seed: int = 13,
    half: str | None = None,
    max_queries: int | None = None,
    progress: bool = True,
) -> EvalSet:
    """Index ``collection_dir`` into ``cache`` (or reuse it) and choose its queries.

    ``embedder`` (an object with the Embedder interface) or ``embedder_name`` (an
    embedder head or sentence-transformers model; default the product's
    ``IndexConfig.embedder``) embeds the passages, at ``precision``. ``split`` names the
    queries and judgments read (the corpus is the same); ``sample`` keeps the
    reranker-validation sample of that size (:func:`corpora.splits.reranker_validation`),
    ``half`` (``"dev"`` / ``"test"``) the queries of that half (:func:`corpora.splits.half_of`),
    ``max_queries`` the first ones. Raises :class:`NewsrankError` when no query is judged.
    """
    if half is not None and half not in HALVES:
        raise NewsrankError(f"half={half!r}: choose one of {', '.join(HALVES)}, or none")
    index_config = IndexConfig(embed_precision=precision)
    if embedder is None:
        from indexer.dense import Embedder

        embedder = Embedder(embedder_name or index_config.embedder, precision=precision)
        # a query-side head keeps its backbone's passage vectors: the cached index of the
        # backbone is the right one (and is keyed and recorded as the backbone's)
        index_config = dataclasses.replace(index_config, embedder=embedder.passage_model)
    collection, index_dir = ensure_index(
        collection_dir, cache, index_config, embedder=embedder, progress=progress
    )
    if split != "test":
        collection = read_beir(collection_dir, split)
        collection.name = Path(collection_dir).name.lower()
    judged = collection.judged
    if sample:
        judged = reranker_validation(list(collection.qrels), set(judged), sample, seed)
    if half is not None:
        judged = [q for q in judged if half_of(q) == half]
    judged = judged[:max_queries] if max_queries else judged
    if not judged:
        raise NewsrankError(f"{collection_dir}: no query has a relevant document in the qrels")
    return EvalSet(collection, index_dir, index_config, embedder, list(judged))


def open_searcher(opened: EvalSet, config: SearchConfig, *, progress: bool = True) -> Searcher:
    """A searcher with ``config`` on the evaluation set's cached index, its BM25 scored
    with the set's index settings (a cache entry built under other
    :data:`QUERY_TIME_SETTINGS` is reused); an index a newer indexer cannot read is
    rebuilt first (with the set's index settings and embedder)."""
    index_dir, embedder = opened.index_dir, opened.embedder
    try:
        searcher = Searcher.open(index_dir, config=config, embedder=embedder)
        searcher.search(SearchRequest("probe", k=1))
        return scored_as(searcher, opened.index_config)
    except (sqlite3.Error, IndexNotFoundError, KeyError) as exc:
        log.warning("cached index %s is stale (%s); rebuilding it", index_dir, exc)
    build_index(
        to_articles(opened.collection),
        index_dir,
        opened.index_config,
        embedder=embedder,
        progress=progress,
    )
    return Searcher.open(index_dir, config=config, embedder=embedder)


def scored_as(searcher: Searcher, config: IndexConfig) -> Searcher:
    """``searcher`` with its index's BM25 viewed at ``config``'s query-time settings
    (itself when they are the index's own), its other settings and heads kept."""
    bm25 = searcher.index.bm25
    wanted = config.bm25_settings()
    if all(bm25.settings()[k] == v for k, v in wanted.items()):
        return searcher
    return searcher.configured(index=searcher.index.with_bm25(**wanted))
