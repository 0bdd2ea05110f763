import json, glob, os
base="/tmp/prf/out"
sets=["refind","topical","scifact","time","med","cran","cisi","dl19"]
cfgs=sorted(os.listdir(base), key=lambda c: (c!="none-0-1", c))
def get(cfg, s, stage):
    p=f"{base}/{cfg}/{s}/results.json"
    if not os.path.exists(p): return None
    d=json.load(open(p))
    st=d["stages"][stage] if isinstance(d["stages"], dict) else None
    return st["ndcg@10"] if st and "ndcg@10" in st else st
for stage in ("dense","hybrid"):
    print(stage)
    print("cfg".ljust(14), *[s.rjust(8) for s in sets], "mean".rjust(8))
    for c in cfgs:
        vals=[get(c,s,stage) for s in sets]
        ok=[v for v in vals if isinstance(v,float)]
        print(c.ljust(14), *[(f"{v:.3f}" if isinstance(v,float) else "-").rjust(8) for v in vals], (f"{sum(ok)/len(ok):.3f}" if len(ok)==len(sets) else "").rjust(8))
