"""Replay the rerank stage under other score scalings (development dumps only).

Session 31, issue #14: does min-max scaling of the four scores over the 10 reranked
articles cost the pipeline on CRAN and CISI? Each variant scales the cross-encoder's
probability, the fused RRF score, BM25's and the dense score its own way; every mix of
the grid (steps of 0.1, cross-encoder > 0) is replayed on the development dumps of
``benchmarks/fusion_features.py --ce-depth 10 --stage-depth 0``. The ``minmax`` variant
is asserted equal to the product's own replay (``benchmarks/fit_fusion.py``).

    python docs/results/rerank-scaling31/scaling.py runs/features/*-dev.jsonl
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from fit_fusion import evaluate, load, ranked  # noqa: E402

from evaluation.scoring import measure  # noqa: E402

SHIPPED = (0.4, 0.0, 0.3, 0.3)
NAMES = ("ce", "fused", "bm25", "dense")
Scale = Callable[[np.ndarray], np.ndarray]


def minmax(v: np.ndarray) -> np.ndarray:
    lo, hi = v.min(), v.max()
    return np.ones_like(v) if hi - lo <= 0 else (v - lo) / (hi - lo)


def by_max(v: np.ndarray) -> np.ndarray:
    hi = v.max()
    return np.ones_like(v) if hi <= 0 else v / hi


def zscore(v: np.ndarray) -> np.ndarray:
    sd = v.std()
    return np.zeros_like(v) if sd <= 0 else (v - v.mean()) / sd


def raw(v: np.ndarray) -> np.ndarray:
    return v


def logit_z(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return zscore(np.log(p / (1 - p)))


VARIANTS: dict[str, dict[str, Scale]] = {
    "minmax": dict(ce=minmax, fused=minmax, bm25=minmax, dense=minmax),  # the product
    "ce-abs": dict(ce=raw, fused=minmax, bm25=minmax, dense=minmax),
    "ce-abs,max": dict(ce=raw, fused=by_max, bm25=by_max, dense=minmax),
    "max": dict(ce=by_max, fused=by_max, bm25=by_max, dense=by_max),
    "z": dict(ce=logit_z, fused=zscore, bm25=zscore, dense=zscore),
    "z-ce,minmax": dict(ce=logit_z, fused=minmax, bm25=minmax, dense=minmax),
}


def arrays(q: dict, depth: int = 10) -> tuple[list[str], dict[str, np.ndarray]]:
    """The fused top ``depth`` of a dumped query and each score of them; a retriever's
    missing score counts as its lowest, as in ``ranker.rerank.stage_values``."""
    cands = sorted((c for c in q["cands"] if c["fused"]), key=lambda c: c["fused"][0])[:depth]
    out = {
        "ce": np.array([c["ce"] for c in cands]),
        "fused": np.array([c["fused"][1] for c in cands]),
    }
    for name in ("bm25", "dense"):
        got = [c[name][1] if c[name] else None for c in cands]
        low = min((g for g in got if g is not None), default=0.0)
        out[name] = np.array([low if g is None else g for g in got], dtype=float)
    return [c["doc"] for c in cands], out


def run_variant(data: dict[str, list[dict]], variant: str, mix: tuple) -> dict[str, float]:
    scale = VARIANTS[variant]
    result = {}
    for name, qs in data.items():
        run = {}
        for q in qs:
            docs, values = arrays(q)
            s = sum((w / sum(mix)) * scale[k](values[k]) for k, w in zip(NAMES, mix) if w)
            order = sorted(range(len(docs)), key=lambda i: (-s[i], i))
            run[q["qid"]] = {docs[i]: float(len(docs) - r) for r, i in enumerate(order)}
        qrels = {q["qid"]: q["qrels"] for q in qs}
        result[name] = measure(qrels, {"x": run})["x"]["ndcg@10"]
    return result


def main(files: list[str]) -> None:
    data = {Path(f).name.split(".")[0]: load(f) for f in files}
    product = evaluate(data, lambda q: ranked(q, 10, SHIPPED))
    mine = run_variant(data, "minmax", SHIPPED)
    for n in data:
        assert abs(product[n]["ndcg@10"] - mine[n]) < 1e-4, (n, product[n], mine[n])
    steps = np.round(np.arange(0, 1.01, 0.1), 1)
    grid = [m for m in itertools.product(steps, repeat=4) if abs(sum(m) - 1) < 1e-9 and m[0] > 0]
    rows = []
    for variant in VARIANTS:
        for mix in grid:
            r = run_variant(data, variant, mix)
            rows.append((float(np.mean(list(r.values()))), variant, tuple(map(float, mix)), r))
    rows.sort(key=lambda x: -x[0])
    names = list(data)

    def show(label: str, mix: str, r: dict[str, float]) -> None:
        mean = float(np.mean(list(r.values())))
        print(f"{label:20s} {mix:16s} {mean:.4f} " + " ".join(f"{r[n]:.3f}" for n in names))

    print(f"{'variant':20s} {'mix':16s} {'mean':6s} " + " ".join(names))
    show("minmax (shipped)", ":".join(map(str, SHIPPED)), mine)
    show("hybrid (fused only)", "", run_variant(data, "minmax", (0.0, 1.0, 0.0, 0.0)))
    print("--- best mix of each variant")
    for variant in VARIANTS:
        best = next(x for x in rows if x[1] == variant)
        show(variant, ":".join(map(str, best[2])), best[3])
    print("--- top 15")
    for x in rows[:15]:
        show(x[1], ":".join(map(str, x[2])), x[3])
    out = Path(__file__).with_name("rows.json")
    out.write_text(json.dumps([[x[0], x[1], list(x[2]), x[3]] for x in rows]))


if __name__ == "__main__":
    main(sys.argv[1:])
