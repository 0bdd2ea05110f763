"""Reranker evaluation: BM25, dense, hybrid (RRF) and cross-encoder reranking, nDCG@10.

    python -m evaluation.rerank_beir --beir ../shared/data/beir/scifact \\
        --smart ../shared/data/classic_ir/time ../shared/data/classic_ir/med --json

Candidates: bm25s (Lucene BM25, k1 1.5, b 0.75, English stopwords) and the packaged
sentence embedder (cosine), each top-100, fused by reciprocal rank fusion (k = 60);
the cross-encoder rescores the fused top ``depth``. A score interpolation
``alpha * minmax(rerank) + (1 - alpha) * minmax(fused)`` is reported too; alpha is
chosen (0, 0.1, ..., 1) on the SciFact *train* queries the reranker held out
(never on test queries).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import sys
from pathlib import Path

import numpy as np

from newsrank.config import DEFAULT_EMBEDDER
from newsrank.modelpath import resolve_model

log = logging.getLogger(__name__)
Run = dict[str, dict[str, float]]
ALPHAS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def bm25_run(corpus: dict[str, str], queries: dict[str, str], k: int = 100) -> Run:
    import bm25s

    ids = list(corpus)
    ret = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
    ret.index(
        bm25s.tokenize([corpus[d] for d in ids], stopwords="en", show_progress=False),
        show_progress=False,
    )
    qids = list(queries)
    docs, scores = ret.retrieve(
        bm25s.tokenize([queries[q] for q in qids], stopwords="en", show_progress=False),
        k=min(k, len(ids)),
        show_progress=False,
    )
    return {
        q: {ids[int(d)]: float(s) for d, s in zip(docs[i], scores[i], strict=True) if s > 0}
        for i, q in enumerate(qids)
    }


def dense_run(
    corpus: dict[str, str], queries: dict[str, str], k: int = 100, cache: Path | None = None
) -> Run:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(resolve_model(DEFAULT_EMBEDDER), device="cpu")
    model.max_seq_length = 256
    ids = list(corpus)
    key = hashlib.sha1("\n".join(ids[:50] + [str(len(ids))]).encode()).hexdigest()[:12]
    path = cache / f"emb-{key}.npy" if cache else None
    if path and path.is_file():
        emb = np.load(path)
    else:
        emb = model.encode([corpus[d] for d in ids], batch_size=32, normalize_embeddings=True)
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, emb)
    qids = list(queries)
    qemb = model.encode([queries[q] for q in qids], batch_size=64, normalize_embeddings=True)
    sims = qemb @ emb.T
    run: Run = {}
    for i, q in enumerate(qids):
        top = np.argsort(-sims[i])[:k]
        run[q] = {ids[j]: float(sims[i, j]) for j in top}
    return run


def rrf(runs: list[Run], k: int = 60, depth: int = 100) -> Run:
    """Reciprocal rank fusion of several runs (top ``depth`` kept)."""
    fused: Run = {}
    for run in runs:
        for q, docs in run.items():
            ranked = sorted(docs, key=lambda d: -docs[d])
            for rank, d in enumerate(ranked):
                fused.setdefault(q, {})
                fused[q][d] = fused[q].get(d, 0.0) + 1.0 / (k + rank + 1)
    return {q: dict(sorted(v.items(), key=lambda x: -x[1])[:depth]) for q, v in fused.items()}


def rerank_run(ce, corpus, queries, fused: Run, depth: int) -> Run:
    """Cross-encoder scores of the fused top ``depth`` of each query."""
    pairs, keys = [], []
    for q, docs in fused.items():
        for d in list(docs)[:depth]:
            pairs.append((queries[q], corpus[d]))
            keys.append((q, d))
    scores = ce.predict(pairs)
    out: Run = {}
    for (q, d), s in zip(keys, scores, strict=True):
        out.setdefault(q, {})[d] = float(s)
    return out


def _minmax(x: dict[str, float]) -> dict[str, float]:
    lo, hi = min(x.values()), max(x.values())
    return {d: (v - lo) / (hi - lo) if hi > lo else 0.0 for d, v in x.items()}


def interpolate(rerank: Run, fused: Run, alpha: float) -> Run:
    out: Run = {}
    for q, docs in rerank.items():
        a, b = _minmax(docs), _minmax({d: fused[q][d] for d in docs})
        out[q] = {d: alpha * a[d] + (1 - alpha) * b[d] for d in docs}
    return out


def ndcg10(qrels: dict, run: Run) -> float:
    from ranx import Qrels, evaluate
    from ranx import Run as RxRun

    judged = {q: r for q, r in qrels.items() if r}
    run = {q: (run.get(q) or {"__none__": 0.0}) for q in judged}
    return float(evaluate(Qrels(judged), RxRun(run), "ndcg@10"))


def candidates(corpus, queries, cache: Path | None) -> dict[str, Run]:
    bm25 = bm25_run(corpus, queries)
    dense = dense_run(corpus, queries, cache=cache)
    return {"bm25": bm25, "dense": dense, "hybrid": rrf([bm25, dense])}


def evaluate_collection(name, corpus, queries, qrels, ce, depth, alpha, cache) -> dict:
    queries = {q: t for q, t in queries.items() if q in qrels}
    runs = candidates(corpus, queries, cache)
    runs["rerank"] = rerank_run(ce, corpus, queries, runs["hybrid"], depth)
    runs[f"interp_{alpha}"] = interpolate(runs["rerank"], runs["hybrid"], alpha)
    out = {k: round(ndcg10(qrels, r), 4) for k, r in runs.items()}
    return {"collection": name, "queries": len(queries), "depth": depth, **out}


def choose_alpha(beir_dir: str, ce, depth: int, cache: Path | None, n: int = 60, seed: int = 13):
    """Alpha (and nDCG@10 per alpha) on the SciFact train queries held out in training."""
    from training.data_rerank import read_beir

    corpus, queries, qrels = read_beir(beir_dir, "train")
    qids = [q for q in qrels if q in queries]
    order = list(range(len(qids)))
    random.Random(seed).shuffle(order)  # same order as training.reranker's held-out queries
    held = {qids[i]: queries[qids[i]] for i in order[:n]}
    runs = candidates(corpus, held, cache)
    rr = rerank_run(ce, corpus, held, runs["hybrid"], depth)
    qrels = {q: qrels[q] for q in held}
    scores = {a: ndcg10(qrels, interpolate(rr, runs["hybrid"], a)) for a in ALPHAS}
    scores["hybrid"] = ndcg10(qrels, runs["hybrid"])
    best = max(ALPHAS, key=lambda a: scores[a])
    return best, {str(k): round(v, 4) for k, v in scores.items()}


def main(argv: list[str] | None = None) -> int:
    from evaluation.smart import read_smart
    from ranker.heads.cross_encoder import CrossEncoder
    from training.data_rerank import read_beir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="reranker")
    ap.add_argument("--beir", nargs="*", default=[], help="BEIR dirs (test qrels)")
    ap.add_argument("--smart", nargs="*", default=[], help="SMART collection dirs")
    ap.add_argument("--depth", type=int, default=100)
    ap.add_argument("--alpha", type=float, default=None, help="skip choosing it")
    ap.add_argument("--alpha-from", default=None, help="BEIR SciFact dir to choose alpha on")
    ap.add_argument("--cache", default="runs/cache")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    cache = Path(a.cache) if a.cache else None
    ce = CrossEncoder(a.model, batch_size=a.batch_size)
    result: dict = {"model": a.model}
    alpha = a.alpha
    if alpha is None:
        src = a.alpha_from or (a.beir[0] if a.beir else None)
        if src:
            alpha, result["alpha_search"] = choose_alpha(src, ce, a.depth, cache)
        else:
            alpha = 1.0
    result["alpha"] = alpha
    for d in a.beir:
        corpus, queries, qrels = read_beir(d, "test")
        name = Path(d).name
        result[name] = evaluate_collection(name, corpus, queries, qrels, ce, a.depth, alpha, cache)
        print(json.dumps(result[name]), file=sys.stderr)
    for d in a.smart:
        c = read_smart(d)
        result[c.name] = evaluate_collection(
            c.name, c.corpus, c.queries, c.qrels, ce, a.depth, alpha, cache
        )
        print(json.dumps(result[c.name]), file=sys.stderr)
    print(json.dumps(result, indent=2) if a.json else result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
