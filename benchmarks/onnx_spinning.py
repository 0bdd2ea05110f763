"""Default-search latency at int8 with ONNX Runtime's thread spinning on and off, and
at float32, timed interleaved in one run.

    python benchmarks/onnx_spinning.py --index var/index [--repeats 3] [--json]

At ``precision=int8`` the search reranks through ONNX Runtime and then reads with torch
(the reader has no int8 path; queries are embedded by torch too). By default ONNX
Runtime's idle intra-op threads busy-wait for the next run for a while; on a 2-core CPU
they may then compete with torch's threads. Three pipelines share one open index and
one reader: ``fp32`` (the reranker in torch float32), ``int8-spin`` and ``int8-sleep``
(the same int8 graph opened twice, with ``session.intra_op.allow_spinning`` 1 and 0).
Every query of ``benchmarks/queries.txt`` is searched once by each as warm-up, then
they take turns pass by pass. Prints p50/p95 of each and the ratios to ``fp32``.

``--embed N`` also times embedding ``N`` demo passages at int8 (indexing's batches)
with the two settings, taking turns, median of ``--repeats``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from evaluation.latency import percentiles, pipelines, read_queries, time_interleaved  # noqa: E402
from heads.loaders import load_heads  # noqa: E402
from newsrank.config import HeadsConfig  # noqa: E402
from newsrank.machine import cpu_name  # noqa: E402
from newsrank.threads import use_torch_threads  # noqa: E402
from ranker.search import Searcher  # noqa: E402


def embed_speeds(n: int, repeats: int, threads: int) -> dict[str, float]:
    """Passages/s embedding ``n`` demo passages at int8, spinning on and off (median)."""
    from inference_precision import sample_passages

    from indexer.dense import Embedder
    from newsrank.config import IndexConfig

    texts = sample_passages(n)
    embedder = Embedder(IndexConfig().embedder, precision="int8")
    times: dict[str, list[float]] = {"spin": [], "sleep": []}
    embedder.encode(texts[:64])  # warm-up
    for _ in range(repeats):
        for name in times:
            # the graph the embedder opened, in a session with the setting compared
            embedder.int8.reopen(threads, spinning=name == "spin")
            t = time.perf_counter()
            embedder.encode(texts)
            times[name].append(time.perf_counter() - t)
    return {name: round(n / statistics.median(ts), 1) for name, ts in times.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", default="var/index")
    p.add_argument("--queries", default=str(HERE / "queries.txt"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--embed", type=int, default=0, help="demo passages to embed (0: skip)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    threads = use_torch_threads(args.threads)
    queries = read_queries(args.queries)
    fp32 = HeadsConfig(precision="fp32")
    heads = load_heads(fp32, roles=("reranker", "reader"), missing="error")
    int8 = dataclasses.replace(fp32, precision="int8")
    rerankers = {
        name: load_heads(int8, roles=("reranker",), missing="error").reranker
        for name in ("int8-spin", "int8-sleep")
    }
    searcher = Searcher.open(args.index)
    engines = {"fp32": pipelines(searcher, heads.reranker, heads.reader, fp32)["default"]}
    for name, reranker in rerankers.items():
        engines[name] = pipelines(searcher, reranker, heads.reader, int8)["default"]
    for name, spinning in (("int8-spin", True), ("int8-sleep", False)):
        rerankers[name].int8.reopen(threads, spinning=spinning)
    samples = time_interleaved(engines, queries, 10, args.repeats)
    out = {
        "cpu": cpu_name(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "threads": threads,
        "queries": len(queries),
        "repeats": args.repeats,
        "load_average_end": os.getloadavg(),
        **{name: percentiles(ms) for name, ms in samples.items()},
    }
    for name in ("int8-spin", "int8-sleep"):
        out[f"p50_ratio_{name}_fp32"] = round(out[name]["p50_ms"] / out["fp32"]["p50_ms"], 3)
    if args.embed:
        out["embed_passages_per_s"] = embed_speeds(args.embed, args.repeats, threads)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for name in engines:
            print(f"{name}: p50 {out[name]['p50_ms']} ms, p95 {out[name]['p95_ms']} ms")
        print({k: v for k, v in out.items() if k.startswith("p50_ratio")})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
