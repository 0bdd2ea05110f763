"""Replay a query-dependent rerank mix over ``fusion_features.py`` dumps: one mix when
BM25's best article leads its second by at least ``tau`` (relative to the best score),
another otherwise.

    python benchmarks/fusion_gate.py runs/features/news-refind-dev.jsonl \\
        runs/features/news-topical-dev.jsonl runs/features/scifact-dev.jsonl \\
        runs/features/test/cran.jsonl#even runs/features/test/cisi.jsonl#even

The idea tested: a re-finding query usually has one BM25 hit far ahead of the rest,
where BM25's own score should decide; a technical query (CRAN, CISI) has flat BM25
scores, where the fused order does better. Prints the BM25 lead's quartiles per
collection, the fixed mixes, then each gate (``tau``, mix if confident, mix otherwise),
nDCG@10 through the product's own :func:`ranker.rerank.rerank_articles` at depth 10.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_fusion import evaluate, load, name_of, parse_setting, ranked, stage_run  # noqa: E402

FIXED = ("0.2:0.8:0:0", "0.4:0:0.4:0.2", "0.4:0.6:0:0", "0.3:0.4:0.2:0.1")
GATES = (
    ("0.4:0:0.4:0.2", "0.2:0.8:0:0"),
    ("0.4:0:0.4:0.2", "0.4:0.6:0:0"),
    ("0.4:0:0.6:0", "0.2:0.8:0:0"),
    ("0.4:0:0.4:0.2", "0.3:0.5:0.1:0.1"),
)


def bm25_lead(q: dict) -> float:
    """(best - second) / best of BM25's scores among the query's dumped candidates."""
    s = sorted((c["bm25"][1] for c in q["cands"] if c["bm25"]), reverse=True)
    return (s[0] - s[1]) / s[0] if len(s) > 1 and s[0] > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="+")
    p.add_argument("--taus", default="0.15,0.2,0.25,0.3,0.4")
    p.add_argument("--metric", default="ndcg@10")
    args = p.parse_args(argv)
    data = {name_of(f): load(f) for f in args.files}
    m = args.metric
    for name, qs in data.items():
        lead = np.percentile([bm25_lead(q) for q in qs], [25, 50, 75])
        quartiles = " ".join(f"{v:.3f}" for v in lead)
        print(f"{name}: {len(qs)} queries, BM25 lead quartiles {quartiles}")

    def show(label: str, make) -> None:
        res = evaluate(data, make)
        mean = np.mean([res[n][m] for n in data])
        print(f"| {label} | {mean:.4f} | " + " | ".join(f"{res[n][m]:.3f}" for n in data) + " |")

    print("\n| setting | mean | " + " | ".join(data) + " |")
    print("|" + "---|" * (len(data) + 2))
    for stage in ("bm25", "dense", "fused"):
        show(f"stage {stage}", lambda q, s=stage: stage_run(q, s))
    for text in FIXED:
        mix, depth = parse_setting(text)
        show(f"mix {text}", lambda q, mix=mix, d=depth: ranked(q, d, mix))
    for tau in (float(t) for t in args.taus.split(",")):
        for sure, unsure in GATES:
            a, b = parse_setting(sure)[0], parse_setting(unsure)[0]
            show(
                f"lead >= {tau:g}: {sure}, else {unsure}",
                lambda q, t=tau, a=a, b=b: ranked(q, 10, a if bm25_lead(q) >= t else b),
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
