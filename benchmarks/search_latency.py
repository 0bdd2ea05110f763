"""Search latency and serving memory on an index: BM25 only, dense only, fused, + heads.

    python benchmarks/search_latency.py --index var/index [--repeats 5] [--json]
    python benchmarks/search_latency.py --index var/index --heads   # + rerank, + reader

A thin front of the project's one latency harness (:mod:`evaluation.latency`: the
product's own search path, one definition of p50/p95): it adds the load time, memory
before and after loading, and the machine. With ``--heads`` the shipped reranker and
reader are loaded and the table adds fused + rerank at depths 10, 30 and 50 articles,
and the default configuration (rerank + reader on the top 3). ``--precision fp32``
times float32 inference where ``auto`` would pick bfloat16 (newsrank.precision).

Each configuration answers every query in ``benchmarks/queries.txt`` once as a
warm-up, then ``--repeats`` more times; p50/p95 are over all timed searches, and the
table also prints the median of the per-repeat p50s to show run-to-run spread.
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

from evaluation.latency import pipelines, read_queries, time_pipeline  # noqa: E402
from evaluation.report import provenance  # noqa: E402
from heads.loaders import load_heads  # noqa: E402
from indexer.dense import Embedder  # noqa: E402
from indexer.reader import IndexReader  # noqa: E402
from newsrank.config import HeadsConfig  # noqa: E402
from newsrank.invocation import current  # noqa: E402
from newsrank.precision import PRECISIONS  # noqa: E402
from newsrank.threads import use_torch_threads  # noqa: E402
from ranker.search import Searcher  # noqa: E402

HERE = Path(__file__).parent


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    queries = read_queries(args.queries)
    rss_start = peak_rss_mb()
    t = time.perf_counter()
    index = IndexReader.open(args.index)
    settings = index.settings
    embedder = Embedder(
        index.manifest.embedder, max_length=settings.embed_max_length, precision=args.precision
    )
    base = Searcher(index, embedder=embedder)
    load_s = time.perf_counter() - t
    rss_loaded = peak_rss_mb()

    heads_config = HeadsConfig(precision=args.precision)
    reranker = reader = None
    if args.heads:
        heads = load_heads(heads_config, roles=("reranker", "reader"), missing="error")
        reranker, reader = heads.reranker, heads.reader
    configs = pipelines(base, reranker, reader, heads_config, rerank_depths=(10, 30, 50))
    configs.pop("rerank", None)  # the same as rerank@10, the default depth
    results = {
        name: time_pipeline(engine, queries, args.k, args.repeats)[0]
        for name, engine in configs.items()
    }

    manifest = index.manifest
    build_s = sum(manifest.timings.values())
    report = {
        "provenance": provenance(current()),
        "torch_threads": args.torch_threads or "default",
        "precision": {
            "embedder": embedder.precision,
            "heads": getattr(reranker, "precision", None),
        },
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
    print(f"machine: {report['provenance']['machine']}; arithmetic: {report['precision']}")
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
