"""Readable reports of the evaluations: Markdown tables beside the PNG plots of
:mod:`evaluation.plots`.

Every report states the command, the commit and the machine that produced it
(:func:`provenance`).

>>> data = {"collection": "toy", "n_queries": 2, "stages": {"bm25": {"ndcg@10": 0.5,
...         "mrr@10": 0.5, "recall@100": 1.0, "map": 0.5}}, "p_values": {}, "published": {}}
>>> print(retrieval_table(data))
| stage | nDCG@10 | MRR@10 | R@100 | MAP | p (nDCG@10 vs bm25) | published nDCG@10 |
|---|---|---|---|---|---|---|
| bm25 | 0.500 | 0.500 | 1.000 | 0.500 |  |  |
"""

from __future__ import annotations

import json
import platform
import subprocess
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from evaluation.plots import plot_confusion, plot_latency_hist, plot_rerank_curve, plot_stages
from evaluation.scoring import HEADERS, METRICS, best_single_stage
from newsrank.machine import describe


def provenance(command: str) -> dict[str, str]:
    """The command, the git commit (``+dirty`` if the tree has changes) and the machine."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        try:
            out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
            return out.stdout.strip()
        except OSError:
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += "+dirty"
    return {
        "command": command,
        "commit": commit,
        "machine": f"{describe()}, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _fmt(value: object, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else ""


def _fmt_p(p: object) -> str:
    """A p-value for a table: 4 decimals, ``<0.0001`` below that, blank if absent."""
    return "<0.0001" if isinstance(p, (int, float)) and p < 0.0001 else _fmt(p, 4)


def retrieval_table(data: dict) -> str:
    """One Markdown row per stage, with the p-value against BM25 and the published figure."""
    lines = [
        "| stage | " + " | ".join(HEADERS) + " | p (nDCG@10 vs bm25) | published nDCG@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for stage, m in data["stages"].items():
        p = data.get("p_values", {}).get(stage, {}).get("ndcg@10")
        pub = data.get("published", {}).get(stage)
        cells = [_fmt(m[k]) for k in METRICS] + [_fmt_p(p), _fmt(pub)]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    p = data.get("p_rerank_vs_hybrid", {}).get("ndcg@10")
    if isinstance(p, (int, float)):
        lines += ["", f"rerank vs the hybrid ranking it reorders: p = {_fmt_p(p)} (nDCG@10)"]
    best = data.get("rerank_vs_best") or {}
    if best:
        lines += [
            "",
            f"rerank vs the best single stage ({best['stage']}): {best['delta']:+.3f} nDCG@10, "
            f"p = {_fmt_p(best.get('p', {}).get('ndcg@10'))}",
        ]
    return "\n".join(lines)


def versus_best(data: dict) -> str:
    """The overview's cell for the pipeline against its best single stage: the
    difference in nDCG@10, the stage, and the paired p where the run recorded one
    (``rerank_vs_best``; runs before it have none).

    >>> stages = {"bm25": {"ndcg@10": 0.92}, "rerank": {"ndcg@10": 0.90}}
    >>> versus_best({"stages": stages})
    '-0.020 (bm25)'
    >>> versus_best({"stages": stages, "rerank_vs_best": {"stage": "bm25", "p": {"ndcg@10": 0.04}}})
    '-0.020 (bm25, p = 0.0400)'
    >>> versus_best({"stages": {"bm25": {"ndcg@10": 0.5}}})
    ''
    """
    stages = data.get("stages", {})
    stage = best_single_stage(stages)
    if stage is None or "rerank" not in stages:
        return ""
    delta = stages["rerank"]["ndcg@10"] - stages[stage]["ndcg@10"]
    p = (data.get("rerank_vs_best") or {}).get("p", {}).get("ndcg@10")
    where = stage + (f", p = {_fmt_p(p)}" if isinstance(p, (int, float)) else "")
    return f"{delta:+.3f} ({where})"


def head_report(target: str, data: dict, out: Path) -> Path:
    """``<target>.json`` + ``report.md`` (+ ``confusion.png`` for a classifier) of one
    head evaluation (``newsrank eval reader|tagger|classifier --out DIR``)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{target}.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = [f"# {target} evaluation: {data.get('model', '')}", ""]
    lines += [f"- data: `{data.get('data', '')}`", *_provenance_md(data)]
    if data.get("dtype"):
        lines += [f"- inference arithmetic: {data['dtype']}"]
    lines += [""]
    if target == "reader":
        lines += ["| exact match | F1 | questions |", "|---|---|---|"]
        lines += [f"| {data['exact_match']:.2f} | {data['f1']:.2f} | {data['n']} |"]
    elif target == "tagger":
        lines += ["| type | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for name, row in data.get("per_type", {}).items():
            cells = [_fmt(row[m]) for m in ("precision", "recall", "f1-score")]
            lines += [f"| {name} | {' | '.join(cells)} | {int(row['support'])} |"]
        overall = [_fmt(data[m]) for m in ("precision", "recall", "f1")]
        lines += [f"| **all** | {' | '.join(overall)} | {data['n']} sentences |"]
    else:
        lines += ["| accuracy | macro F1 | n |", "|---|---|---|"]
        lines += [f"| {data['accuracy']:.4f} | {data['macro_f1']:.4f} | {data['n']} |", ""]
        plot_confusion(data["confusion"], data["labels"], out / "confusion.png")
        lines += ["![confusion matrix (rows gold, columns predicted)](confusion.png)"]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _dtype_md(dtype: dict | None) -> list[str]:
    """The inference arithmetic line of a report, e.g. ``embedder bf16, reranker bf16``."""
    if not dtype:
        return []
    return ["- inference arithmetic: " + ", ".join(f"{k} {v}" for k, v in dtype.items())]


def _provenance_md(data: dict) -> list[str]:
    p = data.get("provenance") or {}
    if not p:
        return []
    return [
        f"- command: `{p['command']}`",
        f"- commit: `{p['commit']}`; machine: {p['machine']}; date: {p['date']}",
    ]


def retrieval_report(data: dict, out: Path) -> Path:
    """``report.md`` + ``stages.png`` (+ ``rerank_depth.png``) for one collection."""
    name = data["collection"]
    plot_stages(data["stages"], out / "stages.png", f"{name}: metric per stage")
    lines = [
        f"# Retrieval evaluation: {name}",
        "",
        f"{data['n_queries']} judged queries{_half(data)}, {data['n_docs']} documents. "
        "Metrics by ranx (0-1); p = paired two-sided t-test against bm25 over queries.",
        *_provenance_md(data),
        *_dtype_md(data.get("dtype")),
        "",
        retrieval_table(data),
        "",
        "Mean / p50 / p95 search latency per query (ms, includes query embedding):",
        "",
        "| stage | mean | p50 | p95 |",
        "|---|---|---|---|",
    ]
    for stage, lat in data.get("latency_ms", {}).items():
        lines.append(
            f"| {stage} | " + " | ".join(_fmt(lat.get(k), 1) for k in ("mean", "p50", "p95")) + " |"
        )
    lines += ["", "![metric per stage](stages.png)", ""]
    if data.get("rerank_curve"):
        hybrid = data["stages"].get("hybrid", {}).get("ndcg@10")
        plot_rerank_curve(
            data["rerank_curve"], out / "rerank_depth.png", f"{name}: rerank depth", hybrid
        )
        lines += ["| rerank depth | nDCG@10 | mean ms |", "|---|---|---|"]
        lines += [
            f"| {c['depth']} | {_fmt(c['ndcg@10'])} | {_fmt(c.get('mean'), 1)} |"
            for c in data["rerank_curve"]
        ]
        lines += ["", "![rerank depth](rerank_depth.png)", ""]
    else:  # a plot of an earlier run in the same folder would read as this run's
        (out / "rerank_depth.png").unlink(missing_ok=True)
    lines += _weights_md(data)
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def latency_table(data: dict) -> str:
    """Per-stage latency percentiles and throughput per client count."""
    clients = sorted({c for s in data["stages"].values() for c in s.get("qps", {})}, key=int)
    lines = [
        "| stage | p50 ms | p95 ms | p99 ms | " + " | ".join(f"q/s @{c}" for c in clients) + " |",
        "|---|---|---|---|" + "---|" * len(clients),
    ]
    for stage, s in data["stages"].items():
        cells = [_fmt(s[k], 1) for k in ("p50_ms", "p95_ms", "p99_ms")]
        cells += [_fmt(s.get("qps", {}).get(c), 1) for c in clients]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"peak RSS: {data['peak_rss_mb']:.0f} MB")
    idx = data.get("indexing", {})
    if idx:
        lines.append(
            "indexing: "
            + ", ".join(f"{k} {v:.1f} passages/s" for k, v in idx.get("passages_per_s", {}).items())
        )
    return "\n".join(lines)


def latency_report(data: dict, out: Path, samples: dict[str, list[float]]) -> Path:
    """``latency.md`` + ``latency_hist.png``."""
    plot_latency_hist(samples, out / "latency_hist.png", "search latency per query")
    lines = [
        "# Search latency",
        "",
        f"{data['n_queries']} queries x {data['repeats']} timed passes; index {data['index']} "
        f"({data.get('indexing', {}).get('passages', '?')} passages); "
        f"torch threads: {data.get('torch_threads', '?')}.",
        *_provenance_md(data),
        "",
        latency_table(data),
        "",
        "![latency histogram](latency_hist.png)",
        "",
    ]
    path = out / "latency.md"
    path.write_text("\n".join(lines))
    return path


def _weights_md(data: dict) -> list[str]:
    """The rerank mixing-weight sweep of a run, if it has one."""
    if not data.get("rerank_weights"):
        return []
    cells = ", ".join(f"{w['weight']:g}: {w['ndcg@10']:.3f}" for w in data["rerank_weights"])
    split = data.get("split", "test")
    return [f"Rerank mixing weight -> nDCG@10 ({split} queries): {cells}", ""]


def results_markdown(result_files: Sequence[Path], latency_file: Path | None = None) -> str:
    """``docs/results.md``: one table per collection, then latency, with provenance."""
    lines = [
        "# Current evaluation results",
        "",
        "Generated by `newsrank eval summary` from the `results.json` files of "
        "`newsrank eval retrieval` (and `latency.json` of `newsrank eval latency`). "
        "Metrics: ranx, 0-1 scale, article-level results, depth 100. "
        "p = paired two-sided t-test of nDCG@10 against bm25 over queries; "
        "*rerank vs best single stage* is the pipeline's nDCG@10 minus that of the best "
        "of bm25, dense and hybrid on the collection, with the paired p against it.",
        "",
    ]
    loaded = [json.loads(Path(p).read_text()) for p in result_files]
    stages = [
        s for s in ("bm25", "dense", "hybrid", "rerank") if any(s in d["stages"] for d in loaded)
    ]
    lines += [
        "## nDCG@10 overview",
        "",
        "| collection | queries | "
        + " | ".join(stages)
        + " | rerank vs best single stage | published |",
        "|---|---|" + "---|" * (len(stages) + 2),
    ]
    for d in loaded:
        cells = [_fmt(d["stages"].get(s, {}).get("ndcg@10")) for s in stages]
        pub = ", ".join(f"{k} {v:.3f}" for k, v in d.get("published", {}).items())
        lines.append(
            f"| {d['collection']} | {d['n_queries']} | "
            + " | ".join(cells)
            + f" | {versus_best(d)} | {pub} |"
        )
    lines.append("")
    for data in loaded:
        lines += [f"## {data['collection']}", ""]
        lines.append(
            f"{data['n_queries']} judged queries{_half(data)}, {data['n_docs']} documents."
        )
        lines += _provenance_md(data)
        lines += ["", retrieval_table(data), ""]
        if data.get("rerank_curve"):
            curve = ", ".join(
                f"{c['depth']}: {c['ndcg@10']:.3f} ({c.get('mean', 0):.0f} ms)"
                for c in data["rerank_curve"]
            )
            lines += [
                f"Rerank depth (articles) -> nDCG@10 (mean ms/query): {curve}",
                "",
            ]
        lines += _weights_md(data)
    if latency_file is not None and Path(latency_file).is_file():
        data = json.loads(Path(latency_file).read_text())
        lines += ["## Latency", "", f"Index {data['index']}, {data['n_queries']} queries."]
        lines += _provenance_md(data)
        lines += ["", latency_table(data), ""]
    return "\n".join(lines)


def _half(data: dict) -> str:
    """Words naming the half of the judged queries a run asked, or nothing.

    >>> _half({"half": "test"}), _half({})
    (' (the test half: corpora.splits.half_of)', '')
    """
    half = data.get("half")
    return f" (the {half} half: corpora.splits.half_of)" if half else ""
