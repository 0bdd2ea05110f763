"""Scoring runs: ranx metrics, paired significance tests and TREC run files.

A run is ``{query id: {doc id: score}}``; a query a run left empty scores 0.

>>> qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
>>> measure(qrels, {"r": {"q1": {"d1": 2.0, "x": 1.0}, "q2": {"x": 2.0, "d2": 1.0}}})["r"]["mrr@10"]
0.75
"""

from __future__ import annotations

import math
from pathlib import Path

METRICS = ("ndcg@10", "mrr@10", "recall@100", "map")
#: how the reports head the columns of :data:`METRICS`
HEADERS = ("nDCG@10", "MRR@10", "R@100", "MAP")
Run = dict[str, dict[str, float]]


def measure(qrels: dict[str, dict[str, int]], runs: dict[str, Run]) -> dict[str, dict[str, float]]:
    """Mean metrics per run with ranx (queries a run left empty score 0)."""
    from ranx import Qrels, evaluate
    from ranx import Run as RxRun

    q = Qrels(qrels)
    out = {}
    for name, run in runs.items():
        full = {qid: run.get(qid) or {"__none__": 0.0} for qid in qrels}
        scores = evaluate(q, RxRun(full, name=name), list(METRICS), make_comparable=True)
        out[name] = {m: round(float(scores[m]), 4) for m in METRICS}
    return out


def significance(
    qrels: dict[str, dict[str, int]], runs: dict[str, Run], baseline: str = "bm25"
) -> dict[str, dict]:
    """Paired t-test p-values of each run against ``baseline`` (ranx.compare), per metric."""
    from ranx import Qrels, compare
    from ranx import Run as RxRun

    if baseline not in runs or len(runs) < 2 or len(qrels) < 2:
        return {}
    rx = [RxRun({q: runs[n].get(q) or {"__none__": 0.0} for q in qrels}, name=n) for n in runs]
    report = compare(Qrels(qrels), rx, list(METRICS), stat_test="student", make_comparable=True)
    d = report.to_dict()
    return {
        n: {m: _p_value(d[baseline]["comparisons"][n][m]) for m in METRICS}
        for n in runs
        if n != baseline
    }


def _p_value(p: float) -> float | None:
    """Rounded p, or None when the test is undefined (every paired difference is 0)."""
    return None if math.isnan(p) else round(float(p), 4)


def rerank_vs_hybrid(qrels: dict[str, dict[str, int]], runs: dict[str, Run]) -> dict[str, float]:
    """p-values of rerank against the hybrid ranking it reorders: does reranking help?"""
    if "rerank" not in runs or "hybrid" not in runs:
        return {}
    pair = {"hybrid": runs["hybrid"], "rerank": runs["rerank"]}
    return significance(qrels, pair, baseline="hybrid").get("rerank", {})


#: the stages the pipeline's rerank stage is measured against (each one on its own)
SINGLE_STAGES = ("bm25", "dense", "hybrid")


def best_single_stage(stages: dict[str, dict[str, float]], metric: str = "ndcg@10") -> str | None:
    """The first-stage ranking (of :data:`SINGLE_STAGES`) with the highest ``metric``;
    the earlier one of a tie.

    >>> best_single_stage({"bm25": {"ndcg@10": 0.9}, "dense": {"ndcg@10": 0.7}})
    'bm25'
    >>> best_single_stage({"rerank": {"ndcg@10": 0.9}}) is None
    True
    """
    present = [s for s in SINGLE_STAGES if s in stages]
    return max(present, key=lambda s: stages[s][metric]) if present else None


def rerank_vs_best(
    qrels: dict[str, dict[str, int]], runs: dict[str, Run], stages: dict[str, dict[str, float]]
) -> dict:
    """Is the pipeline at or above its best single stage? ``{"stage": the best of bm25,
    dense and hybrid by nDCG@10, "delta": rerank minus it, "p": metric -> paired p}``;
    empty without a rerank run or a single stage."""
    best = best_single_stage(stages)
    if "rerank" not in runs or best is None:
        return {}
    pair = {best: runs[best], "rerank": runs["rerank"]}
    return {
        "stage": best,
        "delta": round(stages["rerank"]["ndcg@10"] - stages[best]["ndcg@10"], 4),
        "p": significance(qrels, pair, baseline=best).get("rerank", {}),
    }


def read_trec(path: str | Path) -> Run:
    """A TREC run file (``qid Q0 docid rank score name``) back as {qid: {docid: score}}."""
    run: Run = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            qid, _, doc_id, _, score, *_ = line.split()
            run.setdefault(qid, {})[doc_id] = float(score)
    return run


def write_trec(run: Run, path: Path, name: str) -> None:
    """One TREC run file: ``qid Q0 docid rank score name``."""
    with open(path, "w", encoding="utf-8") as f:
        for qid, docs in run.items():
            ranked = sorted(docs.items(), key=lambda kv: -kv[1])
            for rank, (doc_id, score) in enumerate(ranked, start=1):
                f.write(f"{qid} Q0 {doc_id} {rank} {score:.6f} {name}\n")
