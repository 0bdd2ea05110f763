"""Retrieval evaluation: every search stage of the product on a BEIR-format collection.

    newsrank eval retrieval --collection ../shared/data/beir/scifact --json
    newsrank eval retrieval --collection ../shared/data/classic_ir/time --stages bm25,hybrid

The collection is indexed with the product's own indexer (:func:`indexer.build.build_index`)
into a cache directory keyed by the corpus bytes and the index settings, so a second
run reuses it (:mod:`evaluation.eval_index`). Each stage answers every judged query
through :class:`ranker.search.Searcher` (article-level results, top ``depth`` = 100):

- ``bm25``: ``SearchConfig(stages=("bm25",))``
- ``dense``: ``SearchConfig(stages=("dense",))``
- ``hybrid``: both, fused by reciprocal rank (the product default)
- ``rerank``: hybrid, then the product's rerank stage (:mod:`ranker.rerank`, the one
  the search runs): the fine-tuned cross-encoder scores (query, "title. best passage")
  for the top ``rerank_depth`` fused *articles* (default: the product's
  ``HeadsConfig.rerank_depth``), ordered by ``HeadsConfig.rerank_mix`` (the
  cross-encoder's, fused, BM25 and dense scores, min-max scaled and weighted; another
  mix with ``rerank_mix``, ``--rerank-mix``); they come first, the rest keep the fused
  order.

Runs come from :meth:`ranker.search.Searcher.rank_many` (queries embedded in one batch),
each query asked as the product's 10th page of 10 results (see :data:`PAGE_K`).
``weights`` adds a run of the rerank stage per weight ``w`` of the cross-encoder mixed
with the fused score alone, mix ``(w, 1 - w, 0, 0)`` (to choose the weight on a
development split: ``--split train --sample 60`` are the SciFact train queries the
reranker held out, :func:`corpora.splits.reranker_validation`).
``fusion_weights`` (``--fusion-weights 1:1,2:1,1:0``) likewise adds one run of the fused
stage (hybrid, no heads) per weighted-RRF setting ``(w_bm25, w_dense)``
(``SearchConfig.rrf_weights``), with nDCG@10, MRR@10, Recall@100 and MAP and, when the
bm25 and hybrid stages ran, the paired t-test p-values against each
(:attr:`RetrievalResult.fusion_weights`).

Metrics (nDCG@10, MRR@10, Recall@100, MAP; 0-1) come from ``ranx``; each stage is
compared with BM25, and rerank with hybrid, by a paired two-sided Student t-test over
queries (``evaluation.scoring``).

Worked example (the tiny fixture collection, BM25 only)::

    >>> r = evaluate_collection("tests/fixtures/beir_tiny", stages=["bm25"])  # doctest: +SKIP
    >>> r.stages["bm25"]["ndcg@10"]  # doctest: +SKIP
    0.8155
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from evaluation.eval_index import open_eval_set, open_searcher, search_config
from evaluation.latency import percentiles
from evaluation.options import fusion_name
from evaluation.pair_scoring import CachedScorer, load_reranker
from evaluation.scoring import (
    Run,
    measure,
    rerank_vs_best,
    rerank_vs_hybrid,
    significance,
    write_trec,
)
from newsrank.config import HeadsConfig, SearchConfig
from newsrank.errors import NewsrankError
from newsrank.protocols import PairScorer
from ranker.request import SearchRequest
from ranker.search import Searcher

STAGES = ("bm25", "dense", "hybrid", "rerank")
STAGE_CONFIG = {"bm25": ("bm25",), "dense": ("dense",), "hybrid": ("bm25", "dense")}
CURVE_DEPTHS = (10, 30, 50, 100)
#: Published nDCG@10 for the same collection and a comparable stage (BEIR paper,
#: Thakur et al. 2021: BM25 and BM25 + MiniLM-L6 cross-encoder on SciFact).
PUBLISHED = {"scifact": {"bm25": 0.665, "rerank": 0.688}}


@dataclass
class RetrievalResult:
    """Metrics per stage, significance against BM25, latency and the rerank-depth curve."""

    collection: str
    n_queries: int
    n_docs: int
    stages: dict[str, dict[str, float]]
    p_values: dict[str, dict[str, float]] = field(default_factory=dict)  # stage -> metric -> p
    p_rerank_vs_hybrid: dict[str, float] = field(default_factory=dict)  # metric -> p
    # the best single stage by nDCG@10, rerank's difference to it, and paired p per metric
    rerank_vs_best: dict = field(default_factory=dict)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # stage -> mean/p50/p95
    rerank_curve: list[dict[str, float]] = field(default_factory=list)
    published: dict[str, float] = field(default_factory=dict)  # stage -> nDCG@10
    index_dir: str = ""
    rerank_depth: int = 10
    rerank_weights: list[dict[str, float]] = field(default_factory=list)  # weight -> nDCG@10
    # one entry per weighted-RRF setting: {"bm25": w, "dense": w, "ndcg@10": ..., "mrr@10":
    # ..., "recall@100": ..., "map": ..., "p_vs_hybrid": {metric: p}, "p_vs_bm25": {...}}
    fusion_weights: list[dict] = field(default_factory=list)
    rrf_weights: list[float] = field(default_factory=lambda: [1.0, 1.0])  # of hybrid, rerank
    # the rerank stage's HeadsConfig.rerank_mix (cross-encoder, fused, bm25, dense)
    rerank_mix: list[float] = field(default_factory=lambda: list(HeadsConfig().rerank_mix))
    split: str = "test"
    half: str | None = None  # "dev" / "test": corpora.splits.half_of, or all queries
    # inference arithmetic: {"embedder": "fp32"|"bf16", "reranker": ...} (newsrank.precision)
    dtype: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def stage_searcher(
    searcher: Searcher,
    stage: str,
    reranker: PairScorer | None,
    depth: int,
    mix: Sequence[float] | None = None,
    rrf_weights: tuple[float, float] | None = None,
) -> Searcher:
    """The product's searcher for one stage; ``rerank`` = hybrid + the cross-encoder over
    the top ``depth`` articles, ordered by ``mix`` (default: the searcher's
    ``HeadsConfig.rerank_mix``). ``rrf_weights``: fuse by weighted RRF with these
    (bm25, dense) weights instead of the searcher's own."""
    base = "hybrid" if stage == "rerank" else stage
    config = dataclasses.replace(searcher.config, stages=STAGE_CONFIG[base])
    if rrf_weights is not None:
        config = dataclasses.replace(config, fusion="rrf", rrf_weights=tuple(rrf_weights))
    if stage != "rerank":
        return searcher.configured(config=config, reranker=None, reader=None)
    if reranker is None:
        raise NewsrankError("the rerank stage needs a reranker (see load_reranker)")
    heads = dataclasses.replace(searcher.heads, rerank_depth=depth)
    if mix is not None:
        heads = dataclasses.replace(heads, rerank_mix=tuple(mix))
    return searcher.configured(config=config, heads=heads, reranker=reranker, reader=None)


#: Every query is asked as the product's 10th page of 10 results: retrieval then goes
#: as deep as for a user paging to result 100 (3 x page x k passages per retriever),
#: and the rerank stage sees pages of 10 (its depth is ``max(rerank_depth, k)``).
PAGE_K = 10


def ranked_runs(
    searcher: Searcher,
    queries: dict[str, str],
    depth: int = 100,
    batch: int = 64,
    progress: bool = False,
    desc: str = "",
) -> tuple[Run, list[float]]:
    """The product's ranking of each query as a run (doc id -> rank-based score: depth,
    depth-1, ...), and each query's latency: the sum of its stage timings, the query
    embedding (one batch through :meth:`Searcher.rank_many`) shared out evenly."""
    run: Run = {}
    ms: list[float] = []
    items = list(queries.items())
    pages = -(-depth // PAGE_K)
    bar = tqdm(total=len(items), desc=desc, unit="q", disable=not progress)
    for first in range(0, len(items), batch):
        chunk = items[first : first + batch]
        requests = [SearchRequest(text, k=PAGE_K, page=pages) for _, text in chunk]
        timings: list[dict[str, float]] = []
        rankings = searcher.rank_many(requests, timings)
        for (qid, _), ranking, spent in zip(chunk, rankings, timings):
            ids = searcher.ids(ranking, depth)
            run[qid] = {doc: float(depth - r) for r, doc in enumerate(ids)}
            ms.append(round(sum(spent.values()), 3))
        bar.update(len(chunk))
    bar.close()
    return run, ms


def run_stages(
    searcher: Searcher,
    queries: dict[str, str],
    stages: Sequence[str],
    depth: int = 100,
    reranker: PairScorer | None = None,
    rerank_depth: int = 10,
    curve_depths: Sequence[int] = (),
    progress: bool = True,
    weights: Sequence[float] = (),
    fusion_weights: Sequence[tuple[float, float]] = (),
) -> tuple[dict[str, Run], dict[str, list[float]], list[dict], list[dict], list[dict]]:
    """Runs (qid -> doc id -> score) and per-query latencies (ms) of each stage.

    Scores in the runs are rank-based (the product's order is what counts). The
    third value is the rerank-depth curve: runs at each depth of ``curve_depths``,
    with a latency of (hybrid search + cross-encoder ms per pair x pairs scored); the
    fourth, runs of the rerank stage at each mixing weight of ``weights``; the fifth,
    runs of the fused stage (no heads) at each (bm25, dense) RRF weight pair of
    ``fusion_weights``.
    """
    runs: dict[str, Run] = {}
    lat: dict[str, list[float]] = {}
    cached = CachedScorer(reranker) if reranker is not None else None
    for stage in stages:
        s = stage_searcher(searcher, stage, cached, rerank_depth)
        runs[stage], lat[stage] = ranked_runs(s, queries, depth, progress=progress, desc=stage)
    fused: list[dict] = []
    for pair in fusion_weights:
        s = stage_searcher(searcher, "hybrid", None, 0, rrf_weights=pair)
        run = ranked_runs(s, queries, depth, progress=progress, desc=fusion_name(pair))[0]
        fused.append({"weights": tuple(pair), "run": run})
    curve: list[dict] = []
    mixes: list[dict] = []
    if cached is None or "rerank" not in stages:
        return runs, lat, curve, mixes, fused
    if curve_depths:
        base_ms = (
            lat["hybrid"]
            if "hybrid" in lat
            else ranked_runs(stage_searcher(searcher, "hybrid", None, 0), queries, depth)[1]
        )
        for d in curve_depths:
            s = stage_searcher(searcher, "rerank", cached, d)
            cached.requests = []
            run, _ = ranked_runs(s, queries, depth)  # one scorer call per query, in order
            ms = [b + cached.ms_per_pair * n for b, n in zip(base_ms, cached.requests)]
            curve.append({"depth": d, "run": run, "ms": ms})
    for w in weights:  # w = 0 is the fused order (the product refuses a mix without the CE)
        s = (
            stage_searcher(searcher, "rerank", cached, rerank_depth, mix=(w, 1 - w, 0, 0))
            if w > 0
            else stage_searcher(searcher, "hybrid", None, 0)
        )
        mixes.append({"weight": w, "run": ranked_runs(s, queries, depth)[0]})
    return runs, lat, curve, mixes, fused


def fusion_table(
    qrels: dict[str, dict[str, int]], runs: dict[str, Run], fused: Sequence[dict]
) -> list[dict]:
    """Metrics of each weighted-RRF run (``run_stages``' fifth value), with paired t-test
    p-values against the plain ``hybrid`` run and ``bm25`` where those are in ``runs``."""
    named = {fusion_name(f["weights"]): f["run"] for f in fused}
    if not named:
        return []
    scores = measure(qrels, named)
    baselines = {
        b: significance(qrels, {b: runs[b], **named}, b) for b in ("hybrid", "bm25") if b in runs
    }
    rows = []
    for f in fused:
        name = fusion_name(f["weights"])
        row: dict = {"bm25": f["weights"][0], "dense": f["weights"][1], **scores[name]}
        for b, p in baselines.items():
            row[f"p_vs_{b}"] = p.get(name, {})
        rows.append(row)
    return rows


def _latency(ms: list[float]) -> dict[str, float]:
    """Mean, p50 and p95 (:func:`evaluation.latency.percentiles`, the one definition)."""
    if not ms:
        return {}
    p = percentiles(ms)
    return {"mean": p["mean_ms"], "p50": p["p50_ms"], "p95": p["p95_ms"]}


def evaluate_collection(
    collection_dir: str | Path,
    stages: Sequence[str] = ("bm25", "dense", "hybrid"),
    rerank_depth: int = HeadsConfig.rerank_depth,
    out: str | Path | None = None,
    cache: str | Path = "runs/eval-cache",
    max_queries: int | None = None,
    reranker: PairScorer | Callable[[], PairScorer] | None = None,
    embedder: object | None = None,
    progress: bool = True,
    depth: int = 100,
    curve_depths: Sequence[int] = CURVE_DEPTHS,
    precision: str = "auto",
    split: str = "test",
    sample: int | None = None,
    half: str | None = None,
    seed: int = 13,
    weights: Sequence[float] = (),
    fusion_weights: Sequence[tuple[float, float]] = (),
    embedder_name: str | None = None,
    rrf_weights: tuple[float, float] | None = None,
    rerank_mix: Sequence[float] | None = None,
) -> RetrievalResult:
    """Index (or reuse), search, measure; write run files and JSON under ``out`` if given.

    ``precision`` is the embedder's and the default reranker's arithmetic
    (newsrank.precision); it is part of the index settings, so of the cache key.
    ``embedder_name``: the dense embedder (an embedder head or sentence-transformers
    model; default: the product's, ``IndexConfig.embedder``), also part of the key.
    ``rrf_weights``: the fusion ``(w_bm25, w_dense)`` of the hybrid and rerank stages
    (default: the product's, ``SearchConfig.rrf_weights``). ``rerank_mix``: how the
    rerank stage orders its articles (default: the product's, ``HeadsConfig.rerank_mix``).
    """
    bad = [s for s in stages if s not in STAGES]
    if bad or not stages:
        raise NewsrankError(f"unknown stages {bad}; choose from {', '.join(STAGES)}")
    if "rerank" in stages and reranker is None:
        reranker = load_reranker(precision=precision)  # fail before the (long) indexing
    if callable(reranker) and not hasattr(reranker, "predict"):
        reranker = reranker()
    opened = open_eval_set(
        collection_dir,
        cache,
        precision=precision,
        embedder=embedder,
        embedder_name=embedder_name,
        split=split,
        sample=sample,
        half=half,
        seed=seed,
        max_queries=max_queries,
        progress=progress,
    )
    collection, index_dir = opened.collection, opened.index_dir
    queries, qrels = opened.queries, opened.qrels
    config = search_config(depth, rrf_weights=rrf_weights or SearchConfig().rrf_weights)
    searcher = open_searcher(opened, config, progress=progress)
    if rerank_mix is not None:
        mixed = dataclasses.replace(searcher.heads, rerank_mix=tuple(rerank_mix))
        searcher = searcher.configured(heads=mixed)
    curve_depths = [d for d in curve_depths if d <= depth] if "rerank" in stages else []
    fusion_weights = [tuple(map(float, pair)) for pair in fusion_weights]
    for pair in fusion_weights:  # fail before searching
        SearchConfig(rrf_weights=pair)
    runs, lat, curve, mixes, fused = run_stages(
        searcher,
        queries,
        stages,
        depth,
        reranker,
        rerank_depth,
        curve_depths,
        progress,
        weights,
        fusion_weights,
    )
    measured = measure(qrels, runs)
    result = RetrievalResult(
        collection=f"{collection.name}-{half}" if half else collection.name,
        n_queries=len(queries),
        n_docs=len(collection.corpus),
        stages=measured,
        p_values=significance(qrels, runs),
        p_rerank_vs_hybrid=rerank_vs_hybrid(qrels, runs),
        rerank_vs_best=rerank_vs_best(qrels, runs, measured),
        latency_ms={s: _latency(v) for s, v in lat.items()},
        published=PUBLISHED.get(collection.name, {}),
        index_dir=str(index_dir),
        rerank_depth=rerank_depth,
        rrf_weights=list(config.rrf_weights),
        rerank_mix=list(searcher.heads.rerank_mix),
        split=split,
        half=half,
        dtype={
            "embedder": str(getattr(searcher.embedder, "precision", "fp32")),
            **({"reranker": str(getattr(reranker, "precision", "fp32"))} if reranker else {}),
        },
    )
    if curve:
        scores = measure(qrels, {str(c["depth"]): c["run"] for c in curve})
        result.rerank_curve = [
            {
                "depth": c["depth"],
                "ndcg@10": scores[str(c["depth"])]["ndcg@10"],
                **_latency(c["ms"]),
            }
            for c in curve
        ]
    if mixes:
        scores = measure(qrels, {str(m["weight"]): m["run"] for m in mixes})
        result.rerank_weights = [
            {"weight": m["weight"], "ndcg@10": scores[str(m["weight"])]["ndcg@10"]} for m in mixes
        ]
    result.fusion_weights = fusion_table(qrels, runs, fused)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for stage, run in runs.items():
            write_trec(run, out / f"run.{stage}.trec", stage)
        for f in fused:
            tag = fusion_name(f["weights"]).replace(" ", "-")  # no blank in a TREC run tag
            write_trec(f["run"], out / f"run.{tag}.trec", tag)
        (out / "results.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result
