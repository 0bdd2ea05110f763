"""Efficiency evaluation: per-pipeline search latency, throughput, memory, indexing speed.

    newsrank eval latency --index var/index --queries benchmarks/queries.txt --json
    newsrank eval latency --index var/index --reranker reranker --reader reader

The one latency harness of the project (``benchmarks/search_latency.py`` runs it too).
Every pipeline is the product's own :class:`ranker.search.Searcher` over one open
index, timed around ``Searcher.search`` (validate, retrieve, fuse, rerank, read,
facets, render: everything a request to the web API costs but HTTP):

- ``bm25``, ``dense``: one retriever; ``fused``: both, RRF (no heads);
- ``rerank``: fused, then the cross-encoder over the top ``rerank_depth`` articles
  (``HeadsConfig.rerank_depth``, at least one page), as the product does;
  ``rerank@D`` the same at depth D (``rerank_depths``);
- ``default``: rerank and the reader, the product's default configuration.

- latency: every query once as warm-up, then ``repeats`` timed passes, one client;
  p50/p95/p99 with numpy's linear interpolation over all timed searches
  (:func:`percentiles`, the one definition used for every reported latency).
- throughput: queries per second with 1 and 4 concurrent clients (threads sharing one
  searcher, as the web server does), one pass each.
- memory: the process's peak resident set (``resource.getrusage``, ``ru_maxrss``).
- indexing: passages per second of each build phase, from the index manifest
  (``split``, ``store``, ``bm25``, ``embed``, ``faiss``; an ``enrich`` phase when the
  build records one).

>>> percentiles([float(v) for v in range(1, 101)])
{'p50_ms': 50.5, 'p95_ms': 95.05, 'p99_ms': 99.01, 'mean_ms': 50.5}
"""

from __future__ import annotations

import dataclasses
import resource
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from newsrank.config import HeadsConfig
from newsrank.errors import NewsrankError
from newsrank.protocols import PairScorer, QuestionAnswerer
from newsrank.threads import use_torch_threads
from ranker.request import SearchRequest
from ranker.search import Searcher

STAGES = {"bm25": ("bm25",), "dense": ("dense",), "fused": ("bm25", "dense")}
PHASES = ("split", "store", "bm25", "embed", "faiss", "enrich")


@dataclass
class LatencyResult:
    index: str
    n_queries: int
    repeats: int
    stages: dict[str, dict] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    indexing: dict = field(default_factory=dict)
    torch_threads: int = 0  # torch intra-op threads of the process during the run
    samples_ms: dict[str, list[float]] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        del data["samples_ms"]
        return data


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 and mean of latencies in milliseconds, rounded to 0.01."""
    p = np.percentile(np.asarray(ms, dtype=float), [50, 95, 99])
    return {
        "p50_ms": round(float(p[0]), 2),
        "p95_ms": round(float(p[1]), 2),
        "p99_ms": round(float(p[2]), 2),
        "mean_ms": round(float(np.mean(ms)), 2),
    }


def read_queries(path: str | Path, max_queries: int | None = None) -> list[str]:
    """One query per line; blank lines and ``#`` comments skipped."""
    p = Path(path)
    if not p.is_file():
        raise NewsrankError(f"query file {p} not found (one query per line)")
    lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines()]
    queries = [ln for ln in lines if ln and not ln.startswith("#")]
    if not queries:
        raise NewsrankError(f"query file {p} holds no queries")
    return queries[:max_queries] if max_queries else queries


def indexing_speed(timings: dict[str, float], passages: int) -> dict:
    """Passages per second of each build phase in a manifest's ``timings``.

    >>> indexing_speed({"bm25": 2.0, "embed": 10.0, "load_embedder": 3.0}, 100)
    {'passages': 100, 'seconds': {'bm25': 2.0, 'embed': 10.0}, 'passages_per_s': {'bm25': 50.0, 'embed': 10.0}}
    """  # noqa: E501
    seconds = {k: float(timings[k]) for k in PHASES if k in timings}
    rates = {k: round(passages / s, 1) for k, s in seconds.items() if s > 0}
    return {"passages": passages, "seconds": seconds, "passages_per_s": rates}


def time_pass(
    engine, queries: list[str], k: int, stages: dict[str, list[float]] | None = None
) -> list[float]:
    """Each query searched once by ``engine``: the milliseconds each took. ``stages``,
    if given, collects each response's own stage timings (stage -> milliseconds)."""
    out = []
    for q in queries:
        t = time.perf_counter()
        response = engine.search(SearchRequest(q, k=k))
        out.append((time.perf_counter() - t) * 1000)
        if stages is not None:
            for stage, ms in response.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
    return out


def time_interleaved(
    engines: dict[str, object],
    queries: list[str],
    k: int,
    repeats: int,
    stages: dict[str, dict[str, list[float]]] | None = None,
) -> dict[str, list[float]]:
    """Every engine's milliseconds per search: one warm-up pass each, then ``repeats``
    passes taking turns, so that a slow spell of a shared machine falls on all of them.
    ``stages``, if given, collects each engine's stage timings (:func:`time_pass`)."""
    for engine in engines.values():
        time_pass(engine, queries, k)  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(repeats):
        for name, engine in engines.items():
            got = None if stages is None else stages.setdefault(name, {})
            samples[name] += time_pass(engine, queries, k, got)
    return samples


def _throughput(engine, queries: list[str], k: int, clients: int) -> float:
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(lambda q: engine.search(SearchRequest(q, k=k)), queries))
    return round(len(queries) / (time.perf_counter() - t), 2)


def pipelines(
    searcher: Searcher,
    reranker: PairScorer | None = None,
    reader: QuestionAnswerer | None = None,
    heads: HeadsConfig | None = None,
    rerank_depths: Sequence[int] = (),
) -> dict[str, Searcher]:
    """The product's pipelines to time, sharing ``searcher``'s open index and embedder."""
    heads = heads or searcher.heads
    base = searcher.config
    out = {
        name: searcher.configured(
            config=dataclasses.replace(base, stages=stages), reranker=None, reader=None
        )
        for name, stages in STAGES.items()
    }
    fused = dataclasses.replace(base, stages=STAGES["fused"])
    if reranker is not None:
        out["rerank"] = searcher.configured(
            config=fused, heads=heads, reranker=reranker, reader=None
        )
        for depth in rerank_depths:
            out[f"rerank@{depth}"] = searcher.configured(
                config=fused,
                heads=dataclasses.replace(heads, rerank_depth=depth),
                reranker=reranker,
                reader=None,
            )
    if reader is not None:
        out["default"] = searcher.configured(
            config=fused, heads=heads, reranker=reranker, reader=reader
        )
    return out


def time_pipeline(
    engine: Searcher, queries: list[str], k: int, repeats: int
) -> tuple[dict, list[float]]:
    """Latency statistics of ``engine`` (after one warm-up pass) and every timed sample;
    ``median_of_repeat_p50_ms`` shows the spread between passes."""
    time_pass(engine, queries, k)  # warm-up
    passes = [time_pass(engine, queries, k) for _ in range(repeats)]
    samples = [ms for one in passes for ms in one]
    stats: dict = percentiles(samples)
    stats["median_of_repeat_p50_ms"] = round(
        float(np.median([percentiles(one)["p50_ms"] for one in passes])), 2
    )
    return stats, samples


def evaluate_latency(
    index: str | Path,
    queries_file: str | Path,
    max_queries: int | None = None,
    clients: Sequence[int] = (1, 4),
    repeats: int = 3,
    reranker: PairScorer | None = None,
    searcher: Searcher | None = None,
    k: int = 10,
    heads: HeadsConfig | None = None,
    torch_threads: int | None = None,
    reader: QuestionAnswerer | None = None,
    rerank_depths: Sequence[int] = (),
) -> LatencyResult:
    """Time every pipeline on the queries of ``queries_file`` against the index ``index``.

    ``torch_threads`` sets torch's intra-op threads first (query embedding on a busy
    2-core machine is ~40x slower with 2 threads than with 1: OpenMP threads spin
    against other processes).
    """
    import torch

    if repeats < 1 or any(c < 1 for c in clients):
        raise NewsrankError("--repeats and every --clients value must be at least 1")
    use_torch_threads(torch_threads)
    queries = read_queries(queries_file, max_queries)
    searcher = searcher or Searcher.open(index)
    engines = pipelines(searcher, reranker, reader, heads, rerank_depths)
    result = LatencyResult(str(index), len(queries), repeats, torch_threads=torch.get_num_threads())
    for name, engine in engines.items():
        stats, result.samples_ms[name] = time_pipeline(engine, queries, k, repeats)
        stats["qps"] = {str(c): _throughput(engine, queries, k, c) for c in clients}
        result.stages[name] = stats
    result.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    m = searcher.manifest
    result.indexing = indexing_speed(m.timings, m.passages)
    result.indexing["articles"] = m.articles
    return result
