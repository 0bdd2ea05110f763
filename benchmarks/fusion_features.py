"""Dump, per query, what each stage made of the fused candidates (for fitting fusion).

For every judged query of a collection (or a development sample of it) this runs the
product's hybrid ranking (plain RRF, no heads) on the evaluation cache's index, takes
the first ``--ce-depth`` fused articles plus every article that BM25 or the dense
retriever put in its own first ``--stage-depth``, and writes one JSON line per query:
each candidate's fused, BM25 and dense rank and score (null where a retriever did not
return it), the cross-encoder's score of its (query, "title. best passage") pair, and
the query's judgments. ``benchmarks/fit_fusion.py`` replays rankings from these files,
so that weights can be searched without running a model again.

    python benchmarks/fusion_features.py --collection /tmp/nb/news-refind-dev \
        --out runs/features/news-refind-dev.jsonl
    python benchmarks/fusion_features.py --collection ../shared/data/beir/scifact \
        --split train --sample 60 --out runs/features/scifact-dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpora.splits import HALVES  # noqa: E402
from evaluation.eval_index import open_eval_set, open_searcher, search_config  # noqa: E402
from evaluation.pair_scoring import load_reranker  # noqa: E402
from evaluation.retrieval import PAGE_K  # noqa: E402
from newsrank.threads import use_torch_threads  # noqa: E402
from ranker.request import SearchRequest  # noqa: E402
from ranker.rerank import RerankStage  # noqa: E402


def candidates(ranking, ce_depth: int, stage_depth: int) -> list:
    """The fused articles to score: the first ``ce_depth`` and every article a retriever
    ranked within its first ``stage_depth`` (fused order)."""
    keep = {a.article for a in ranking.articles[:ce_depth]}
    for name in ("bm25", "dense"):
        keep |= {n for n, s in ranking.stages.get(name, {}).items() if s.rank <= stage_depth}
    return [a for a in ranking.articles if a.article in keep]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--collection", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--sample", type=int, default=None, help="reranker-validation sample size")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument(
        "--half",
        choices=HALVES,
        default=None,
        help="only the judged queries of this half (corpora.splits.half_of), as "
        "`newsrank eval retrieval --half`; fit_fusion.py reads the file as FILE#HALF would",
    )
    p.add_argument("--cache", default="runs/eval-cache")
    p.add_argument("--out", required=True)
    p.add_argument("--reranker", default="reranker")
    p.add_argument("--precision", default="auto")
    p.add_argument("--embedder", help="embedder head or model (default: the product's)")
    p.add_argument("--ce-depth", type=int, default=30)
    p.add_argument("--stage-depth", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    use_torch_threads(args.threads)

    scorer = load_reranker(args.reranker, args.precision)
    opened = open_eval_set(
        args.collection,
        args.cache,
        precision=args.precision,
        embedder_name=args.embedder,
        split=args.split,
        sample=args.sample,
        seed=args.seed,
        half=args.half,
    )
    collection, judged = opened.collection, opened.judged
    config = search_config()
    searcher = open_searcher(opened, config)
    stage = RerankStage(scorer, searcher.store)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pages = 100 // PAGE_K
    with out.open("w", encoding="utf-8") as f:
        for first in range(0, len(judged), 32):
            qids = judged[first : first + 32]
            requests = [SearchRequest(collection.queries[q], k=PAGE_K, page=pages) for q in qids]
            for qid, ranking in zip(qids, searcher.rank_many(requests)):
                query = collection.queries[qid]
                chosen = candidates(ranking, args.ce_depth, args.stage_depth)
                ce = [float(s) for s in scorer.predict(stage.pairs(query, chosen))]
                ids = searcher.store.ids([a.article for a in chosen])
                rows = []
                for a, score in zip(chosen, ce):
                    row = {"doc": ids[a.article], "ce": score}
                    for name in ("fused", "bm25", "dense"):
                        s = ranking.stages.get(name, {}).get(a.article)
                        row[name] = None if s is None else [s.rank, s.score]
                    rows.append(row)
                line = {"qid": qid, "query": query, "qrels": collection.qrels[qid], "cands": rows}
                f.write(json.dumps(line) + "\n")
            print(f"{first + len(qids)}/{len(judged)} queries, {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
