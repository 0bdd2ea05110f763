"""``newsrank eval retrieval | latency | build-knownitem | build-newsbench | convert-smart |
summary``.

    newsrank eval retrieval --collection ../shared/data/beir/scifact --out runs/eval/scifact
    newsrank eval convert-smart --smart ../shared/data/classic_ir/cran --out data/beir/cran
    newsrank eval build-knownitem --out data/beir/news-knownitem
    newsrank eval build-newsbench --out data/beir --split dev
    newsrank eval latency --index var/index --queries benchmarks/queries.txt --json
    newsrank eval summary --runs runs/eval --out docs/results.md --copy-reports results

Every command writes ``results.json`` and ``report.md`` (with PNG plots) under ``--out``
when given, and prints a summary table (or the JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from corpora.splits import HALVES
from newsrank.config import HeadsConfig
from newsrank.errors import NewsrankError
from newsrank.invocation import current
from newsrank.threads import use_torch_threads


def _stages(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def fusion_weights_md(data: dict) -> str:
    """The ``--fusion-weights`` sweep as a Markdown table ('' when there is none).

    >>> print(fusion_weights_md({"split": "dev", "fusion_weights": [{"bm25": 2.0,
    ...     "dense": 1.0, "ndcg@10": 0.5, "mrr@10": 0.25, "recall@100": 1.0, "map": 0.2,
    ...     "p_vs_hybrid": {"ndcg@10": 0.04}}]}))
    Fused stage by weighted RRF (w_bm25:w_dense), queries judged in qrels/dev.tsv:
    <BLANKLINE>
    | weights | nDCG@10 | MRR@10 | R@100 | MAP | p (nDCG@10 vs hybrid) | p (nDCG@10 vs bm25) |
    |---|---|---|---|---|---|---|
    | 2:1 | 0.500 | 0.250 | 1.000 | 0.200 | 0.0400 |  |
    """
    rows = data.get("fusion_weights") or []
    if not rows:
        return ""
    from evaluation.report import _fmt, _fmt_p

    metrics = ("ndcg@10", "mrr@10", "recall@100", "map")
    lines = [
        "Fused stage by weighted RRF (w_bm25:w_dense), queries judged in "
        f"qrels/{data.get('split', 'test')}.tsv:",
        "",
        "| weights | nDCG@10 | MRR@10 | R@100 | MAP | p (nDCG@10 vs hybrid) "
        "| p (nDCG@10 vs bm25) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [_fmt(r.get(m)) for m in metrics]
        cells += [_fmt_p(r.get(f"p_vs_{b}", {}).get("ndcg@10")) for b in ("hybrid", "bm25")]
        lines.append(f"| {r['bm25']:g}:{r['dense']:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _retrieval(args: argparse.Namespace) -> int:
    from evaluation import report
    from evaluation.options import parse_fusion_weights, parse_rerank_mix
    from evaluation.pair_scoring import load_reranker
    from evaluation.retrieval import evaluate_collection

    use_torch_threads(args.torch_threads)
    try:
        fusion_weights = parse_fusion_weights(args.fusion_weights)
        rrf = parse_fusion_weights(args.rrf_weights, "--rrf-weights") if args.rrf_weights else None
        if rrf is not None and len(rrf) != 1:
            raise ValueError(f"--rrf-weights {args.rrf_weights!r}: give one W_BM25:W_DENSE pair")
        mix = parse_rerank_mix(args.rerank_mix) if args.rerank_mix else None
    except ValueError as exc:
        raise NewsrankError(str(exc)) from exc
    reranker = None
    if "rerank" in _stages(args.stages):
        reranker = load_reranker(args.reranker, args.precision)
    try:
        result = evaluate_collection(
            args.collection,
            stages=_stages(args.stages),
            rerank_depth=args.rerank_depth,
            out=args.out,
            cache=args.cache,
            max_queries=args.max_queries,
            reranker=reranker,
            precision=args.precision,
            progress=not args.quiet,
            curve_depths=[int(d) for d in args.curve_depths.split(",") if d.strip()],
            split=args.split,
            sample=args.sample,
            half=args.half,
            seed=args.seed,
            weights=[float(w) for w in args.rerank_weights.split(",") if w.strip()],
            fusion_weights=fusion_weights,
            embedder_name=args.embedder,
            rrf_weights=rrf[0] if rrf else None,
            rerank_mix=mix,
        )
    except FileNotFoundError as exc:
        raise NewsrankError(str(exc)) from exc
    data = result.to_dict()
    if args.out:
        meta = report.provenance(current())
        data["provenance"] = meta
        Path(args.out, "results.json").write_text(json.dumps(data, indent=2) + "\n")
        report_md = report.retrieval_report(data, Path(args.out))
        if fusion_weights_md(data):
            with report_md.open("a", encoding="utf-8") as f:
                f.write("\n" + fusion_weights_md(data) + "\n")
    if args.json:
        keys = (
            "collection",
            "n_queries",
            "stages",
            "p_values",
            "p_rerank_vs_hybrid",
            "rerank_vs_best",
            "published",
            "rerank_curve",
            "rerank_weights",
            "fusion_weights",
            "split",
            "half",
            "dtype",
        )
        json.dump({k: data[k] for k in keys}, sys.stdout, indent=2)
        print()
    else:
        print(report.retrieval_table(data))
        if fusion_weights_md(data):
            print("\n" + fusion_weights_md(data))
    return 0


def _latency(args: argparse.Namespace) -> int:
    from evaluation import latency, report
    from heads.loaders import load_heads
    from newsrank.config import HeadsConfig

    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    depths = [int(d) for d in args.rerank_depths.split(",") if d.strip()]
    heads_config = HeadsConfig(reranker=args.reranker, reader=args.reader, precision=args.precision)
    heads = load_heads(heads_config, roles=("reranker", "reader"), missing="error")
    result = latency.evaluate_latency(
        args.index,
        args.queries,
        args.max_queries,
        clients,
        args.repeats,
        heads.reranker,
        heads=heads_config,
        torch_threads=args.torch_threads,
        reader=heads.reader,
        rerank_depths=depths,
    )
    data = result.to_dict()
    data["provenance"] = report.provenance(current())
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        Path(args.out, "latency.json").write_text(json.dumps(data, indent=2) + "\n")
        report.latency_report(data, Path(args.out), result.samples_ms)
    if args.json:
        json.dump(data, sys.stdout, indent=2)
        print()
    else:
        print(report.latency_table(data))
    return 0


def _knownitem(args: argparse.Namespace) -> int:
    from evaluation.knownitem import build_knownitem

    info = build_knownitem(args.out, args.test_share, args.seed, args.max_queries)
    print(json.dumps(info, indent=2))
    return 0


def _newsbench(args: argparse.Namespace) -> int:
    from evaluation.newsbench import build_newsbench

    try:
        info = build_newsbench(args.out, args.split)
    except (FileNotFoundError, ValueError) as exc:
        raise NewsrankError(str(exc)) from exc
    print(json.dumps(info, indent=2))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from corpora.smart import convert_smart

    try:
        out = convert_smart(args.smart, args.out)
    except FileNotFoundError as exc:
        raise NewsrankError(str(exc)) from exc
    print(f"wrote {out}")
    return 0


REPORT_SUFFIXES = (".md", ".png", ".json")


def copy_report(run: Path, dest: Path) -> None:
    """The report files of a run folder (``REPORT_SUFFIXES``) copied into ``dest``, whose
    own report files the run no longer has are removed, so that ``dest`` shows this run
    only (a plot an earlier run drew is not left beside it)."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    names = {item.name for item in run.iterdir() if item.suffix in REPORT_SUFFIXES}
    for item in dest.iterdir():
        if item.suffix in REPORT_SUFFIXES and item.name not in names:
            item.unlink()
    for name in sorted(names):
        shutil.copy2(run / name, dest / name)


def _summary(args: argparse.Namespace) -> int:
    from evaluation.report import results_markdown

    order = ["scifact", "time", "news-knownitem", "med", "cran", "cisi"]
    files = sorted(
        Path(args.runs).glob("*/results.json"),
        key=lambda f: (order.index(f.parent.name) if f.parent.name in order else 99, f),
    )
    if not files:
        raise NewsrankError(f"no */results.json under {args.runs}; run `newsrank eval retrieval`")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    latency = Path(args.latency) if args.latency else None
    text = results_markdown(files, latency)
    if args.notes:
        text += "\n" + Path(args.notes).read_text(encoding="utf-8")
    if args.copy_reports:
        for f in [*files, *([latency] if latency else [])]:
            copy_report(f.parent, out.parent / args.copy_reports / f.parent.name)
        text += f"\nFull reports with plots: [{args.copy_reports}/]({args.copy_reports}/).\n"
    out.write_text(text)
    print(f"wrote {out} from {len(files)} collections")
    return 0


def register(targets: argparse._SubParsersAction) -> None:
    p = targets.add_parser("retrieval", help="nDCG@10 / MRR@10 / Recall@100 / MAP per stage")
    p.add_argument("--collection", required=True, help="BEIR directory (or SMART directory)")
    p.add_argument("--stages", default="bm25,dense,hybrid", help="of bm25,dense,hybrid,rerank")
    p.add_argument(
        "--rerank-depth",
        type=int,
        default=HeadsConfig.rerank_depth,
        help="articles the cross-encoder rescores (default: the product's)",
    )
    p.add_argument(
        "--rerank-weights",
        default="",
        help="also score the rerank stage at these weights w of the cross-encoder mixed "
        "with the fused score alone (mix w:1-w:0:0), e.g. 0,0.1,...,1",
    )
    p.add_argument(
        "--rerank-mix",
        default="",
        help="how the rerank stage orders its articles, CE:FUSED:BM25:DENSE weights of the "
        "min-max-scaled scores, e.g. 0.2:0.8:0:0 (default: the product's)",
    )
    p.add_argument(
        "--fusion-weights",
        default="",
        help="also score the fused stage (hybrid, no heads) by weighted RRF at these "
        "w_bm25:w_dense pairs, e.g. 1:1,2:1,1:0.5,1:0 (1:1 = plain RRF, 1:0 = bm25 alone)",
    )
    p.add_argument(
        "--rrf-weights",
        default="",
        help="the W_BM25:W_DENSE fusion of the hybrid and rerank stages, e.g. 2:1 "
        "(default: the product's)",
    )
    p.add_argument("--split", default="test", help="qrels split to judge (BEIR qrels/SPLIT.tsv)")
    p.add_argument(
        "--sample",
        type=int,
        default=None,
        help="the N judged queries of a seeded shuffle; with --split train on SciFact and "
        "N=60, the reranker's own validation queries (never trained on)",
    )
    p.add_argument("--seed", type=int, default=13, help="seed of --sample")
    p.add_argument(
        "--half",
        choices=HALVES,
        default=None,
        help="only the judged queries of this half (sha1(query id) parity: "
        "corpora.splits.half_of); tune on dev, report test",
    )
    p.add_argument("--reranker", default="reranker", help="cross-encoder head dir or name")
    p.add_argument("--curve-depths", default="10,30,50,100", help="rerank-depth curve ('' = off)")
    p.add_argument("--out", default=None, help="directory for run files, JSON and report")
    p.add_argument("--cache", default="runs/eval-cache", help="index cache directory")
    p.add_argument(
        "--embedder", default=None, help="embedder head or model (default: the product's)"
    )
    p.add_argument("--max-queries", type=int, default=None, help="first N judged queries")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--torch-threads", type=int, default=None, help="torch intra-op threads")
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(func=_retrieval, requires=("ranx", "matplotlib"))

    p = targets.add_parser("latency", help="per-stage latency, throughput, memory")
    p.add_argument("--index", required=True)
    p.add_argument("--queries", default="benchmarks/queries.txt", help="one query per line")
    p.add_argument("--max-queries", type=int, default=None)
    p.add_argument("--clients", default="1,4", help="concurrent clients for throughput")
    p.add_argument("--repeats", type=int, default=3, help="timed passes over the queries")
    p.add_argument("--reranker", default=None, help="cross-encoder head: adds a rerank stage")
    p.add_argument(
        "--reader", default=None, help="reader head: adds the default pipeline (rerank + read)"
    )
    p.add_argument(
        "--rerank-depths",
        default="",
        help="also time rerank at these depths (articles), e.g. 30,50",
    )
    p.add_argument("--torch-threads", type=int, default=None, help="torch intra-op threads")
    p.add_argument("--out", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_latency, requires=("matplotlib",))

    p = targets.add_parser("build-knownitem", help="headline -> article benchmark (BEIR)")
    p.add_argument("--out", required=True)
    p.add_argument("--test-share", type=int, default=2, help="tenths of articles held out")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--max-queries", type=int, default=500)
    p.set_defaults(func=_knownitem)

    p = targets.add_parser(
        "build-newsbench", help="hand-written re-finding + topical news queries (BEIR)"
    )
    p.add_argument("--out", required=True, help="parent directory of the two BEIR folders")
    p.add_argument(
        "--split",
        default="dev",
        choices=("dev", "test", "all"),
        help="query half (tune on dev only; evaluation/benchmarks/README.md)",
    )
    p.set_defaults(func=_newsbench)

    p = targets.add_parser("summary", help="gather results.json files into docs/results.md")
    p.add_argument("--runs", default="runs/eval", help="directory of per-collection outputs")
    p.add_argument("--latency", default=None, help="latency.json to include")
    p.add_argument("--out", default="docs/results.md")
    p.add_argument("--copy-reports", default=None, help="copy reports+plots beside --out")
    p.add_argument("--notes", default=None, help="Markdown file appended (interpretation)")
    p.set_defaults(func=_summary)

    p = targets.add_parser("convert-smart", help="SMART collection -> BEIR directory")
    p.add_argument("--smart", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_convert)
