"""Issue #14 experiment: the shipped reranker (trained on 128-token pairs) cutting pairs
at 128 against 256 tokens at inference, on development data only.

    python benchmarks/rerank_length.py [--cache /tmp/nb-cache] [--out results.json]
    python benchmarks/rerank_length.py --lengths 128 --maxp 64:32   # MaxP over windows

Sets: news-refind-dev and news-topical-dev (data/beir, the development halves of the
hand-written news benchmark) and SciFact's 60 reranker-validation train queries
(../shared/data). Stages bm25, hybrid and rerank, the product's defaults otherwise.
``--maxp WORDS:STRIDE``: instead of one cut pair, each passage is read as
"title. window" for every window of WORDS words (STRIDE apart), the article scored by
its best window. Results: docs/results.md, "A longer reranker input without retraining".
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

import numpy as np  # noqa: E402

from evaluation.options import DEV_SETS  # noqa: E402
from evaluation.retrieval import evaluate_collection  # noqa: E402
from heads.cross_encoder import CrossEncoder  # noqa: E402
from heads.registry import resolve_head  # noqa: E402


class MaxP:
    """A pair scorer reading ``(query, "title. passage")`` as its best window pair."""

    def __init__(self, inner: CrossEncoder, words: int, stride: int) -> None:
        self.inner, self.words, self.stride = inner, words, stride
        self.precision = inner.precision

    def predict(self, pairs):
        flat, owner = [], []
        for i, (query, doc) in enumerate(pairs):
            title, _, body = doc.partition(". ")
            w = body.split()
            starts = list(range(0, max(len(w) - self.words, 0) + 1, self.stride))
            if starts[-1] + self.words < len(w):
                starts.append(len(w) - self.words)
            for s in starts:
                flat.append((query, f"{title}. {' '.join(w[s : s + self.words])}"))
                owner.append(i)
        scores = np.asarray(self.inner.predict(flat), dtype=np.float32)
        out = np.full(len(pairs), -np.inf, dtype=np.float32)
        np.maximum.at(out, np.asarray(owner), scores)
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default="runs/eval-cache")
    parser.add_argument("--lengths", default="128,256")
    parser.add_argument("--maxp", default=None, metavar="WORDS:STRIDE", help="windows, MaxP")
    parser.add_argument("--out", default="runs/rerank-length.json")
    args = parser.parse_args(argv)
    windows = tuple(int(x) for x in args.maxp.split(":")) if args.maxp else None
    out = {}
    for length in (int(x) for x in args.lengths.split(",")):
        reranker = CrossEncoder(resolve_head("reranker"), max_length=length)
        tag = f"{length}" if windows is None else f"maxp{windows[0]}/{windows[1]}"
        if windows is not None:
            reranker = MaxP(reranker, *windows)
        for spec in DEV_SETS:
            t = time.perf_counter()
            r = evaluate_collection(
                spec.path,
                stages=("bm25", "hybrid", "rerank"),
                cache=args.cache,
                reranker=reranker,
                progress=False,
                curve_depths=(),
                split=spec.split,
                sample=spec.sample,
                half=spec.half,
            )
            out[f"{spec.name}@{tag}"] = {
                "stages": r.stages,
                "p_rerank_vs_hybrid": r.p_rerank_vs_hybrid,
                "n": r.n_queries,
                "latency": r.latency_ms.get("rerank"),
                "s": round(time.perf_counter() - t),
            }
            mrr = {k: round(v["mrr@10"], 4) for k, v in r.stages.items()}
            print(spec.name, tag, "MRR@10", mrr, flush=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
