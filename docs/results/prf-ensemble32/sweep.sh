#!/bin/bash
cd /work/main
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
sets=(
 "refind|--collection data/beir/news-refind-dev"
 "topical|--collection data/beir/news-topical-dev"
 "scifact|--collection ../shared/data/beir/scifact --split train --sample 60"
 "time|--collection ../shared/data/classic_ir/time --half dev"
 "med|--collection ../shared/data/classic_ir/med --half dev"
 "cran|--collection ../shared/data/classic_ir/cran --half dev"
 "cisi|--collection ../shared/data/classic_ir/cisi --half dev"
 "dl19|--collection ../shared/data/msmarco_dl19_subset_derived --half dev"
)
for cfg in "none 0 1" "dense 3 0.7" "dense 5 0.5" "bm25 3 0.7" "bm25 5 0.5" "bm25 1 0.7" "bm25 3 0.5"; do
  read src k a <<< "$cfg"
  for s in "${sets[@]}"; do
    name=${s%%|*}; args=${s#*|}
    out=/tmp/prf/out/$src-$k-$a/$name
    [ -f $out/results.json ] && continue
    PRF_SOURCE=$src PRF_K=$k PRF_ALPHA=$a .venv/bin/python /tmp/prf/probe.py eval retrieval --stages bm25,dense,hybrid --curve-depths '' --cache runs/eval-cache --quiet --out $out $args > /dev/null 2>/tmp/prf/err-$src-$k-$a-$name.log || echo "FAIL $cfg $name"
    echo "done $cfg $name $(date +%T)"
  done
done
