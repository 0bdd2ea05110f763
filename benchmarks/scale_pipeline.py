"""The default pipeline at scale (issue #11): its p50 on a 1M-passage index against the demo.

    python benchmarks/scale_pipeline.py --large runs/scale/index-1000000 \\
        --base-vectors runs/scale/base-vectors.npy [--demo var/index] [--repeats 3] [--json]

The large index is one kept by ``benchmarks/scale.py --keep`` (or ``--build-only``):
resampled demo news whose passage vectors are perturbed copies of real MiniLM vectors
(that script's docstring says exactly how). Its queries are embedded the same way
(:class:`scale.SampledEmbedder`), but only after the real packaged embedder has
encoded the same query and its vector was thrown away, so every search pays what a
real query embedding costs. The demo index is searched with the real embedder.

Both searchers run the **default pipeline** (BM25 + dense, fused, the shipped reranker
on the top articles, the reader on the top 3; heads loaded once and shared), over
``benchmarks/queries.txt``: one warm-up pass each (the large index's near-duplicate
groups are computed before it, as a server does at start), then ``--repeats`` passes
*interleaved* (demo, large, demo, large...), so both see the same machine load. It
prints p50 / p95 of each, the ratio large / demo (the issue's target: <= 1.5), the
stage timings' medians, and peak RSS after opening each index with the heads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from scale import SampledEmbedder  # noqa: E402

from evaluation.latency import pipelines, read_queries  # noqa: E402
from heads.loaders import load_heads  # noqa: E402
from indexer.dense import Embedder  # noqa: E402
from indexer.reader import IndexReader  # noqa: E402
from newsrank.config import HeadsConfig  # noqa: E402
from newsrank.machine import details  # noqa: E402
from ranker.request import SearchRequest  # noqa: E402
from ranker.search import Searcher  # noqa: E402

QUERIES = Path(__file__).resolve().parent / "queries.txt"


class PayingEmbedder:
    """The stand-in vectors of :class:`SampledEmbedder`, after the real embedder has
    encoded the same texts (its vectors dropped): the real embedding cost, the large
    index's own vector distribution."""

    def __init__(self, real: Embedder, stand_in: SampledEmbedder) -> None:
        self.real, self.stand_in = real, stand_in
        self.model_name = stand_in.model_name
        self.passage_model = stand_in.passage_model
        self.precision = stand_in.precision
        self.dim = stand_in.dim

    def encode(self, texts, show_progress: bool = False, queries: bool = False) -> np.ndarray:
        self.real.encode(texts, queries=queries)
        return self.stand_in.encode(texts, queries=queries)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def one_pass(searcher: Searcher, queries: list[str], k: int) -> tuple[list[float], list[dict]]:
    times, stages = [], []
    for q in queries:
        t = time.perf_counter()
        response = searcher.search(SearchRequest(q, k=k))
        times.append((time.perf_counter() - t) * 1000)
        stages.append(dict(response.timings_ms))
    return times, stages


def summary(times: list[float], stages: list[dict]) -> dict:
    names = sorted({n for s in stages for n in s})
    return {
        "p50_ms": round(float(np.percentile(times, 50)), 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
        "searches": len(times),
        "stage_p50_ms": {
            n: round(float(np.median([s[n] for s in stages if n in s])), 2) for n in names
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", required=True, help="an index kept by benchmarks/scale.py")
    parser.add_argument("--base-vectors", required=True, help="that run's base-vectors.npy")
    parser.add_argument("--noise", type=float, default=0.35)
    parser.add_argument("--demo", default="var/index", help="the demo index (real embedder)")
    parser.add_argument("--queries", default=str(QUERIES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    queries = read_queries(args.queries)
    heads_config = HeadsConfig()
    heads = load_heads(heads_config, roles=("reranker", "reader"), missing="error")
    rss = {"heads": peak_rss_mb()}

    t = time.perf_counter()
    large = IndexReader.open(args.large)
    real = Embedder(large.settings.embedder, max_length=large.settings.embed_max_length)
    stand_in = SampledEmbedder(np.load(args.base_vectors), args.noise)
    large_searcher = Searcher(large, embedder=PayingEmbedder(real, stand_in))
    open_s = time.perf_counter() - t
    large.duplicates()  # what a server computes in the background at start
    groups_s = large.duplicate_seconds
    rss["large"] = peak_rss_mb()

    demo = IndexReader.open(args.demo)
    demo_searcher = Searcher(demo, embedder=real)
    engines = {
        "demo": pipelines(demo_searcher, heads.reranker, heads.reader, heads_config)["default"],
        "large": pipelines(large_searcher, heads.reranker, heads.reader, heads_config)["default"],
    }
    for engine in engines.values():
        one_pass(engine, queries, args.k)  # warm-up
    rss["both"] = peak_rss_mb()
    times: dict[str, list[float]] = {name: [] for name in engines}
    stages: dict[str, list[dict]] = {name: [] for name in engines}
    for _ in range(args.repeats):
        for name, engine in engines.items():
            ms, st = one_pass(engine, queries, args.k)
            times[name] += ms
            stages[name] += st
    report = {
        "machine": details(),
        "load_average": os.getloadavg(),
        "precision": {"embedder": real.precision, "heads": heads.reranker.precision},
        "large": {
            "passages": large.manifest.passages,
            "articles": large.manifest.articles,
            "open_s": round(open_s, 2),
            "duplicate_groups_s": round(groups_s or 0.0, 2),
            **summary(times["large"], stages["large"]),
        },
        "demo": {"passages": demo.manifest.passages, **summary(times["demo"], stages["demo"])},
        "peak_rss_mb": rss,
    }
    report["ratio_p50"] = round(report["large"]["p50_ms"] / report["demo"]["p50_ms"], 2)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    m = report["machine"]
    print(f"machine: {m['model_name']}, {m['cpus']} CPUs; load {report['load_average']}")
    print("| index | passages | p50 ms | p95 ms | stage p50 ms |")
    print("|---|---|---|---|---|")
    for name in ("demo", "large"):
        r = report[name]
        st = ", ".join(f"{k} {v}" for k, v in r["stage_p50_ms"].items())
        print(f"| {name} | {r['passages']:,} | {r['p50_ms']} | {r['p95_ms']} | {st} |")
    print(f"p50 large / demo: {report['ratio_p50']} (target <= 1.5); peak RSS MB {rss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
