"""Paired comparison of two evaluation runs of one collection (e.g. two rerankers).

    python benchmarks/compare_runs.py --qrels data/beir/news-refind-test/qrels/test.tsv \\
        --a runs/eval-v1/news-refind-test/run.rerank.trec \\
        --b runs/eval/news-refind-test/run.rerank.trec

Prints each run's nDCG@10 / MRR@10 / R@100 / MAP (ranx, the same scoring as
``newsrank eval retrieval``) and the paired two-sided t-test p of B against A, with how
many queries B wins, loses and ties on nDCG@10. ``--json``: one JSON object instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpora.beir import read_qrels  # noqa: E402
from evaluation.scoring import METRICS, measure, read_trec, significance  # noqa: E402


def positive_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """The positive judgments of a BEIR qrels file (:func:`corpora.beir.read_qrels`), of
    the queries that have one: the judged queries ``newsrank eval retrieval`` scores."""
    out = {q: {d: s for d, s in docs.items() if s > 0} for q, docs in read_qrels(path).items()}
    return {q: docs for q, docs in out.items() if docs}


def per_query_ndcg(qrels: dict[str, dict[str, int]], run: dict) -> dict[str, float]:
    from ranx import Qrels, Run, evaluate

    full = {q: run.get(q) or {"__none__": 0.0} for q in qrels}
    scores = evaluate(Qrels(qrels), Run(full), "ndcg@10", return_mean=False, make_comparable=True)
    return dict(zip(qrels, map(float, scores)))


def compare(qrels_path: str, a: str, b: str) -> dict:
    qrels = positive_qrels(qrels_path)
    runs = {"a": read_trec(a), "b": read_trec(b)}
    means = measure(qrels, runs)
    p = significance(qrels, runs, baseline="a").get("b", {})
    na, nb = per_query_ndcg(qrels, runs["a"]), per_query_ndcg(qrels, runs["b"])
    wins = sum(nb[q] > na[q] + 1e-9 for q in qrels)
    losses = sum(nb[q] < na[q] - 1e-9 for q in qrels)
    return {
        "queries": len(qrels),
        "a": {"run": a, **means["a"]},
        "b": {"run": b, **means["b"]},
        "p_b_vs_a": p,
        "ndcg@10 b wins / losses / ties": [wins, losses, len(qrels) - wins - losses],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qrels", required=True)
    ap.add_argument("--a", required=True, help="TREC run file A (the baseline)")
    ap.add_argument("--b", required=True, help="TREC run file B")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    out = compare(args.qrels, args.a, args.b)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{out['queries']} judged queries")
    for name in ("a", "b"):
        row = out[name]
        print(f"{name}: " + ", ".join(f"{m} {row[m]:.4f}" for m in METRICS) + f"  ({row['run']})")
    print("p (B vs A): " + ", ".join(f"{m} {v}" for m, v in out["p_b_vs_a"].items()))
    print("nDCG@10 B wins / losses / ties:", *out["ndcg@10 b wins / losses / ties"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
