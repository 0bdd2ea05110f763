"""Average two rerankers' scores of the same dev candidates (session 32, not shipped).

python merge.py prob|logit   # writes /tmp/ens/MODE/*.jsonl
"""

import json
import math
import sys
from pathlib import Path

NAMES = [
    "news-refind-dev",
    "news-topical-dev",
    "scifact-dev",
    "cran-dev",
    "cisi-dev",
    "med-dev",
    "time-dev",
    "dl19-dev",
]


def logit(p: float) -> float:
    return math.log(max(p, 1e-6) / max(1 - p, 1e-6))


def averaged(a: float, b: float, mode: str) -> float:
    if mode == "prob":
        return (a + b) / 2
    return 1 / (1 + math.exp(-(logit(a) + logit(b)) / 2))


def read(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def main(mode: str) -> None:
    out = Path(f"/tmp/ens/{mode}")
    out.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        shipped = read(f"/work/main/runs/features/{name}.jsonl")
        parent = read(f"/tmp/ens/base/{name}.jsonl")
        assert [x["qid"] for x in shipped] == [y["qid"] for y in parent], name
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for x, y in zip(shipped, parent):
                assert [c["doc"] for c in x["cands"]] == [d["doc"] for d in y["cands"]]
                for c, d in zip(x["cands"], y["cands"]):
                    c["ce"] = averaged(c["ce"], d["ce"], mode)
                fh.write(json.dumps(x) + "\n")
    print("ok", mode)


if __name__ == "__main__":
    main(sys.argv[1])
