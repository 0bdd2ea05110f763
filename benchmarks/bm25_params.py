"""BM25's k1 and b on development queries: the product's bm25, hybrid and rerank stages
at each setting, over one cached evaluation index (no re-embedding).

    python benchmarks/bm25_params.py --k1 0.9,1.2,1.5,2.0 --b 0.4,0.6,0.75,0.9 \\
        --stages bm25,hybrid,rerank

(the development sets of ``evaluation.options.DEV_SETS`` unless ``--collection
PATH[@SPLIT[:SAMPLE]][#HALF]`` names others, repeatable).

k1 and b only enter BM25 at query time (``indexer.lexical.BM25Index`` keeps term
frequencies and passage lengths), so each setting is the cached index's postings viewed
with other parameters (``BM25Index.with_settings``), the rest of the index unchanged. Every
collection's figures are printed for each setting, with the mean nDCG@10 over the
collections, and each cell's paired t-test p of nDCG@10 against the index's own
(shipped) setting; use development splits only. The rerank
stage is the product's (``evaluation.retrieval.stage_searcher``: hybrid, then the shipped
cross-encoder over the top ``HeadsConfig.rerank_depth`` articles, ordered by
``HeadsConfig.rerank_mix``); its pair scores are cached across settings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evaluation.eval_index import open_eval_set, open_searcher, search_config  # noqa: E402
from evaluation.options import DEV_SETS, parse_eval_set  # noqa: E402
from evaluation.pair_scoring import CachedScorer, load_reranker  # noqa: E402
from evaluation.retrieval import ranked_runs, stage_searcher  # noqa: E402
from evaluation.scoring import measure, significance  # noqa: E402
from newsrank.config import HeadsConfig  # noqa: E402
from newsrank.threads import use_torch_threads  # noqa: E402


def floats(text: str) -> list[float]:
    return [float(t) for t in text.split(",") if t.strip()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--collection", action="append", type=parse_eval_set, default=[])
    p.add_argument("--cache", default="runs/eval-cache")
    p.add_argument("--k1", default="0.9,1.2,1.5,2.0")
    p.add_argument("--b", default="0.4,0.6,0.75,0.9")
    p.add_argument("--stages", default="bm25,hybrid")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="write every row to this file")
    args = p.parse_args(argv)
    use_torch_threads(args.threads)
    stages = [s for s in args.stages.split(",") if s]
    config = search_config()
    scorer = CachedScorer(load_reranker()) if "rerank" in stages else None
    depth = HeadsConfig().rerank_depth
    sets = []  # per collection, opened once: (name, searcher, queries, qrels)
    for c in args.collection or DEV_SETS:
        o = open_eval_set(c.path, args.cache, split=c.split, sample=c.sample, half=c.half)
        sets.append((c.name, open_searcher(o, config), o.queries, o.qrels))
    shipped: dict[str, dict] = {}  # collection/stage -> run at the index's own setting
    rows = []
    settings = [(k1, b) for k1 in floats(args.k1) for b in floats(args.b)]
    own = {(s.index.bm25.k1, s.index.bm25.b) for _, s, _, _ in sets}
    settings = sorted(own) + [kb for kb in settings if kb not in own]  # the baseline first
    for k1, b in settings:
        row: dict = {"k1": k1, "b": b}
        for name, base, queries, qrels in sets:
            is_own = (k1, b) == (base.index.bm25.k1, base.index.bm25.b)
            viewed = base.configured(index=base.index.with_bm25(k1=k1, b=b))
            for stage in stages:
                searcher = stage_searcher(viewed, stage, scorer, depth)
                run = ranked_runs(searcher, queries)[0]
                m = measure(qrels, {stage: run})[stage]
                cell = {"ndcg@10": m["ndcg@10"], "mrr@10": m["mrr@10"]}
                key = f"{name}/{stage}"
                if is_own:
                    shipped[key] = run
                elif key in shipped:
                    p_value = significance(qrels, {"own": shipped[key], stage: run}, "own")
                    cell["p"] = p_value[stage]["ndcg@10"]
                row[key] = cell
        for stage in stages:
            cells = [v["ndcg@10"] for k, v in row.items() if k.endswith(f"/{stage}")]
            row[f"mean/{stage}"] = sum(cells) / len(cells)
        rows.append(row)
        print(f"k1 {k1:g} b {b:g}: " + "  ".join(_cell(k, v) for k, v in row.items() if "/" in k))
        sys.stdout.flush()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def _cell(key: str, value: dict | float) -> str:
    """One printed cell: nDCG@10/MRR@10 (and p against the shipped setting), or a mean."""
    if not isinstance(value, dict):
        return f"{key} {value:.3f}"
    p = f" p={value['p']}" if value.get("p") is not None else ""
    return f"{key} {value['ndcg@10']:.3f}/{value['mrr@10']:.3f}{p}"


if __name__ == "__main__":
    raise SystemExit(main())
