"""How the dense side of a live index should delete: FAISS with a live bitmap, FAISS
``remove_ids``, or a library that removes vectors (usearch).

    python benchmarks/vector_deletes.py [--vectors var/old-index/dense.faiss] [--n 20000]

The live index (docs/live-index.md) never changes a segment's FAISS index: a deleted
passage is left out of each search by the segment's live bitmap (``IDSelectorBitmap``).
This script measures that against the alternatives the issue names, on the same
vectors: the demo corpus's passage vectors when a FAISS file of them is given (any
index holding them, e.g. a segment's ``dense.faiss``), else clustered synthetic unit
vectors (200 centres, Gaussian noise; said in the output).

Measured, as medians over ``--queries`` query vectors (stored vectors plus noise), k=100:
search with no deletions; search with 1% and 10% of the vectors deleted through the
bitmap; ``IndexIDMap2.remove_ids`` of 100 ids (FAISS's own delete); and usearch's HNSW
index (``pip install usearch``; skipped when missing): build, search, ``remove`` of 100
keys, recall@10 against exact search. Numbers go into docs/benchmarks.md with the
machine (printed first).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import faiss
import numpy as np

from newsrank.machine import describe


def load_vectors(path: str | None, n: int, seed: int) -> tuple[np.ndarray, str]:
    if path and Path(path).is_file():
        index = faiss.read_index(path)
        vectors = index.reconstruct_n(0, min(n, index.ntotal))
        return np.ascontiguousarray(vectors, dtype=np.float32), f"{path} ({len(vectors)} real)"
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, 384)).astype(np.float32)
    vectors = centres[rng.integers(0, 200, n)] + 0.35 * rng.normal(size=(n, 384))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32), f"synthetic clustered ({n})"


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def queries_of(vectors: np.ndarray, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    picked = vectors[rng.integers(0, len(vectors), count)]
    noisy = picked + 0.05 * rng.normal(size=picked.shape).astype(np.float32)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def faiss_bitmap(vectors: np.ndarray, queries: np.ndarray, k: int, seed: int) -> dict:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    out: dict[str, float] = {}

    def run(params=None):
        for q in queries:
            index.search(q.reshape(1, -1), k, params=params)

    out["search_none_ms"] = median_ms(run, 3) / len(queries)
    rng = np.random.default_rng(seed)
    for share in (0.01, 0.10):
        live = np.ones(len(vectors), dtype=bool)
        live[rng.choice(len(vectors), int(share * len(vectors)), replace=False)] = False
        bits = np.packbits(live, bitorder="little")
        params = faiss.SearchParameters()
        params.sel = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
        spent = median_ms(lambda p=params: run(p), 3)
        out[f"search_{int(share * 100)}pct_deleted_ms"] = spent / len(queries)
        _, ids = index.search(queries[:5], k, params=params)
        assert live[ids[ids >= 0]].all(), "a deleted vector came back"
    # the cost of a delete itself: a new bitmap (what a commit's marker turns into)
    out["delete_100_ms"] = median_ms(lambda: np.packbits(live, bitorder="little"), 20)
    return out


def faiss_remove_ids(vectors: np.ndarray, repeats: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    times = []
    for _ in range(repeats):
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
        index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
        gone = rng.choice(len(vectors), 100, replace=False).astype(np.int64)
        t = time.perf_counter()
        index.remove_ids(faiss.IDSelectorBatch(gone))
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def usearch_part(vectors: np.ndarray, queries: np.ndarray, k: int, seed: int) -> dict | None:
    try:
        from usearch.index import Index
    except ImportError:
        return None
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    t = time.perf_counter()
    index = Index(ndim=vectors.shape[1], metric="ip", dtype="f32", connectivity=32)
    index.add(np.arange(len(vectors)), vectors, threads=1)
    build_s = time.perf_counter() - t

    def run():
        for q in queries:
            index.search(q, k)

    search_ms = median_ms(run, 3) / len(queries)
    found = [set(index.search(q, 10).keys.tolist()) for q in queries]
    recall = float(np.mean([len(f & set(t)) / 10 for f, t in zip(found, truth)]))
    rng = np.random.default_rng(seed)
    gone = rng.choice(len(vectors), 100, replace=False)
    t = time.perf_counter()
    index.remove(gone)
    remove_ms = (time.perf_counter() - t) * 1000
    after_ms = median_ms(run, 3) / len(queries)
    return {
        "build_s": round(build_s, 2),
        "search_ms": round(search_ms, 3),
        "recall_at_10": round(recall, 4),
        "remove_100_ms": round(remove_ms, 3),
        "search_after_remove_ms": round(after_ms, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vectors", default=None, help="a FAISS file holding real vectors")
    ap.add_argument("--n", type=int, default=20000, help="vectors (synthetic, or at most)")
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("-k", type=int, default=100)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    faiss.omp_set_num_threads(1)
    vectors, source = load_vectors(args.vectors, args.n, args.seed)
    queries = queries_of(vectors, args.queries, args.seed)
    report = {
        "machine": describe(),
        "vectors": source,
        "k": args.k,
        "faiss_flat_bitmap": {
            k: round(v, 3) for k, v in faiss_bitmap(vectors, queries, args.k, args.seed).items()
        },
        "faiss_remove_ids_100_ms": round(faiss_remove_ids(vectors, 5, args.seed), 3),
        "usearch_hnsw": usearch_part(vectors, queries, args.k, args.seed),
    }
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"machine: {report['machine']}\nvectors: {source}, k={args.k}, 1 thread")
    for name, value in report["faiss_flat_bitmap"].items():
        print(f"  faiss flat + live bitmap  {name:28s} {value:9.3f}")
    print(f"  faiss IndexIDMap2.remove_ids(100)       {report['faiss_remove_ids_100_ms']:9.3f} ms")
    if report["usearch_hnsw"] is None:
        print("  usearch: not installed (pip install usearch), skipped")
    else:
        for name, value in report["usearch_hnsw"].items():
            print(f"  usearch hnsw  {name:28s} {value}")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
