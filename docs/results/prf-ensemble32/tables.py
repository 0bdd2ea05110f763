"""The tables of prf-output.txt from the sweep's folders (session 32, not shipped).

python tables.py   # reads /tmp/prf/out (retrievers) and /tmp/prf/out-rr (with rerank)
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, "/work/main")

from evaluation.scoring import measure, read_trec, significance  # noqa: E402

SETS = {
    "refind": "news-refind-dev",
    "topical": "news-topical-dev",
    "scifact": "scifact-dev",
    "time": "time-dev",
    "med": "med-dev",
    "cran": "cran-dev",
    "cisi": "cisi-dev",
    "dl19": "dl19-dev",
}


def ndcg(folder: Path, stage: str) -> float | None:
    path = folder / "results.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["stages"][stage]["ndcg@10"]


def table(base: Path, stages: tuple[str, ...]) -> None:
    settings = sorted((p.name for p in base.iterdir()), key=lambda c: (c != "none-0-1", c))
    for stage in stages:
        print(stage)
        print("setting".ljust(12), *[s.rjust(8) for s in SETS], "mean".rjust(8))
        for setting in settings:
            values = [ndcg(base / setting / s, stage) for s in SETS]
            cells = [("-" if v is None else f"{v:.3f}").rjust(8) for v in values]
            known = [v for v in values if v is not None]
            mean = f"{sum(known) / len(known):.4f}" if len(known) == len(SETS) else ""
            print(setting.ljust(12), *cells, mean.rjust(8))
        print()


def qrels_of(name: str) -> dict[str, dict[str, int]]:
    qrels = {}
    with open(f"/work/main/runs/features/{name}.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            qrels[row["qid"]] = {d: int(g) for d, g in row["qrels"].items()}
    return qrels


def paired(base: Path, setting: str) -> None:
    for short, name in SETS.items():
        qrels = qrels_of(name)
        cells = []
        for stage in ("hybrid", "rerank"):
            runs = {
                "none": read_trec(base / "none-0-1" / short / f"run.{stage}.trec"),
                "prf": read_trec(base / setting / short / f"run.{stage}.trec"),
            }
            m = measure(qrels, runs)
            p = significance(qrels, runs, baseline="none")["prf"]["ndcg@10"]
            before, after = m["none"]["ndcg@10"], m["prf"]["ndcg@10"]
            cells.append(f"{stage} {before:.3f} -> {after:.3f} (p {p})")
        print(f"{short:8s} n={len(qrels):3d} " + "  ".join(cells))


if __name__ == "__main__":
    table(Path("/tmp/prf/out"), ("dense", "hybrid"))
    table(Path("/tmp/prf/out-rr"), ("hybrid", "rerank"))
    paired(Path("/tmp/prf/out-rr"), "bm25-3-0.7")
