"""The MaxP experiment of docs/results.md (issue #14), as it was run from the repository
root: the shipped reranker scoring each 64-word window (stride 32) as "title. window",
an article scored by its best window; development data only."""

import json
import sys
import time

import numpy as np

sys.path.insert(0, ".")
from evaluation.retrieval import evaluate_collection  # noqa: E402
from heads.cross_encoder import CrossEncoder  # noqa: E402
from heads.registry import resolve_head  # noqa: E402


class MaxP:
    """Score (query, "title. passage") as the max over "title. window" pairs."""

    def __init__(self, inner, words, stride):
        self.inner, self.words, self.stride = inner, words, stride
        self.precision = inner.precision

    def predict(self, pairs):
        flat, owner = [], []
        for i, (q, doc) in enumerate(pairs):
            title, _, body = doc.partition(". ")
            w = body.split()
            starts = list(range(0, max(len(w) - self.words, 0) + 1, self.stride))
            if starts[-1] + self.words < len(w):
                starts.append(len(w) - self.words)
            for s in starts:
                flat.append((q, f"{title}. {' '.join(w[s : s + self.words])}"))
                owner.append(i)
        scores = np.asarray(self.inner.predict(flat), dtype=np.float32)
        out = np.full(len(pairs), -np.inf, dtype=np.float32)
        np.maximum.at(out, np.asarray(owner), scores)
        return out


sets = [
    ("news-refind-dev", "data/beir/news-refind-dev", {}),
    ("news-topical-dev", "data/beir/news-topical-dev", {}),
    ("scifact-train60", "../shared/data/beir/scifact", {"split": "train", "sample": 60}),
]
base = CrossEncoder(resolve_head("reranker"))
res = {}
for words, stride in [(64, 32)]:
    rr = MaxP(base, words, stride)
    for name, path, extra in sets:
        t = time.perf_counter()
        r = evaluate_collection(
            path,
            stages=("bm25", "hybrid", "rerank"),
            cache="/tmp/nb-cache",
            reranker=rr,
            progress=False,
            curve_depths=(),
            **extra,
        )
        res[f"{name}@maxp{words}/{stride}"] = {
            "stages": r.stages,
            "p": r.p_rerank_vs_hybrid,
            "n": r.n_queries,
            "latency": r.latency_ms.get("rerank"),
            "s": round(time.perf_counter() - t),
        }
        s = r.stages
        print(
            name,
            words,
            stride,
            "MRR",
            {k: round(s[k]["mrr@10"], 4) for k in s},
            "nDCG",
            {k: round(s[k]["ndcg@10"], 4) for k in s},
            r.p_rerank_vs_hybrid,
            r.latency_ms.get("rerank"),
            flush=True,
        )
with open("maxp-64-32.json", "w") as f:
    json.dump(res, f, indent=1)
