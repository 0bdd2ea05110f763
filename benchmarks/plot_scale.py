"""Plot how the scale benchmark's figures grow with the collection: an SVG, no plotting library.

    python benchmarks/scale.py --sizes 20000,100000,1000000 --json > runs/scale/report.json
    python benchmarks/plot_scale.py runs/scale/report.json --out docs/scale-growth.svg

Three panels over passages (both axes logarithmic): the stages' p50 latency, start-up
seconds, and memory / disk. Each series is drawn through the sizes the report holds, with
its values printed at the points, and the issue's targets as dashed lines.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from xml.sax.saxutils import escape

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


def _series(report: dict) -> list[dict]:
    """The panels: a title, a unit, the (label, values) series and the targets."""
    sizes = report["sizes"]

    def col(get) -> list[float | None]:
        out = []
        for r in sizes:
            try:
                v = get(r)
            except (KeyError, TypeError):
                v = None
            out.append(float(v) if v is not None else None)
        return out

    return [
        {
            "title": "stage latency p50 (ms)",
            "series": [
                ("BM25, MaxScore", col(lambda r: r["stages"]["bm25_p50_ms"])),
                ("BM25, every posting", col(lambda r: r["stages"]["bm25_exhaustive_p50_ms"])),
                ("dense (flat, HNSW at 200k+)", col(lambda r: r["stages"]["dense_p50_ms"])),
            ],
            "targets": [("target 10 ms", 10.0)],
        },
        {
            "title": "start-up (s)",
            "series": [
                ("open", col(lambda r: r["load"]["open_s"])),
                ("first answer", col(lambda r: r["load"]["load_s"])),
                ("duplicate groups ready", col(lambda r: r["load"]["groups_ready_s"])),
            ],
            "targets": [("target 15 s", 15.0)],
        },
        {
            "title": "memory and disk (MB)",
            "series": [
                ("RSS after open", col(lambda r: r["load"]["rss_open_mb"])),
                ("peak RSS", col(lambda r: r["load"]["rss_mb"])),
                ("on disk", col(lambda r: r["disk_mb"]["total"])),
            ],
            "targets": [("target 8 GB", 8192.0)],
        },
    ]


def _fmt(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def render(report: dict, width: int = 420, height: int = 300) -> str:
    """The SVG text of the three panels side by side."""
    xs = [float(r["passages"]) for r in report["sizes"]]
    panels = _series(report)
    margin = {"l": 56, "r": 44, "t": 28, "b": 96}
    pw, ph = width - margin["l"] - margin["r"], height - margin["t"] - margin["b"]
    m = report.get("machine", {})
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * len(panels)}" '
        f'height="{height + 20}" font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="8" y="{height + 14}" fill="#555">{escape(str(m.get("model_name", "")))}, '
        f"{m.get('cpus', '?')} CPUs; benchmarks/scale.py (resampled news, stand-in vectors)</text>",
    ]
    lx0, lx1 = math.log10(min(xs)), math.log10(max(xs))
    for i, panel in enumerate(panels):
        ox = i * width + margin["l"]
        values = [v for _, vs in panel["series"] for v in vs if v and v > 0]
        values += [t for _, t in panel["targets"]]
        ly0 = math.floor(math.log10(min(values)))
        ly1 = math.ceil(math.log10(max(values)))
        if ly1 == ly0:
            ly1 += 1

        def px(x: float, ox: float = ox) -> float:
            return ox + (math.log10(x) - lx0) / ((lx1 - lx0) or 1) * pw

        def py(y: float, ly0: int = ly0, ly1: int = ly1) -> float:
            return margin["t"] + ph - (math.log10(y) - ly0) / (ly1 - ly0) * ph

        parts.append(
            f'<text x="{ox}" y="16" font-weight="bold">{escape(panel["title"])}</text>'
            f'<rect x="{ox}" y="{margin["t"]}" width="{pw}" height="{ph}" fill="none" '
            'stroke="#999"/>'
        )
        for e in range(ly0, ly1 + 1):
            y = py(10.0**e)
            parts.append(
                f'<line x1="{ox}" x2="{ox + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                f'<text x="{ox - 4}" y="{y + 4:.1f}" text-anchor="end">{_fmt(10.0**e)}</text>'
            )
        for x in xs:
            parts.append(
                f'<text x="{px(x):.1f}" y="{margin["t"] + ph + 14}" text-anchor="middle">'
                f"{x / 1000:,.0f}k</text>"
            )
        for label, target in panel["targets"]:
            y = py(target)
            parts.append(
                f'<line x1="{ox}" x2="{ox + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#444" '
                f'stroke-dasharray="4 3"/><text x="{ox + pw - 2}" y="{y - 3:.1f}" '
                f'text-anchor="end" fill="#444">{escape(label)}</text>'
            )
        for j, (label, vs) in enumerate(panel["series"]):
            colour = COLOURS[j % len(COLOURS)]
            points = [(px(x), py(v), v) for x, v in zip(xs, vs) if v and v > 0]
            if len(points) > 1:
                path = " ".join(f"{a:.1f},{b:.1f}" for a, b, _ in points)
                parts.append(
                    f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
                )
            for a, b, v in points:
                parts.append(
                    f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>'
                    f'<text x="{a + 4:.1f}" y="{b - 4:.1f}" fill="{colour}">{_fmt(v)}</text>'
                )
            ly = margin["t"] + ph + 30 + 14 * j
            parts.append(
                f'<rect x="{ox}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>'
                f'<text x="{ox + 14}" y="{ly + 1}">{escape(label)}</text>'
            )
        parts.append(
            f'<text x="{ox + pw / 2}" y="{margin["t"] + ph + 26}" text-anchor="middle" '
            'fill="#555" font-size="9">passages</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="+", help="scale.py --json reports (merged by size)")
    parser.add_argument("--out", default="docs/scale-growth.svg")
    args = parser.parse_args(argv)
    merged: dict = {}
    by_size: dict[int, dict] = {}
    for path in args.report:
        report = json.loads(Path(path).read_text())
        merged.setdefault("machine", report.get("machine"))
        for row in report["sizes"]:
            by_size[int(row["passages"])] = row
    merged["sizes"] = [by_size[k] for k in sorted(by_size)]
    if len(merged["sizes"]) < 2:
        print("plot_scale: give reports holding at least two sizes", file=sys.stderr)
        return 2
    Path(args.out).write_text(render(merged), encoding="utf-8")
    print(f"wrote {args.out} ({len(merged['sizes'])} sizes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
