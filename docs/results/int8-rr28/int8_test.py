"""Session 28: the shipped reranker at int8 (ONNX Runtime) on the float32 indexes of
``runs/eval-cache``, on the test sets, as ``precision=auto`` runs it where int8 is faster.

    python docs/results/int8-rr28/int8_test.py scifact,news-refind-test [THREADS]

Run from the repository root; writes ``runs/exp28/int8/<set>/results.json`` and run files.
"""

import json
import sys
import time

from evaluation.retrieval import evaluate_collection
from heads.cross_encoder import CrossEncoder
from newsrank.threads import use_torch_threads

SETS = {
    "scifact": "../shared/data/beir/scifact",
    "news-refind-test": "data/beir/news-refind-test",
    "news-topical-test": "data/beir/news-topical-test",
    "news-knownitem": "data/beir/news-knownitem",
}


def main(names: str, threads: int = 1) -> None:
    use_torch_threads(threads)
    reranker = CrossEncoder(precision="int8")
    for name in names.split(","):
        start = time.time()
        result = evaluate_collection(
            SETS[name],
            stages=("bm25", "dense", "hybrid", "rerank"),
            reranker=reranker,
            curve_depths=(),
            progress=False,
            cache="runs/eval-cache",
            out=f"runs/exp28/int8/{name}",
        )
        stages = {s: {k: round(v, 4) for k, v in m.items()} for s, m in result.stages.items()}
        print(name, round(time.time() - start), json.dumps(stages), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
