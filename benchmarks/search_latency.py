"""Search latency and serving memory on an index: BM25 only, dense only, fused, + heads.

    python benchmarks/search_latency.py --index var/index [--repeats 5] [--json]
    python benchmarks/search_latency.py --index var/index --heads   # + rerank, + reader

With ``--heads`` the shipped reranker and reader are loaded and the table adds
fused + rerank at depths 10, 30 and 50, and the default configuration
(rerank 10 + reader on the top 3). ``--precision fp32`` times float32 inference
where ``auto`` would pick bfloat16 (newsrank.precision).

Each configuration answers every query in ``benchmarks/queries.txt`` once as a
warm-up, then ``--repeats`` more times; p50/p95 are over all timed searches, and the
table also prints the median of the per-repeat p50s to show run-to-run spread.
Memory is the process's peak resident set (ru_maxrss) after loading and searching.
Index build figures are read from the index manifest (written by the build).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from indexer.dense import Embedder  # noqa: E402
from indexer.manifest import read_manifest  # noqa: E402
from newsrank.config import HeadsConfig, IndexConfig, SearchConfig  # noqa: E402
from newsrank.precision import PRECISIONS  # noqa: E402
from newsrank.threads import use_torch_threads  # noqa: E402
from ranker.loaders import load_heads  # noqa: E402
from ranker.results import SearchRequest  # noqa: E402
from ranker.search import Searcher  # noqa: E402

HERE = Path(__file__).parent
STAGES = {"bm25": ("bm25",), "dense": ("dense",), "fused": ("bm25", "dense")}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def time_config(searcher: Searcher, queries: list[str], repeats: int, k: int) -> dict:
    for query in queries:  # warm-up
        searcher.search(SearchRequest(query, k=k))
    all_ms, per_repeat_p50 = [], []
    for _ in range(repeats):
        run = []
        for query in queries:
            t = time.perf_counter()
            searcher.search(SearchRequest(query, k=k))
            run.append((time.perf_counter() - t) * 1000)
        all_ms.extend(run)
        per_repeat_p50.append(statistics.median(run))
    return {
        "p50_ms": round(percentile(all_ms, 50), 2),
        "p95_ms": round(percentile(all_ms, 95), 2),
        "median_of_repeat_p50_ms": round(statistics.median(per_repeat_p50), 2),
        "searches": len(all_ms),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="var/index")
    parser.add_argument("--queries", default=str(HERE / "queries.txt"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--heads", action="store_true", help="also time rerank and reader")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="torch intra-op threads (0: torch's default; 1 avoids oversubscription on a busy CPU)",
    )
    parser.add_argument("--precision", choices=PRECISIONS, default="auto")
    args = parser.parse_args(argv)

    use_torch_threads(args.torch_threads)
    queries = [q.strip() for q in Path(args.queries).read_text().splitlines() if q.strip()]
    rss_start = peak_rss_mb()
    t = time.perf_counter()
    manifest = read_manifest(args.index)
    max_length = IndexConfig(**manifest.settings).embed_max_length
    embedder = Embedder(manifest.embedder, max_length=max_length, precision=args.precision)
    base = Searcher(args.index, embedder=embedder)
    load_s = time.perf_counter() - t
    rss_loaded = peak_rss_mb()

    configs = {name: base.with_config(SearchConfig(stages=s)) for name, s in STAGES.items()}
    heads_precision = None
    if args.heads:
        heads_config = HeadsConfig(precision=args.precision)
        heads = load_heads(heads_config, roles=("reranker", "reader"))
        if heads.reranker is None or heads.reader is None:
            parser.error(
                "--heads needs the shipped reranker and reader: " + "; ".join(heads.warnings)
            )
        for depth in (10, 30, 50):
            configs[f"+rerank{depth}"] = base.with_config(
                heads=replace(heads_config, rerank_depth=depth),
                reranker=heads.reranker,
                reader=None,
            )
        heads_precision = heads.reranker.precision
        configs["default"] = base.with_config(
            heads=heads_config, reranker=heads.reranker, reader=heads.reader
        )
    results = {
        name: time_config(searcher, queries, args.repeats, args.k)
        for name, searcher in configs.items()
    }

    build_s = sum(manifest.timings.values())
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "torch_threads": args.torch_threads or "default",
        "precision": {"embedder": embedder.precision, "heads": heads_precision},
        "load_average": os.getloadavg(),
        "index": {
            "articles": manifest.articles,
            "passages": manifest.passages,
            "dense_kind": manifest.dense_kind,
            "build_seconds": round(build_s, 1),
            "passages_per_second": round(manifest.passages / build_s, 1) if build_s else None,
            "stage_seconds": manifest.timings,
        },
        "load_seconds": round(load_s, 2),
        "memory_mb": {
            "interpreter": round(rss_start, 1),
            "after_load": round(rss_loaded, 1),
            "peak": round(peak_rss_mb(), 1),
        },
        "queries": len(queries),
        "repeats": args.repeats,
        "latency": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"machine: {report['machine']}; arithmetic: {report['precision']}")
    idx = report["index"]
    print(
        f"index: {idx['articles']} articles, {idx['passages']} passages ({idx['dense_kind']}); "
        f"build {idx['build_seconds']} s = {idx['passages_per_second']} passages/s"
    )
    print("  build stages (s): " + ", ".join(f"{k} {v}" for k, v in idx["stage_seconds"].items()))
    print(f"searcher load: {report['load_seconds']} s; memory (MB): {report['memory_mb']}")
    print(
        f"{'config':10} {'p50 ms':>8} {'p95 ms':>8} {'median p50':>11}  ({len(queries)} queries "
        f"x {args.repeats})"
    )
    for name, r in results.items():
        print(
            f"{name:10} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['median_of_repeat_p50_ms']:11.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
