"""The PNG plots of the evaluation reports (:mod:`evaluation.report`), drawn with
matplotlib's Agg backend (no display needed): metric per stage (bar chart), rerank depth
against nDCG@10 and latency, a latency histogram and a confusion matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.scoring import HEADERS, METRICS


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_stages(stages: dict[str, dict[str, float]], path: Path, title: str) -> Path:
    """Grouped bar chart: one group per metric, one bar per stage."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.8 / max(1, len(stages))
    x = np.arange(len(METRICS))
    for i, (stage, m) in enumerate(stages.items()):
        ax.bar(x + i * width, [m[k] for k in METRICS], width, label=stage)
    ax.set_xticks(x + width * (len(stages) - 1) / 2, HEADERS)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(plt, fig, path)


def plot_rerank_curve(
    curve: Sequence[dict], path: Path, title: str, baseline: float | None = None
) -> Path:
    """nDCG@10 (left axis) and mean latency (right axis) against rerank depth;
    ``baseline``: the nDCG@10 of the ranking before reranking (a dotted line)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    depths = [c["depth"] for c in curve]
    ax.plot(depths, [c["ndcg@10"] for c in curve], "o-", color="C0", label="rerank")
    if baseline is not None:
        ax.axhline(baseline, color="grey", linestyle=":", label="hybrid, not reranked")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("rerank depth (fused passages rescored)")
    ax.set_ylabel("nDCG@10", color="C0")
    ax2 = ax.twinx()
    ax2.plot(depths, [c.get("mean", 0) for c in curve], "s--", color="C1")
    ax2.set_ylabel("mean latency per query (ms)", color="C1")
    ax.set_title(title)
    return _save(plt, fig, path)


def plot_latency_hist(samples: dict[str, list[float]], path: Path, title: str) -> Path:
    """Overlaid histograms of per-query latency, one per stage (log-spaced bins)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    values = [v for vs in samples.values() for v in vs if v > 0]
    if values:
        bins = np.geomspace(min(values), max(values) * 1.01, 40)
        for stage, vs in samples.items():
            ax.hist(vs, bins=bins, alpha=0.5, label=stage)
        ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("queries")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_confusion(matrix: Sequence[Sequence[int]], labels: Sequence[str], path: Path) -> Path:
    """A confusion matrix (rows gold, columns predicted) with counts in the cells."""
    plt = _plt()
    m = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(labels), 1 + 0.6 * len(labels)))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            color = "white" if m[i, j] > m.max() / 2 else "black"
            ax.text(j, i, str(m[i, j]), ha="center", va="center", color=color, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    return _save(plt, fig, path)
