"""Dense pseudo-relevance feedback (Rocchio) probe on development sets: not product code.

PRF_SOURCE=dense|bm25|none, PRF_K, PRF_ALPHA: q' = alpha q + (1 - alpha) mean(top-k vectors).
Runs `newsrank eval retrieval` with its arguments from a clone of the repository in
/tmp/prf/repo (so that editing the checkout cannot change a run halfway); sweep.sh calls it.
"""

import os
import sys

import numpy as np

sys.path.insert(0, "/tmp/prf/repo")

import ranker.retrieve as rr  # noqa: E402

SRC = os.environ.get("PRF_SOURCE", "none")
K = int(os.environ.get("PRF_K", "3"))
A = float(os.environ.get("PRF_ALPHA", "0.7"))
orig = rr.Retriever.run


def run(self, query, depth, mask, timings, vector=None, shards=None):
    hits = orig(self, query, depth, mask, timings, vector, shards)
    if SRC == "none" or "dense" not in hits:
        return hits
    if vector is None:
        vector = self.embedder.encode([query], queries=True)[0]
    if SRC == "bm25":
        src = hits["bm25"] if "bm25" in hits else self.bm25.retrieve(query, K, mask)
    else:
        src = hits["dense"]
    top = [int(p) for p in src.ids[:K]]
    if not top:
        return hits
    fb = self.dense.vectors_of(top).mean(axis=0)
    q = A * np.asarray(vector, np.float32) + (1 - A) * fb
    q = (q / np.linalg.norm(q)).astype(np.float32)
    hits["dense"] = self.dense.search(q, depth, mask)
    return hits


rr.Retriever.run = run
from newsrank.cli import main  # noqa: E402

raise SystemExit(main(sys.argv[1:]))
