"""Session 28: the shipped reranker in int8 (ONNX Runtime) on the float32 indexes, on the
test sets (SciFact test, news re-finding and topical test halves, news known-item): what
precision=auto would run on a CPU without bfloat16 if the reranker were opted in."""
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
from heads.cross_encoder import CrossEncoder
from evaluation.retrieval import evaluate_collection
ce = CrossEncoder(precision="int8")
sets = {"scifact": "../shared/data/beir/scifact", "news-refind-test": "data/beir/news-refind-test",
        "news-topical-test": "data/beir/news-topical-test", "news-knownitem": "data/beir/news-knownitem"}
for name in sys.argv[1].split(","):
    t = time.time()
    r = evaluate_collection(sets[name], stages=("bm25", "dense", "hybrid", "rerank"), reranker=ce,
                            curve_depths=(), progress=False, cache="runs/eval-cache",
                            out=f"runs/exp28/int8/{name}")
    print(name, round(time.time() - t), json.dumps({s: {k: round(v, 4) for k, v in m.items()} for s, m in r.stages.items()}), flush=True)
