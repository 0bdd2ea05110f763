"""Replay rankings from ``fusion_features.py`` dumps and search combination weights.

Two ways of ordering the first ``depth`` fused (RRF) articles are replayed, exactly as
the product would order them:

- ``mix w``: the cross-encoder mixed with the fused score alone, ``rerank_mix`` =
  ``(w, 1 - w, 0, 0)`` (the product's default before issue #14's fusion work);
- ``convex a:b:c``: ``rerank_mix = (a, 0, b, c)``: ``a * minmax(ce) + b * minmax(bm25)
  + c * minmax(dense)`` over the reranked articles, an article a retriever did not
  return counting as that retriever's lowest;
- with ``--fused-grid``, ``grid a:f:b:c``: every ``rerank_mix = (a, f, b, c)`` of the
  grid, the fused score weighed too.

Both go through the product's own :func:`ranker.rerank.rerank_articles`.

Articles past the depth keep their fused order. Weights are ranked by the mean
nDCG@10 over the given (development) files; every collection's own figure is printed
too, with the collections where it is below a single stage (bm25, dense or hybrid), so a
setting that loses somewhere shows.

    python benchmarks/fit_fusion.py runs/features/news-refind-dev.jsonl \
        runs/features/news-topical-dev.jsonl runs/features/scifact-dev.jsonl

A collection without a development split can be halved: ``cran.jsonl#dev`` keeps the
queries whose id has an even SHA-1 (:func:`corpora.splits.half_of`, the halves of
``newsrank eval retrieval --half``; CRAN's and CISI's development halves from session
21 on, docs/results_notes.md, where they were written ``#even``), ``#test`` the other half.

To choose between two cross-encoder heads, dump the same collections once per head and
pass the shipped head's folder as ``--baseline``: the settings, best mean first, are
each tested (paired t-test per collection) against the product's default mix replayed on
the baseline dumps, and the best setting with no collection significantly worse is named.

    python benchmarks/fit_fusion.py runs/new/news-refind-dev.jsonl runs/new/cran.jsonl#dev \
        --depths 10 --baseline runs/shipped
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpora.splits import half_of  # noqa: E402
from evaluation.scoring import measure, significance  # noqa: E402
from newsrank.config import check_rerank_mix  # noqa: E402
from ranker.ranking import ArticleScore  # noqa: E402
from ranker.rerank import rerank_articles  # noqa: E402

#: ``FILE#HALF`` names: ``dev`` / ``test`` (:func:`corpora.splits.half_of`), and the
#: ``even`` / ``odd`` of session 21's commands (the same halves)
HALF_NAMES = {"dev": "dev", "test": "test", "even": "dev", "odd": "test"}


def in_half(qid: str, half: str) -> bool:
    """Whether query ``qid`` is in ``half`` (``dev``/``even`` or ``test``/``odd``): the
    parity of its SHA-1, :func:`corpora.splits.half_of`, the fixed development/test
    split of a collection that has none.

    >>> [in_half("1", "even"), in_half("1", "odd"), in_half("2", "dev")]
    [False, True, True]
    """
    return half_of(qid) == HALF_NAMES[half]


def load(path: str) -> list[dict]:
    """A dump's queries; ``FILE#dev`` or ``FILE#test`` (also ``#even`` / ``#odd``) keeps
    one half (:func:`in_half`)."""
    path, _, half = path.partition("#")
    if half and half not in HALF_NAMES:
        raise SystemExit(f"half {half!r} of {path}: use FILE#dev or FILE#test")
    with open(path, encoding="utf-8") as f:
        qs = [json.loads(line) for line in f if line.strip()]
    return [q for q in qs if not half or in_half(q["qid"], half)]


def name_of(path: str) -> str:
    """``runs/x/cran.jsonl#even`` -> ``cran#even``."""
    path, _, half = path.partition("#")
    return Path(path).stem + (f"#{half}" if half else "")


def ranked(q: dict, depth: int, mix: tuple[float, float, float, float]) -> dict:
    """The product's rerank stage (:func:`ranker.rerank.rerank_articles`) replayed on one
    dumped query: its first ``depth`` fused articles ordered by ``mix``, as a run."""
    cands = sorted((c for c in q["cands"] if c["fused"]), key=lambda c: c["fused"][0])
    fused = [ArticleScore(i, c["fused"][1], i) for i, c in enumerate(cands)]
    ce = {i: c["ce"] for i, c in enumerate(cands[:depth])}
    stages = {
        name: {i: c[name][1] for i, c in enumerate(cands) if c[name]} for name in ("bm25", "dense")
    }
    ids = [cands[a.article]["doc"] for a in rerank_articles(fused, ce, mix, stages)]
    return {d: float(len(ids) - r) for r, d in enumerate(ids)}


def parse_setting(text: str) -> tuple[tuple[float, float, float, float], int]:
    """``"0.4:0:0.4:0.2@10"`` -> (the mix, the depth).

    >>> parse_setting("0.4:0:0.4:0.2@10")
    ((0.4, 0.0, 0.4, 0.2), 10)
    """
    mix, _, depth = text.strip().partition("@")
    return check_rerank_mix([float(v) for v in mix.split(":")]), int(depth or 10)


def stage_run(q: dict, name: str) -> dict:
    got = [(c[name][0], c["doc"]) for c in q["cands"] if c[name]]
    ids = [d for _, d in sorted(got)]
    return {d: float(len(ids) - r) for r, d in enumerate(ids)}


def evaluate(data: dict[str, list[dict]], make) -> dict[str, dict[str, float]]:
    out = {}
    for name, qs in data.items():
        qrels = {q["qid"]: q["qrels"] for q in qs}
        run = {q["qid"]: make(q) for q in qs}
        out[name] = measure(qrels, {"x": run})["x"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="+")
    p.add_argument("--depths", default="10,20,30")
    p.add_argument("--step", type=float, default=0.1)
    p.add_argument("--top", type=int, default=15)
    p.add_argument(
        "--mixes",
        default="",
        help="only these settings, CE:FUSED:BM25:DENSE@DEPTH, comma-separated "
        "(e.g. 0.2:0.8:0:0@10,0.4:0:0.4:0.2@10); default: the grid",
    )
    p.add_argument(
        "--fused-grid",
        action="store_true",
        help="let the grid weigh the fused score too (ce:fused:bm25:dense; 4x the settings)",
    )
    p.add_argument("--metric", default="ndcg@10")
    p.add_argument(
        "--baseline",
        help="a folder of another head's dumps with the same file names: the best settings "
        "are then tested (paired t) against the product's default mix replayed on them, "
        "and the best one with no collection significantly worse is named",
    )
    p.add_argument(
        "--baseline-mix",
        default=None,
        help="the baseline's setting, CE:FUSED:BM25:DENSE@DEPTH (default: the product's)",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of --baseline")
    args = p.parse_args(argv)
    data = {name_of(f): load(f) for f in args.files}
    m = args.metric
    rows = []
    settings: dict[str, tuple[tuple[float, float, float, float], int]] = {}
    for stage in ("bm25", "dense", "fused"):
        res = evaluate(data, lambda q, s=stage: stage_run(q, s))
        rows.append((f"stage {stage}", res))
    stages = {n: max(r[n][m] for _, r in rows[:3]) for n in data}  # bm25, dense, hybrid
    grid = np.round(np.arange(0, 1 + 1e-9, args.step), 3)
    chosen = [parse_setting(t) for t in args.mixes.split(",") if t.strip()]
    for mix, depth in chosen:
        res = evaluate(data, lambda q, m=mix, d=depth: ranked(q, d, m))
        rows.append((f"mix {':'.join(f'{w:g}' for w in mix)} depth {depth}", res))
        settings[rows[-1][0]] = (mix, depth)
    for depth in [int(d) for d in args.depths.split(",")] if not chosen else []:
        for w in (0.2, 0.4, 0.6, 1.0):
            res = evaluate(data, lambda q, w=w, d=depth: ranked(q, d, (w, 1 - w, 0, 0)))
            rows.append((f"mix {w:g} depth {depth}", res))
            settings[rows[-1][0]] = ((w, 1 - w, 0.0, 0.0), depth)
        fused_weights = grid if args.fused_grid else [0.0]
        for a, f, b in itertools.product(grid, fused_weights, grid):
            c = round(1 - a - f - b, 3)
            if c < -1e-9:
                continue
            if a == 0:
                continue  # the product refuses a mix without the cross-encoder
            c = max(c, 0.0) + 0.0  # no -0 in labels
            mix = (float(a), float(f), float(b), float(c))
            res = evaluate(data, lambda q, m=mix, d=depth: ranked(q, d, m))
            label = f"{a:g}:{b:g}:{c:g}" if not f else f"{a:g}:{f:g}:{b:g}:{c:g}"
            rows.append((f"{'grid' if f else 'convex'} {label} depth {depth}", res))
            settings[rows[-1][0]] = (mix, depth)
    names = list(data)
    header = (
        "| setting | mean | " + " | ".join(names) + " | below a stage (bm25, dense or hybrid) |"
    )
    print(header)
    print("|" + "---|" * (len(names) + 3))

    def line(label, res):
        mean = np.mean([res[n][m] for n in names])
        below = [n for n in names if res[n][m] < stages[n] - 1e-9]
        cells = " | ".join(f"{res[n][m]:.3f}" for n in names)
        return mean, f"| {label} | {mean:.4f} | {cells} | {', '.join(below)} |"

    scored = [line(label, res) for label, res in rows]
    for _, text in scored[:3]:
        print(text)
    for label, res in rows:
        if label.startswith("mix"):
            print(line(label, res)[1])
    best = [] if chosen else sorted(scored[3:], key=lambda t: -t[0])[: args.top]
    for _, text in best:
        print(text)
    if args.baseline:
        ranked_rows = sorted(rows[3:], key=lambda r: -np.mean([r[1][n][m] for n in names]))
        against_baseline(data, ranked_rows, settings, args)
    if len(chosen) >= 2:  # paired t-tests of each setting against the first
        print(f"\np ({m}, paired t-test) against {rows[3][0]}:\n")
        print("| setting | " + " | ".join(names) + " |")
        print("|" + "---|" * (len(names) + 1))
        runs = {n: {} for n in names}
        for label, _ in rows[3:]:
            mix, depth = settings[label]
            for n, qs in data.items():
                runs[n][label] = {q["qid"]: ranked(q, depth, mix) for q in qs}
        pvals = {
            n: significance({q["qid"]: q["qrels"] for q in qs}, runs[n], rows[3][0])
            for n, qs in data.items()
        }
        for label, _ in rows[4:]:
            cells = " | ".join(f"{pvals[n][label][m]}" for n in names)
            print(f"| {label} | {cells} |")
    return 0


def baseline_files(data: dict[str, list[dict]], folder: str) -> dict[str, list[dict]]:
    """The baseline dumps of ``data``'s collections: ``folder/<stem>.jsonl`` with the same
    half, holding the same queries (or a clear error)."""
    out = {}
    for name, qs in data.items():
        stem, _, half = name.partition("#")
        path = Path(folder) / f"{stem}.jsonl"
        if not path.is_file():
            raise SystemExit(f"--baseline {folder}: no {path.name} for {name}; dump it first")
        base = load(f"{path}#{half}" if half else str(path))
        if {q["qid"] for q in base} != {q["qid"] for q in qs}:
            raise SystemExit(f"--baseline {folder}: {path.name} holds other queries than {name}")
        out[name] = base
    return out


def pairwise_p(qrels: dict, setting_run: dict, baseline_run: dict, metric: str) -> float | None:
    """p of ``setting_run`` against ``baseline_run`` (paired t-test), None where undefined."""
    runs = {"baseline": baseline_run, "setting": setting_run}
    return significance(qrels, runs, "baseline").get("setting", {}).get(metric)


def against_baseline(data, ranked_rows, settings, args) -> None:
    """Walk the settings from the best mean down; test each against the baseline head's
    default setting on every collection; print them until ``--top`` admissible ones (no
    collection significantly worse) are shown, and name the first."""
    from newsrank.config import HeadsConfig

    m, names = args.metric, list(data)
    d = HeadsConfig()
    base_mix, base_depth = (
        parse_setting(args.baseline_mix) if args.baseline_mix else (d.rerank_mix, d.rerank_depth)
    )
    base = baseline_files(data, args.baseline)
    qrels = {n: {q["qid"]: q["qrels"] for q in qs} for n, qs in data.items()}
    base_runs = {
        n: {q["qid"]: ranked(q, base_depth, base_mix) for q in qs} for n, qs in base.items()
    }
    base_res = {n: measure(qrels[n], {"b": base_runs[n]})["b"] for n in names}
    base_mean = float(np.mean([base_res[n][m] for n in names]))
    label = f"{':'.join(f'{w:g}' for w in base_mix)}@{base_depth}"
    print(f"\nagainst the baseline {args.baseline} at {label} (mean {m} {base_mean:.4f}):")
    print("difference of means and p (paired t) per collection; * = significantly worse\n")
    print("| setting | mean | " + " | ".join(names) + " | admissible |")
    print("|" + "---|" * (len(names) + 3))
    shown, first = 0, None
    for row_label, res in ranked_rows:
        if row_label not in settings:
            continue
        mix, depth = settings[row_label]
        cells, worse = [], False
        for n, qs in data.items():
            run = {q["qid"]: ranked(q, depth, mix) for q in qs}
            p = pairwise_p(qrels[n], run, base_runs[n], m)
            diff = res[n][m] - base_res[n][m]
            bad = p is not None and p < args.alpha and diff < 0
            worse |= bad
            cells.append(f"{diff:+.3f} (p {'-' if p is None else f'{p:.3f}'}){'*' if bad else ''}")
        mean = float(np.mean([res[n][m] for n in names]))
        print(f"| {row_label} | {mean:.4f} | {' | '.join(cells)} | {'no' if worse else 'yes'} |")
        if not worse:
            shown += 1
            first = first or (row_label, mean)
        if shown >= args.top:
            break
    if first is None:
        print("\nno setting is admissible")
    else:
        verdict = "above" if first[1] > base_mean + 1e-9 else "not above"
        print(
            f"\nbest admissible: {first[0]}, mean {first[1]:.4f}, "
            f"{verdict} the baseline's {base_mean:.4f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
