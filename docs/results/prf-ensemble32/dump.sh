#!/bin/bash
# The parent reranker's scores of the same development candidates as runs/features/.
# The head: mkdir /tmp/rr-base; for f in adapter.safetensors head.json labels.json
#   metrics.json; do git show 9a44f73:heads/shipped/reranker/$f > /tmp/rr-base/$f; done
cd /work/main
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
H=${HEAD:-/tmp/rr-base}; O=${OUTDIR:-/tmp/ens/base}
F="/work/main/.venv/bin/python /tmp/prf/repo/benchmarks/fusion_features.py --ce-depth 10 --stage-depth 0 --reranker $H"
$F --collection data/beir/news-refind-dev --out $O/news-refind-dev.jsonl
$F --collection data/beir/news-topical-dev --out $O/news-topical-dev.jsonl
$F --collection ../shared/data/beir/scifact --split train --sample 60 --out $O/scifact-dev.jsonl
for c in cran cisi med time; do $F --collection ../shared/data/classic_ir/$c --half dev --out $O/$c-dev.jsonl; done
$F --collection ../shared/data/msmarco_dl19_subset_derived --half dev --out $O/dl19-dev.jsonl
echo ALLDONE
