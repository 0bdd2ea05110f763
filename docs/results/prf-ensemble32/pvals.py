import json, sys
sys.path.insert(0, "/work/main")
from evaluation.scoring import read_trec, significance, measure
feat={"refind":"news-refind-dev","topical":"news-topical-dev","scifact":"scifact-dev","time":"time-dev","med":"med-dev","cran":"cran-dev","cisi":"cisi-dev","dl19":"dl19-dev"}
base="/tmp/prf/out-rr"
for s,f in feat.items():
    qrels={}
    for l in open(f"/work/main/runs/features/{f}.jsonl"):
        x=json.loads(l); qrels[x["qid"]]={d:int(g) for d,g in x["qrels"].items()}
    runs={"none":read_trec(f"{base}/none-0-1/{s}/run.rerank.trec"),
          "prf":read_trec(f"{base}/bm25-3-0.7/{s}/run.rerank.trec"),
          "none_h":read_trec(f"{base}/none-0-1/{s}/run.hybrid.trec"),
          "prf_h":read_trec(f"{base}/bm25-3-0.7/{s}/run.hybrid.trec")}
    m=measure(qrels,runs)
    p=significance(qrels,{"none":runs["none"],"prf":runs["prf"]},baseline="none")["prf"]["ndcg@10"]
    ph=significance(qrels,{"none_h":runs["none_h"],"prf_h":runs["prf_h"]},baseline="none_h")["prf_h"]["ndcg@10"]
    print(f"{s:8s} n={len(qrels):3d} hybrid {m['none_h']['ndcg@10']:.3f} -> {m['prf_h']['ndcg@10']:.3f} (p {ph})  rerank {m['none']['ndcg@10']:.3f} -> {m['prf']['ndcg@10']:.3f} (p {p})")
