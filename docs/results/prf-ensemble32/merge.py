import json, math, sys
from pathlib import Path
names=["news-refind-dev","news-topical-dev","scifact-dev","cran-dev","cisi-dev","med-dev","time-dev","dl19-dev"]
mode=sys.argv[1]  # prob | logit | base
out=Path(f"/tmp/ens/{mode}"); out.mkdir(exist_ok=True)
logit=lambda p: math.log(max(p,1e-6)/max(1-p,1e-6))
for n in names:
    a=[json.loads(l) for l in open(f"/work/main/runs/features/{n}.jsonl")]
    b=[json.loads(l) for l in open(f"/tmp/ens/base/{n}.jsonl")]
    assert [x["qid"] for x in a]==[x["qid"] for x in b], n
    with open(out/f"{n}.jsonl","w") as f:
        for x,y in zip(a,b):
            assert [c["doc"] for c in x["cands"]]==[c["doc"] for c in y["cands"]], (n, x["qid"])
            for c,d in zip(x["cands"],y["cands"]):
                if mode=="prob": c["ce"]=(c["ce"]+d["ce"])/2
                elif mode=="logit": c["ce"]=1/(1+math.exp(-(logit(c["ce"])+logit(d["ce"]))/2))
            f.write(json.dumps(x)+"\n")
print("ok", mode)
