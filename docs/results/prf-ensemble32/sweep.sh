#!/bin/bash
# The feedback probe on the eight development sets, one run per setting and set.
#   sweep.sh                                   retrievers alone (bm25,dense,hybrid), 7 settings
#   STAGES=hybrid,rerank OUT=/tmp/prf/out-rr sweep.sh "none 0 1" "bm25 3 0.7" "bm25 1 0.7"
# A setting is "SOURCE K ALPHA" (probe.py's PRF_SOURCE, PRF_K, PRF_ALPHA).
HERE=$(cd "$(dirname "$0")" && pwd)
cd /work/main
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
STAGES=${STAGES:-bm25,dense,hybrid}
OUT=${OUT:-/tmp/prf/out}
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
settings=("$@")
[ ${#settings[@]} -eq 0 ] && settings=("none 0 1" "dense 3 0.7" "dense 5 0.5" "bm25 3 0.7" "bm25 5 0.5" "bm25 1 0.7" "bm25 3 0.5")
for cfg in "${settings[@]}"; do
  read src k a <<< "$cfg"
  for s in "${sets[@]}"; do
    name=${s%%|*}; args=${s#*|}
    out=$OUT/$src-$k-$a/$name
    [ -f $out/results.json ] && continue
    PRF_SOURCE=$src PRF_K=$k PRF_ALPHA=$a .venv/bin/python "$HERE/probe.py" eval retrieval \
      --stages $STAGES --curve-depths '' --cache runs/eval-cache --quiet --out $out $args \
      > /dev/null || echo "FAIL $cfg $name"
    echo "done $cfg $name $(date +%T)"
  done
done
