"""The searcher: retrieve passages with BM25 and FAISS, fuse, rerank, read.

retrieve (BM25, dense) -> fuse (RRF) -> aggregate to articles -> rerank the top
fused passages with the cross-encoder -> read the best passages for an answer ->
facets over every matching article -> one page of typed results.

Everything heavy (store, BM25 arrays, FAISS index, embedder, heads) is opened once
in the constructor and shared by all threads; ``search`` is safe to call
concurrently. Heads are optional: without them the searcher stops after fusion.

    searcher = Searcher("var/index")
    response = searcher.search(SearchRequest("oil industry during the coronavirus outbreak"))
    for hit in response.results:
        print(hit.title, hit.stages["fused"].rank)
"""

from __future__ import annotations

import copy
import dataclasses
import time
from pathlib import Path

import numpy as np

from indexer.build import restore_interrupted
from indexer.dense import DenseIndex, Embedder
from indexer.fulltext import FullTextEntities
from indexer.ingest import normalize_date
from indexer.lexical import BM25Index, Hits
from indexer.manifest import BM25_DIR, DENSE, STORE, Manifest, read_manifest
from indexer.store import ArticleStore
from newsrank.config import HeadsConfig, IndexConfig, SearchConfig
from newsrank.errors import QueryError
from ranker.fuse import ArticleScore, StageScore, aggregate, article_stage_scores, linear, rrf
from ranker.heads.types import LabelScore
from ranker.read import FoundAnswer, PassageRef, read_answers
from ranker.rerank import rerank_articles, top_passages
from ranker.results import (
    AnswerContext,
    SearchHit,
    SearchRequest,
    SearchResponse,
)
from ranker.snippet import make_snippet


class Searcher:
    """Hybrid search over one index directory, with optional reranker and reader heads."""

    def __init__(
        self,
        index_dir: str | Path,
        config: SearchConfig | None = None,
        embedder: Embedder | None = None,
        reranker: object | None = None,
        reader: object | None = None,
        heads: HeadsConfig | None = None,
        fulltext: FullTextEntities | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        #: lazily tagged full-text entities (``indexer.fulltext``); None: lead only
        self.fulltext = fulltext
        self.config = config or SearchConfig()
        self.heads = heads or HeadsConfig()
        self.reranker, self.reader = reranker, reader
        restore_interrupted(self.index_dir.resolve())
        self.manifest: Manifest = read_manifest(self.index_dir)
        self.store = ArticleStore(self.index_dir / STORE)
        self.bm25 = BM25Index.load(self.index_dir / BM25_DIR)
        self.dense = DenseIndex.load(self.index_dir / DENSE, ef_search=self.config.hnsw_ef_search)
        index_settings = IndexConfig(**self.manifest.settings)
        self.embedder = embedder or Embedder(
            self.manifest.embedder,
            max_length=index_settings.embed_max_length,
            precision=index_settings.embed_precision,
        )
        if self.embedder.dim != self.manifest.embedding_dim:
            raise QueryError(
                f"embedder {self.embedder.model_name!r} gives {self.embedder.dim}-d vectors but "
                f"the index holds {self.manifest.embedding_dim}-d ones; "
                f"use {self.manifest.embedder!r}"
            )

    def with_config(
        self,
        config: SearchConfig | None = None,
        heads: HeadsConfig | None = None,
        reranker: object | None = ...,  # type: ignore[assignment]
        reader: object | None = ...,  # type: ignore[assignment]
    ) -> Searcher:
        """A searcher sharing this one's loaded index and models, with other settings.

        The copy is shallow: store, indexes, embedder and heads are shared, not
        reloaded. Pass ``reranker=None`` or ``reader=None`` to switch a stage off.
        """
        clone = copy.copy(self)
        clone.config = config or self.config
        clone.heads = heads or self.heads
        if reranker is not ...:
            clone.reranker = reranker
        if reader is not ...:
            clone.reader = reader
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
        return dataclasses.replace(request, query=query, date_from=dates[0], date_to=dates[1])

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
        per_stage["fused"] = {a.article: StageScore(r, a.score) for r, a in enumerate(ranked, 1)}
        timings["fuse"] = _ms(t)

        if self.reranker is not None and self.heads.rerank_depth > 0 and ranked:
            t = time.perf_counter()
            ranked, per_stage["rerank"] = self._rerank(request.query, fused, ranked)
            timings["rerank"] = _ms(t)

        answers: list[FoundAnswer] = []
        if self.reader is not None and self.heads.read_top > 0 and ranked:
            t = time.perf_counter()
            answers = self._read(request.query, ranked[: self.heads.read_top])
            timings["read"] = _ms(t)

        t = time.perf_counter()
        facets = self.store.facet_counts([a.article for a in ranked])
        first = (request.page - 1) * request.k
        page = ranked[first : first + request.k]
        results = self._hits(request.query, page, per_stage, answers)
        timings["render"] = _ms(t)
        return SearchResponse(
            request.query,
            results,
            len(ranked),
            request.page,
            request.k,
            timings,
            answers=answers,
            facets=facets,
        )

    def _passage_mask(self, request: SearchRequest) -> np.ndarray | None:
        mask = self.store.article_mask(
            request.sources, request.date_from, request.date_to, request.topics, request.entities
        )
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

    def _rerank(
        self, query: str, fused: dict[int, float], ranked: list[ArticleScore]
    ) -> tuple[list[ArticleScore], dict[int, StageScore]]:
        pids = top_passages(fused, self.heads.rerank_depth)
        texts = self._passages_for_model(pids)
        scores = dict(zip(pids, map(float, self.reranker.predict([(query, t) for t in texts]))))
        reranked = rerank_articles(
            ranked, scores, self.store.passage_article, self.heads.rerank_weight
        )
        best = {a.article: a.score for a in aggregate(scores, self.store.passage_article)}
        # the stage keeps the cross-encoder's own score; its rank is the reranked order
        stage = {
            a.article: StageScore(r, best[a.article])
            for r, a in enumerate(reranked[: len(best)], 1)
        }
        return reranked, stage

    def _passages_for_model(self, pids: list[int]) -> list[str]:
        """``"title. passage"`` for each passage, with one store query for all of them."""
        nums = [int(self.store.passage_article[p]) for p in pids]
        articles = self.store.articles(nums)
        texts = []
        for pid, num in zip(pids, nums):
            start, end = self.store.passage_span(pid)
            texts.append(f"{articles[num].title}. {articles[num].text[start:end]}")
        return texts

    def _read(self, query: str, top: list[ArticleScore]) -> list[FoundAnswer]:
        articles = self.store.articles([a.article for a in top])
        refs = []
        for scored in top:
            article = articles[scored.article]
            start, end = self.store.passage_span(scored.best_passage)
            refs.append(PassageRef(article.id, scored.best_passage, article.text[start:end], start))
        return read_answers(self.reader, query, refs, self.heads.answer_threshold)

    def _hits(
        self,
        query: str,
        page: list[ArticleScore],
        per_stage: dict[str, dict[int, StageScore]],
        answers: list[FoundAnswer],
    ) -> list[SearchHit]:
        nums = [a.article for a in page]
        articles = self.store.articles(nums)
        labels = self.store.labels(nums)
        rest: dict[int, list] = {}
        if self.fulltext is not None:  # entities past the lead: cached, else queued
            rest = self.fulltext.cached(nums, queue_missing=True)
        terms = set(self.bm25.tokenizer(query))
        by_passage = {a.pid: a for a in answers}
        results = []
        for scored in page:
            article = articles[scored.article]
            label = labels[scored.article]
            start, end = self.store.passage_span(scored.best_passage)
            snippet = make_snippet(
                article.text[start:end], terms, self.config.snippet_chars, self._normalize
            )
            answer = by_passage.get(scored.best_passage)
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
                    stages={
                        n: s[scored.article] for n, s in per_stage.items() if scored.article in s
                    },
                    passage=scored.best_passage,
                    topic=LabelScore(label.topic, label.topic_score) if label.topic else None,
                    entities=label.entities + rest.get(scored.article, []),
                    answer=_answer_context(article.text, answer, self.config.snippet_chars),
                )
            )
        return results

    def _normalize(self, word: str) -> str:
        tokens = self.bm25.tokenizer(word)
        return tokens[0] if tokens else ""


def _answer_context(text: str, answer: FoundAnswer | None, width: int) -> AnswerContext | None:
    """A window of about ``width`` characters of ``text`` around the answer, cut at spaces.

    >>> ctx = _answer_context("a b c answer d e f", FoundAnswer("answer", .9, "x", 6, 12, 0), 8)
    >>> ctx.context[ctx.start:ctx.end]
    'answer'
    """
    if answer is None:
        return None
    lo = max(0, answer.start - width // 3)
    hi = min(len(text), max(answer.end + width // 3, lo + width))
    if lo > 0:
        lo = text.find(" ", lo, answer.start) + 1 or lo
    if hi < len(text):
        hi = text.rfind(" ", answer.end, hi) if text.rfind(" ", answer.end, hi) > 0 else hi
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(text) else ""
    shift = len(prefix) - lo
    return AnswerContext(
        prefix + text[lo:hi] + suffix, answer.start + shift, answer.end + shift, answer.score
    )


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
