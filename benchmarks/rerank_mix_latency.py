"""Default-search latency under two rerank mixes, timed interleaved in one run.

    python benchmarks/rerank_mix_latency.py --index var/index [--repeats 5] \
        [--old 0.2:0.8:0:0] [--new 0.4:0:0.4:0.2] [--json]

Both pipelines are the product's default search (hybrid retrieval, rerank depth 10,
reader), built by the latency harness (:func:`evaluation.latency.pipelines`) on one
open index with the same loaded heads; only ``HeadsConfig.rerank_mix`` differs. Every
query of ``benchmarks/queries.txt`` is searched once by each as warm-up, then the two
take turns pass by pass (``--repeats`` passes each), so that a slow spell of a shared
machine falls on both. Prints each p50/p95, the ratio new/old of the p50s, and each
stage's median time (the timings of the responses), to show where a difference lies.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from evaluation.latency import percentiles, pipelines, read_queries, time_interleaved  # noqa: E402
from evaluation.options import parse_rerank_mix  # noqa: E402
from heads.loaders import load_heads  # noqa: E402
from newsrank.config import HeadsConfig  # noqa: E402
from newsrank.threads import use_torch_threads  # noqa: E402
from ranker.search import Searcher  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", default="var/index")
    p.add_argument("--queries", default=str(HERE / "queries.txt"))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--old", default="0.2:0.8:0:0")
    p.add_argument("--new", default=":".join(f"{w:g}" for w in HeadsConfig().rerank_mix))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    use_torch_threads(args.threads)
    queries = read_queries(args.queries)
    config = HeadsConfig()
    heads = load_heads(config, roles=("reranker", "reader"), missing="error")
    searcher = Searcher.open(args.index)
    engines = {}
    for name, text in (("old", args.old), ("new", args.new)):
        mixed = dataclasses.replace(config, rerank_mix=parse_rerank_mix(text))
        engines[name] = pipelines(searcher, heads.reranker, heads.reader, mixed)["default"]
    stages: dict[str, dict[str, list[float]]] = {}
    samples = time_interleaved(engines, queries, 10, args.repeats, stages)
    out = {
        "machine": platform.processor() or platform.machine(),
        "queries": len(queries),
        "repeats": args.repeats,
        "mixes": {"old": args.old, "new": args.new},
        **{name: percentiles(ms) for name, ms in samples.items()},
    }
    out["p50_ratio_new_old"] = round(out["new"]["p50_ms"] / out["old"]["p50_ms"], 3)
    out["stage_median_ms"] = {  # where a difference lies: each stage's own median
        name: {stage: round(float(np.median(ms)), 2) for stage, ms in got.items()}
        for name, got in stages.items()
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for name in engines:
            s = out[name]
            print(f"{name} {out['mixes'][name]}: p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms")
        print(f"p50 ratio new/old: {out['p50_ratio_new_old']}")
        for name, medians in out["stage_median_ms"].items():
            print(f"{name} stage medians (ms): {medians}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
