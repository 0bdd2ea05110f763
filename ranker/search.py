"""The searcher: a thin orchestrator over the search stages.

validate -> retrieve (BM25, dense; :mod:`ranker.retrieve`) -> fuse (:mod:`ranker.fuse`)
-> rerank the top articles (:mod:`ranker.rerank`) -> the freshness boost, when asked
for (:mod:`ranker.order`) -> one entry per story (near-duplicates under the best-ranked
one, unless ``collapse=False``; :mod:`ranker.collapse`) -> read the best passages for
an answer (:mod:`ranker.read`) -> facets over every matching story (:mod:`ranker.facets`)
-> newest first, when asked for (:mod:`ranker.order`) -> render one page (:mod:`ranker.render`).

The index is opened once (:class:`indexer.reader.IndexReader`) and shared; a
searcher holds no state of its own past its settings, so ``search`` is safe to call
from several threads, and several searchers (other settings, other heads) can share
one open index and embedder without reloading anything. Heads are optional: without
them the searcher stops after fusion.

    searcher = Searcher.open("var/index", reranker=CrossEncoder("reranker"))
    response = searcher.search(SearchRequest("oil industry during the coronavirus outbreak"))
    for hit in response.results:
        print(hit.title, hit.stages["fused"].rank)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.fulltext import FullTextEntities
from indexer.manifest import Manifest
from indexer.reader import IndexReader
from indexer.store import ArticleStore
from newsrank.config import HeadsConfig, SearchConfig
from newsrank.protocols import PairScorer, QuestionAnswerer
from ranker.budget import Budget, StageCosts
from ranker.collapse import Collapsed, collapse
from ranker.facets import facet_counts
from ranker.fuse import fuse
from ranker.order import order_by_date, recency_boost
from ranker.ranking import Ranking, StageScore
from ranker.read import FoundAnswer, PassageRef, ReadStage, read_answers
from ranker.render import Renderer
from ranker.request import SearchRequest, validate_request
from ranker.rerank import RerankStage
from ranker.results import SearchResponse
from ranker.retrieve import QueryEncoder, Retriever, ms_since
from ranker.sharded import ShardedIndex, ShardedRetriever, ShardTally
from ranker.suggest import Suggester, ready_suggester, suggester_for

_KEEP = object()  # "keep this searcher's head" in :meth:`Searcher.configured`


class Searcher:
    """Hybrid search over one open index, with optional reranker and reader heads."""

    def __init__(
        self,
        index: IndexReader,
        *,
        embedder: QueryEncoder | None = None,
        config: SearchConfig | None = None,
        heads: HeadsConfig | None = None,
        reranker: PairScorer | None = None,
        reader: QuestionAnswerer | None = None,
        fulltext: FullTextEntities | None = None,
        suggester: Suggester | None = None,
    ) -> None:
        self.index = index
        self._suggester = suggester
        self.config = config or SearchConfig()
        self.heads = heads or HeadsConfig()
        self.embedder = embedder if embedder is not None else index.open_embedder()
        index.check_embedder(self.embedder)
        self.reranker, self.reader = reranker, reader
        if isinstance(index, ShardedIndex):
            self.retriever = ShardedRetriever(index, self.embedder, stages=self.config.stages)
        else:
            self.retriever = Retriever(
                index.bm25, index.dense, self.embedder, stages=self.config.stages
            )
        self.rerank_stage = (
            RerankStage(reranker, index.store, mix=self.heads.rerank_mix)
            if reranker is not None and self.heads.rerank_depth > 0
            else None
        )
        self.read_stage = (
            ReadStage(
                reader, index.store, top=self.heads.read_top, threshold=self.heads.answer_threshold
            )
            if reader is not None and self.heads.read_top > 0
            else None
        )
        #: recent cost of the optional stages, for the time budget (ranker.budget)
        self.costs = StageCosts()
        self.renderer = Renderer(
            index.store,
            index.bm25.tokenizer,
            snippet_chars=self.config.snippet_chars,
            fulltext=fulltext,
        )

    @classmethod
    def open(
        cls,
        index_dir: str | Path,
        *,
        config: SearchConfig | None = None,
        **parts: object,
    ) -> Searcher:
        """Open ``index_dir`` read-only and search it (``parts``: the constructor's
        ``embedder``, ``heads``, ``reranker``, ``reader``, ``fulltext``). A sharded index
        (``indexer.shards``) opens as a :class:`ranker.sharded.ShardedIndex`, its shards
        searched by Ray actors (``NEWSRANK_SHARD_BACKEND=local``: in this process)."""
        from indexer.shards import is_sharded

        config = config or SearchConfig()
        index: IndexReader | ShardedIndex
        if is_sharded(index_dir):
            index = ShardedIndex.open(index_dir, ef_search=config.hnsw_ef_search)
        else:
            index = IndexReader.open(index_dir, ef_search=config.hnsw_ef_search)
        return cls(index, config=config, **parts)  # type: ignore[arg-type]

    def configured(
        self,
        *,
        config: SearchConfig | None = None,
        heads: HeadsConfig | None = None,
        reranker: object = _KEEP,
        reader: object = _KEEP,
        index: IndexReader | None = None,
    ) -> Searcher:
        """A new searcher over this one's open index and embedder, with other settings
        or heads (``reranker=None`` / ``reader=None`` switch a stage off); nothing is
        reloaded, and this searcher is unchanged. ``index``: another view of the same
        index instead (``IndexReader.with_bm25``)."""
        return Searcher(
            self.index if index is None else index,
            embedder=self.embedder,
            config=config or self.config,
            heads=heads or self.heads,
            reranker=self.reranker if reranker is _KEEP else reranker,  # type: ignore[arg-type]
            reader=self.reader if reader is _KEEP else reader,  # type: ignore[arg-type]
            fulltext=self.fulltext,
        )

    def reopened(self, index: IndexReader, *, keep_suggester: bool = True) -> Searcher:
        """This searcher's settings and heads over another commit of its index (what a
        server does when a commit lands; nothing but the new segments is loaded).

        ``keep_suggester``: keep answering "did you mean" from this commit's words until
        the new commit's suggester is built (:meth:`build_suggester`), because building
        one reads every text (seconds on the demo). The new commit's duplicate groups
        (about 80 ms on the demo) are computed in the background, so that its first
        search does not wait for them."""
        index.warm_duplicates()
        return Searcher(
            index,
            embedder=self.embedder,
            config=self.config,
            heads=self.heads,
            reranker=self.reranker,
            reader=self.reader,
            fulltext=self.fulltext,
            suggester=self._suggester if keep_suggester else None,
        )

    @property
    def suggester(self) -> Suggester:
        """ "Did you mean" over the index's words (:mod:`ranker.suggest`): built on first
        use (reading every text takes seconds on a large index, which ranking for
        evaluation never needs) and shared by every searcher over the same store."""
        return self._suggester if self._suggester is not None else suggester_for(self.store)

    def ready_suggester(self) -> Suggester | None:
        """This commit's suggester, or one shared over the same store, if built; else
        None (nothing is read: see ``SearchConfig.suggest_wait``)."""
        return self._suggester if self._suggester is not None else ready_suggester(self.store)

    def build_suggester(self) -> Suggester:
        """Build this commit's own suggester now (after :meth:`reopened`) and use it."""
        self._suggester = suggester_for(self.store)
        return self._suggester

    @property
    def store(self) -> ArticleStore:
        return self.index.store

    @property
    def manifest(self) -> Manifest:
        return self.index.manifest

    @property
    def index_dir(self) -> Path:
        return self.index.directory

    @property
    def fulltext(self) -> FullTextEntities | None:
        return self.renderer.fulltext

    @fulltext.setter
    def fulltext(self, value: FullTextEntities | None) -> None:
        self.renderer.fulltext = value

    def validate(self, request: SearchRequest) -> SearchRequest:
        """The request normalised, or a QueryError naming what is wrong."""
        return validate_request(request, self.config)

    def rank(
        self,
        request: SearchRequest,
        timings: dict[str, float] | None = None,
        vector: np.ndarray | None = None,
        budget: Budget | None = None,
        degraded: list[str] | None = None,
    ) -> Ranking:
        """Every matching article in result order (retrieve, fuse, rerank); the request
        must be validated. Evaluation scores this article ranking: near-duplicates are
        not collapsed here (that is :meth:`search`'s presentation stage). ``vector``: the
        query's embedding when already computed; ``budget``: rerank only if it fits (else
        its name goes into ``degraded``)."""
        timings = {} if timings is None else timings
        ranking = self._rank_relevance(request, timings, vector, budget, degraded)
        return self._order(request, ranking, timings)

    def _rank_relevance(
        self,
        request: SearchRequest,
        timings: dict[str, float],
        vector: np.ndarray | None = None,
        budget: Budget | None = None,
        degraded: list[str] | None = None,
        shards: ShardTally | None = None,
    ) -> Ranking:
        """Retrieve, fuse, rerank and the freshness boost: the relevance order
        (``shards``: gets which shards answered, for a sharded index)."""
        budget = budget or Budget()
        mask = self._passage_mask(request)
        # newest first: the same matching set on every page, or paging would skip and repeat
        pages = 1 if request.sort == "date" else request.page
        depth = min(max(self.config.candidates, 3 * pages * request.k), self.config.max_candidates)
        hits = self.retriever.run(request.query, depth, mask, timings, vector, shards=shards)
        t = time.perf_counter()
        ranking = fuse(hits, self.store.passage_article, self.config)
        timings["fuse"] = ms_since(t)
        if self.rerank_stage is not None and ranking.articles:
            if budget.fits("rerank", self.costs):
                t = time.perf_counter()
                # at least one page deep, so the first page is reranked through and through
                ranking = self.rerank_stage.run(
                    request.query, ranking, max(self.heads.rerank_depth, request.k)
                )
                timings["rerank"] = ms_since(t)
                self.costs.observe("rerank", timings["rerank"])
            elif degraded is not None:
                degraded.append("rerank")
        if request.recency is not None and ranking.articles:
            t = time.perf_counter()
            ranking = self._boost_recent(ranking, request.recency)
            timings["recency"] = ms_since(t)
        return ranking

    def _boost_recent(self, ranking: Ranking, half_life: float) -> Ranking:
        """The ranking with every score decayed by its article's age (ranker.order), and a
        ``recency`` stage: the new rank and boosted score of each article."""
        oldest, newest = self.store.date_range()
        if newest is None or oldest is None:  # nothing dated: every factor is the same
            return ranking
        dates = self.store.dates([a.article for a in ranking.articles])
        articles = recency_boost(
            ranking.articles,
            dates,
            newest=newest,
            oldest=oldest,
            half_life=half_life,
            head=len(ranking.stages.get("rerank", {})),
        )
        stage = {a.article: StageScore(r, a.score) for r, a in enumerate(articles, 1)}
        return ranking.reordered(articles, "recency", stage)

    def answer_in(self, num: int, query: str) -> FoundAnswer | None:
        """The reader's answer to ``query`` in article ``num`` (the article page reached
        from a search), or None: no reader, or no confident answer. Only the article's
        ``read_top`` passages naming the most query terms are read, so it costs about
        what the read stage costs a search."""
        if self.read_stage is None or not query.strip():
            return None
        terms = set(self.index.bm25.tokenizer(query))
        article = self.store.articles([num])[num]
        pids = np.flatnonzero(self.store.passage_article == num)
        refs = []
        for pid in pids:
            start, end = self.store.passage_span(int(pid))
            text = article.text[start:end]
            refs.append(PassageRef(article.id, int(pid), text, start))
        tokens = [set(self.index.bm25.tokenizer(r.text)) for r in refs]
        order = sorted(range(len(refs)), key=lambda i: -len(terms & tokens[i]))
        chosen = [refs[i] for i in sorted(order[: self.read_stage.top])]
        stage = self.read_stage
        found = read_answers(stage.reader, query, chosen, stage.threshold, top_k=1)
        return found[0] if found else None

    def _collapse(
        self, request: SearchRequest, ranking: Ranking, timings: dict[str, float]
    ) -> Collapsed:
        """One entry per story (``request.collapse``): each near-duplicate group's
        best-ranked article, the others listed under it (ranker.collapse). The commit's
        groups are computed on its first search and kept."""
        if not request.collapse or not ranking.articles:
            return Collapsed(ranking)
        t = time.perf_counter()
        collapsed = collapse(ranking, self.index.duplicates(wait=False))
        timings["collapse"] = ms_since(t)
        return collapsed

    def _order(
        self, request: SearchRequest, ranking: Ranking, timings: dict[str, float]
    ) -> Ranking:
        """``sort=date``: the same articles, newest first (undated last, ties by
        relevance); ``sort=relevance``: unchanged."""
        if request.sort != "date" or not ranking.articles:
            return ranking
        t = time.perf_counter()
        dates = self.store.dates([a.article for a in ranking.articles])
        ranking = dataclasses.replace(ranking, articles=order_by_date(ranking.articles, dates))
        timings["sort"] = ms_since(t)
        return ranking

    def search(
        self,
        request: SearchRequest,
        vector: np.ndarray | None = None,
        budget: Budget | None = None,
    ) -> SearchResponse:
        """One page of results, with answers and facets.

        ``budget`` (default: ``SearchConfig.budget_ms`` from now): the rerank and read
        stages run only if they are expected to finish within it; those skipped are
        listed in ``SearchResponse.degraded``.
        """
        start = time.perf_counter()
        budget = budget or Budget.of(self.config.budget_ms, start)
        request = self.validate(request)
        timings: dict[str, float] = {}
        degraded: list[str] = []
        shards = ShardTally(getattr(self.index, "n_shards", 1))
        # the reader reads the most relevant articles, whatever order the page is in
        ranking = self._rank_relevance(request, timings, vector, budget, degraded, shards)
        collapsed = self._collapse(request, ranking, timings)
        ranking = collapsed.ranking
        answers: list[FoundAnswer] = []
        if self.read_stage is not None and ranking.articles:
            if budget.fits("read", self.costs):
                t = time.perf_counter()
                answers = self.read_stage.run(request.query, ranking.articles)
                timings["read"] = ms_since(t)
                self.costs.observe("read", timings["read"])
            else:
                degraded.append("read")
        t = time.perf_counter()
        facets = facet_counts(self.store, ranking)
        timings["facets"] = ms_since(t)
        ranking = self._order(request, ranking, timings)
        t = time.perf_counter()
        first = (request.page - 1) * request.k
        page = ranking.articles[first : first + request.k]
        results = self.renderer.run(request.query, page, ranking, answers, collapsed.duplicates)
        timings["render"] = ms_since(t)
        t = time.perf_counter()
        suggester = self.suggester if self.config.suggest_wait else self.ready_suggester()
        suggestion = suggester.suggest(request.query) if suggester is not None else None
        timings["suggest"] = ms_since(t)
        return SearchResponse(
            request.query,
            results,
            len(ranking),
            request.page,
            request.k,
            timings,
            answers=answers,
            facets=facets,
            degraded=degraded,
            suggestion=suggestion,
            shards=shards.to_dict(),
        )

    def search_many(self, requests: Sequence[SearchRequest]) -> list[SearchResponse]:
        """:meth:`search` for each request, the queries embedded in one batch."""
        requests = [self.validate(r) for r in requests]
        vectors = self._vectors(requests)
        return [self.search(r, v) for r, v in zip(requests, vectors)]

    def rank_many(
        self, requests: Sequence[SearchRequest], timings: list[dict[str, float]] | None = None
    ) -> list[Ranking]:
        """:meth:`rank` for each request (what evaluation scores), the queries embedded in
        one batch; answers, facets and rendering are skipped (they do not change the
        order). ``timings`` gets each request's stage timings, the batch's embedding time
        shared out evenly as ``embed``."""
        requests = [self.validate(r) for r in requests]
        t = time.perf_counter()
        vectors = self._vectors(requests)
        embed_ms = ms_since(t) / max(len(requests), 1)
        out = []
        for request, vector in zip(requests, vectors):
            spent: dict[str, float] = {"embed": embed_ms} if vector is not None else {}
            out.append(self.rank(request, spent, vector))
            if timings is not None:
                timings.append(spent)
        return out

    def ids(self, ranking: Ranking, depth: int) -> list[str]:
        """The ids of a ranking's first ``depth`` articles, in order."""
        nums = [a.article for a in ranking.articles[:depth]]
        ids = self.store.ids(nums)
        return [ids[n] for n in nums]

    def _vectors(self, requests: Sequence[SearchRequest]) -> list[np.ndarray | None]:
        vectors = self.retriever.embed([r.query for r in requests]) if requests else None
        return [None] * len(requests) if vectors is None else list(vectors)

    def _passage_mask(self, request: SearchRequest) -> np.ndarray | None:
        mask = self.store.article_mask(
            request.sources, request.date_from, request.date_to, request.topics, request.entities
        )
        return None if mask is None else mask[self.store.passage_article]
