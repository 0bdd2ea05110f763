import json, os, sys
from scipy.stats import ttest_rel
base="/tmp/prf/out-rr"
sets=["refind","topical","scifact","time","med","cran","cisi","dl19"]
cfgs=["none-0-1","bm25-3-0.7","bm25-1-0.7"]
def get(cfg,s,stage):
    d=json.load(open(f"{base}/{cfg}/{s}/results.json")); return d["stages"][stage]["ndcg@10"]
for stage in ("hybrid","rerank"):
    print(stage); print("cfg".ljust(12),*[s.rjust(8) for s in sets],"mean".rjust(8))
    for c in cfgs:
        v=[get(c,s,stage) for s in sets]
        print(c.ljust(12),*[f"{x:.3f}".rjust(8) for x in v],f"{sum(v)/len(v):.4f}".rjust(8))
