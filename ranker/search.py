"""The searcher: retrieve passages with BM25 and FAISS, fuse, aggregate to articles.

Everything heavy (store, BM25 arrays, FAISS index, embedder) is opened once in the
constructor and shared by all threads; ``search`` is safe to call concurrently.

    searcher = Searcher("var/index")
    response = searcher.search(SearchRequest("oil industry during the coronavirus outbreak"))
    for hit in response.results:
        print(hit.title, hit.stages["fused"].rank)
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np

from indexer.build import restore_interrupted
from indexer.dense import DenseIndex, Embedder
from indexer.ingest import normalize_date
from indexer.lexical import BM25Index, Hits
from indexer.manifest import BM25_DIR, DENSE, STORE, Manifest, read_manifest
from indexer.store import ArticleStore
from newsrank.config import IndexConfig, SearchConfig
from newsrank.errors import QueryError
from ranker.fuse import ArticleScore, StageScore, aggregate, article_stage_scores, linear, rrf
from ranker.results import SearchHit, SearchRequest, SearchResponse
from ranker.snippet import make_snippet


class Searcher:
    """Hybrid search over one index directory."""

    def __init__(
        self,
        index_dir: str | Path,
        config: SearchConfig | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.config = config or SearchConfig()
        restore_interrupted(self.index_dir.resolve())
        self.manifest: Manifest = read_manifest(self.index_dir)
        self.store = ArticleStore(self.index_dir / STORE)
        self.bm25 = BM25Index.load(self.index_dir / BM25_DIR)
        self.dense = DenseIndex.load(self.index_dir / DENSE, ef_search=self.config.hnsw_ef_search)
        index_settings = IndexConfig(**self.manifest.settings)
        self.embedder = embedder or Embedder(
            self.manifest.embedder, max_length=index_settings.embed_max_length
        )
        if self.embedder.dim != self.manifest.embedding_dim:
            raise QueryError(
                f"embedder {self.embedder.model_name!r} gives {self.embedder.dim}-d vectors but "
                f"the "
                f"index holds {self.manifest.embedding_dim}-d ones; use {self.manifest.embedder!r}"
            )

    def with_config(self, config: SearchConfig) -> Searcher:
        """A searcher sharing this one's loaded index and models, with other search settings.

        The copy is shallow: store, indexes and embedder are shared, not reloaded.
        """
        clone = copy.copy(self)
        clone.config = config
        return clone

    def validate(self, request: SearchRequest) -> SearchRequest:
        """Return the request with a normalised query and dates, or raise QueryError."""
        query = " ".join(request.query.split())
        if not query:
            raise QueryError("empty query: type some words to search for")
        if len(query) > self.config.max_query_chars:
            raise QueryError(
                f"query is {len(query)} characters long; the limit is {self.config.max_query_chars}"
            )
        if not 1 <= request.k <= self.config.max_k:
            raise QueryError(f"k={request.k}: ask for 1 to {self.config.max_k} results per page")
        if request.page < 1 or request.page * request.k > self.config.max_candidates:
            raise QueryError(
                f"page={request.page}: pages run from 1 while "
                f"page*k <= {self.config.max_candidates}"
            )
        dates = []
        for name, value in (("from", request.date_from), ("to", request.date_to)):
            try:
                dates.append(normalize_date(value) if value else None)
            except ValueError as exc:
                raise QueryError(f"{name} date: {exc}") from exc
        return SearchRequest(query, request.k, request.page, request.sources, *dates)

    def search(self, request: SearchRequest) -> SearchResponse:
        request = self.validate(request)
        timings: dict[str, float] = {}
        passage_mask = self._passage_mask(request)
        depth = min(
            max(self.config.candidates, 3 * request.page * request.k), self.config.max_candidates
        )
        hits = self._retrieve(request.query, depth, passage_mask, timings)

        t = time.perf_counter()
        fused = self._fuse(hits)
        ranked = aggregate(fused, self.store.passage_article)
        per_stage = {
            name: article_stage_scores(h.ids, h.scores, self.store.passage_article)
            for name, h in hits.items()
        }
        timings["fuse"] = _ms(t)

        t = time.perf_counter()
        first = (request.page - 1) * request.k
        page = ranked[first : first + request.k]
        results = self._hits(request.query, page, per_stage, first)
        timings["render"] = _ms(t)
        return SearchResponse(request.query, results, len(ranked), request.page, request.k, timings)

    def _passage_mask(self, request: SearchRequest) -> np.ndarray | None:
        mask = self.store.article_mask(request.sources, request.date_from, request.date_to)
        return None if mask is None else mask[self.store.passage_article]

    def _retrieve(
        self, query: str, depth: int, mask: np.ndarray | None, timings: dict[str, float]
    ) -> dict[str, Hits]:
        hits: dict[str, Hits] = {}
        if "bm25" in self.config.stages:
            t = time.perf_counter()
            hits["bm25"] = self.bm25.retrieve(query, depth, mask)
            timings["bm25"] = _ms(t)
        if "dense" in self.config.stages:
            t = time.perf_counter()
            vector = self.embedder.encode([query])[0]
            timings["embed"] = _ms(t)
            t = time.perf_counter()
            hits["dense"] = self.dense.search(vector, depth, mask)
            timings["dense"] = _ms(t)
        return hits

    def _fuse(self, hits: dict[str, Hits]) -> dict[int, float]:
        if self.config.fusion == "linear":
            weights = dict(zip(("bm25", "dense"), self.config.linear_weights))
            return linear({n: (h.ids, h.scores) for n, h in hits.items()}, weights)
        return rrf({n: h.ids for n, h in hits.items()}, k=self.config.rrf_k)

    def _hits(
        self,
        query: str,
        page: list[ArticleScore],
        per_stage: dict[str, dict[int, StageScore]],
        first: int,
    ) -> list[SearchHit]:
        articles = self.store.articles([a.article for a in page])
        terms = set(self.bm25.tokenizer(query))
        results = []
        for rank, scored in enumerate(page, start=first + 1):
            article = articles[scored.article]
            start, end = self.store.passage_span(scored.best_passage)
            snippet = make_snippet(
                article.text[start:end], terms, self.config.snippet_chars, self._normalize
            )
            stages = {
                name: s[scored.article] for name, s in per_stage.items() if scored.article in s
            }
            stages["fused"] = StageScore(rank, scored.score)
            results.append(
                SearchHit(
                    id=article.id,
                    title=article.title,
                    source=article.source,
                    date=article.date,
                    url=article.url,
                    category=article.category,
                    score=scored.score,
                    snippet=snippet.text,
                    highlights=snippet.highlights,
                    stages=stages,
                    passage=scored.best_passage,
                )
            )
        return results

    def _normalize(self, word: str) -> str:
        tokens = self.bm25.tokenizer(word)
        return tokens[0] if tokens else ""


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
