"""Issue #14 experiment: the shipped reranker (trained on 128-token pairs) cutting pairs
at 128 against 256 tokens at inference, on development data only.

    python benchmarks/rerank_length.py [--cache /tmp/nb-cache] [--out results.json]

Sets: news-refind-dev and news-topical-dev (data/beir, the development halves of the
hand-written news benchmark) and SciFact's 60 reranker-validation train queries
(../shared/data). Stages bm25, hybrid and rerank, the product's defaults otherwise.
Results: docs/results.md, "A longer reranker input without retraining".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.retrieval import evaluate_collection  # noqa: E402
from heads.cross_encoder import CrossEncoder  # noqa: E402
from heads.registry import resolve_head  # noqa: E402

SETS = [
    ("news-refind-dev", "data/beir/news-refind-dev", {}),
    ("news-topical-dev", "data/beir/news-topical-dev", {}),
    ("scifact-train60", "../shared/data/beir/scifact", {"split": "train", "sample": 60}),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default="runs/eval-cache")
    parser.add_argument("--lengths", default="128,256")
    parser.add_argument("--out", default="runs/rerank-length.json")
    args = parser.parse_args(argv)
    out = {}
    for length in (int(x) for x in args.lengths.split(",")):
        reranker = CrossEncoder(resolve_head("reranker"), max_length=length)
        for name, path, extra in SETS:
            t = time.perf_counter()
            r = evaluate_collection(
                path,
                stages=("bm25", "hybrid", "rerank"),
                cache=args.cache,
                reranker=reranker,
                progress=False,
                curve_depths=(),
                **extra,
            )
            out[f"{name}@{length}"] = {
                "stages": r.stages,
                "p_rerank_vs_hybrid": r.p_rerank_vs_hybrid,
                "n": r.n_queries,
                "latency": r.latency_ms.get("rerank"),
                "s": round(time.perf_counter() - t),
            }
            mrr = {k: round(v["mrr@10"], 4) for k, v in r.stages.items()}
            print(name, length, "MRR@10", mrr, flush=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
