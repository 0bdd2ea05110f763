"""Near-duplicate detection on the demo news: draw a labelled sample, score thresholds.

    python benchmarks/duplicates.py sample [--per-level 18] [--seed 12]   # pairs to judge
    python benchmarks/duplicates.py evaluate [--sample docs/duplicates_sample.tsv]
    python benchmarks/duplicates.py cost                                   # groups' cost

``sample`` computes every demo article's MinHash signature (``indexer.duplicates``),
the estimated similarity of *every* pair of articles (brute force, in chunks), and
draws ``--per-level`` pairs at random (``numpy.random.default_rng(seed)``) from each
similarity level [0.05, 0.1), [0.1, 0.2), ..., [0.9, 1.0] (all of a level's pairs when
it has fewer); pairs below 0.05 are not sampled. It prints each pair (titles, sources,
openings, how much of the shorter text the longer holds) for a person to judge, and
writes the TSV with an empty ``label`` column; the judged file is
docs/duplicates_sample.tsv (label 1: the same story text re-published, perhaps with a
new headline or small edits; 0: not, however close the topic).

``evaluate`` recomputes each judged pair's similarity from the texts and prints
precision and recall per threshold: over the sample as drawn, and weighted by how many
pairs of the corpus each level holds (``level_pairs`` in the TSV), which estimates the
corpus-wide numbers for pairs of similarity >= 0.05. ``cost`` times computing one
commit's groups from the signatures (what a reader does on its first search) and checks
LSH against brute force; ``latency`` compares search with collapse on and off.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.demo import read_demo_news  # noqa: E402
from indexer.duplicates import (  # noqa: E402
    DuplicateGroups,
    duplicate_groups,
    has_signature,
    lsh_bands,
    normalized_words,
    signature,
    signatures,
    similarity,
)
from newsrank.config import IndexConfig  # noqa: E402

SAMPLE = ROOT / "docs" / "duplicates_sample.tsv"
#: lower bounds of the similarity levels sampled; each runs to the next, the last to 1.0
LEVELS = [0.05, *(round(0.1 * i, 1) for i in range(1, 10))]
THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
FIELDS = ["pair", "level", "level_pairs", "similarity", "id_a", "id_b", "title_a", "title_b"]


def all_pair_similarities(sigs: np.ndarray, floor: float, chunk: int = 48) -> tuple:
    """Every pair (i < j) of estimated similarity >= ``floor``: (i, j, similarity)."""
    rows_i, rows_j, sims = [], [], []
    n = len(sigs)
    for lo in range(0, n, chunk):
        block = sigs[lo : lo + chunk]
        sim = (block[:, None, :] == sigs[None, :, :]).mean(axis=2)
        sim[~has_signature(block)] = 0.0  # no signature: similar to nothing
        sim[:, ~has_signature(sigs)] = 0.0
        i, j = np.nonzero(sim >= floor)
        keep = j > i + lo
        rows_i.append(i[keep] + lo)
        rows_j.append(j[keep])
        sims.append(sim[i[keep], j[keep]])
    return np.concatenate(rows_i), np.concatenate(rows_j), np.concatenate(sims)


def containment(a: str, b: str, k: int = 8) -> float:
    """Share of the shorter text's word 8-grams the longer one holds (a reading aid)."""
    wa, wb = normalized_words(a), normalized_words(b)
    if len(wa) > len(wb):
        wa, wb = wb, wa
    grams_a = {tuple(wa[i : i + k]) for i in range(max(1, len(wa) - k + 1))}
    grams_b = {tuple(wb[i : i + k]) for i in range(max(1, len(wb) - k + 1))}
    return len(grams_a & grams_b) / max(1, len(grams_a))


def cmd_sample(args: argparse.Namespace) -> None:
    articles = read_demo_news().articles
    t = time.perf_counter()
    sigs = signatures(a.text for a in articles)
    print(f"signatures: {len(sigs)} articles in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    i, j, sim = all_pair_similarities(sigs, LEVELS[0])
    print(f"{len(sim)} pairs >= {LEVELS[0]} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    rng = np.random.default_rng(args.seed)
    rows = []
    for lo, hi in zip(LEVELS, [*LEVELS[1:], 1.01]):
        inside = np.flatnonzero((sim >= lo - 1e-9) & (sim < hi - 1e-9))
        chosen = rng.choice(inside, size=min(args.per_level, len(inside)), replace=False)
        for p in sorted(chosen, key=lambda p: sim[p]):
            a, b = articles[i[p]], articles[j[p]]
            rows.append(
                {
                    "pair": len(rows) + 1,
                    "level": f"{lo:.2f}",
                    "level_pairs": len(inside),
                    "similarity": f"{sim[p]:.3f}",
                    "id_a": a.id,
                    "id_b": b.id,
                    "title_a": a.title,
                    "title_b": b.title,
                }
            )
            print(f"\n#{len(rows)} level {lo:.2f} sim {sim[p]:.3f} ", end="")
            print(f"contain8 {containment(a.text, b.text):.2f} len {len(a.text)}/{len(b.text)}")
            print(f"  A [{a.source} {a.date}] {a.title} :: {a.text[:220]!r}")
            print(f"  B [{b.source} {b.date}] {b.title} :: {b.text[:220]!r}")
    out = Path(args.out)
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, [*FIELDS, "label", "note"], delimiter="\t")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "label": "", "note": ""})
    print(f"\nwrote {len(rows)} pairs to {out}", file=sys.stderr)


def read_sample(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["label"] in ("0", "1")]


def scores(rows: list[dict], sims: np.ndarray, threshold: float, weighted: bool) -> tuple:
    """(precision, recall, predicted duplicates) at ``threshold`` over the judged rows."""
    label = np.array([r["label"] == "1" for r in rows])
    weight = np.ones(len(rows))
    if weighted:  # each judged pair stands for level_pairs / judged-in-level pairs
        judged: dict[str, int] = {}
        for r in rows:
            judged[r["level"]] = judged.get(r["level"], 0) + 1
        weight = np.array([int(r["level_pairs"]) / judged[r["level"]] for r in rows])
    predicted = sims >= threshold
    tp = float((weight * (predicted & label)).sum())
    precision = tp / float((weight * predicted).sum()) if predicted.any() else float("nan")
    recall = tp / float((weight * label).sum()) if label.any() else float("nan")
    return precision, recall, int(predicted.sum())


def cmd_evaluate(args: argparse.Namespace) -> None:
    rows = read_sample(Path(args.sample))
    by_id = {a.id: a for a in read_demo_news().articles}
    sims = np.array(
        [
            float(similarity(signature(by_id[r["id_a"]].text), signature(by_id[r["id_b"]].text)))
            for r in rows
        ]
    )
    n_dup = sum(r["label"] == "1" for r in rows)
    print(f"{len(rows)} judged pairs, {n_dup} duplicates\n")
    print(
        "| threshold | flagged | precision (sample) | recall (sample) | "
        "precision (weighted) | recall (weighted) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for t in THRESHOLDS:
        p, r, flagged = scores(rows, sims, t, weighted=False)
        pw, rw, _ = scores(rows, sims, t, weighted=True)
        print(f"| {t:.2f} | {flagged} | {p:.3f} | {r:.3f} | {pw:.3f} | {rw:.3f} |")
    print("\nper level: judged, duplicates")
    for lo, hi in zip(LEVELS, [*LEVELS[1:], 1.0]):
        inside = [r for r in rows if r["level"] == f"{lo:.2f}"]
        dup = sum(r["label"] == "1" for r in inside)
        pairs = inside[0]["level_pairs"] if inside else 0
        print(f"  [{lo:.2f}, {hi:.2f}): {len(inside)} judged of {pairs} pairs, {dup} duplicates")


def cmd_cost(args: argparse.Namespace) -> None:
    articles = read_demo_news().articles
    t = time.perf_counter()
    sigs = signatures(a.text for a in articles)
    sig_s = time.perf_counter() - t
    duplicate_groups(sigs, args.threshold)  # warm the band choice (cached per threshold)
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        groups = DuplicateGroups.of(duplicate_groups(sigs, args.threshold))
        times.append(time.perf_counter() - t)
    sizes = [len(m) for m in groups.members.values()]
    i, j, sim = all_pair_similarities(sigs, args.threshold)
    apart = (groups.labels[i] != groups.labels[j]) | (groups.labels[i] < 0)
    missed = int(apart.sum())
    print(
        f"LSH bands {lsh_bands(args.threshold)}: {len(sim) - missed} of the {len(sim)} pairs "
        f"at or above the threshold in one group ({missed} missed; brute force over all pairs)"
    )
    print(
        f"{len(articles)} articles: signatures {sig_s:.2f} s ({1000 * sig_s / len(articles):.2f}"
        f" ms/article, at index time)"
    )
    print(
        f"groups at threshold {args.threshold}: median {1000 * np.median(times):.1f} ms "
        f"(min {1000 * min(times):.1f}) per commit; {groups.n_groups} groups holding "
        f"{sum(sizes)} articles, largest {max(sizes, default=0)}"
    )


def cmd_latency(args: argparse.Namespace) -> None:
    """Search p50 with collapse on and off, interleaved in one run, on ``--index`` or on a
    fixture index (tests/fixtures/news.jsonl plus a re-published copy of every third
    article, built in a temporary directory)."""
    import dataclasses
    import platform
    import tempfile

    from indexer.build import build_index
    from indexer.dense import Embedder
    from indexer.ingest import read_articles
    from ranker.request import SearchRequest
    from ranker.search import Searcher

    embedder = Embedder(IndexConfig().embedder, batch_size=32)
    index = args.index
    scratch = tempfile.TemporaryDirectory()
    if index is None:
        articles = read_articles([ROOT / "tests" / "fixtures" / "news.jsonl"]).articles
        extra = [
            dataclasses.replace(a, id=f"{a.id}-copy", title=a.title.upper(), source="Wire")
            for a in articles[::3]
        ]
        index = Path(scratch.name) / "index"
        build_index(articles + extra, index, embedder=embedder, progress=False)
    heads = {}
    if args.heads:  # the default pipeline: the shipped reranker and reader
        from heads.loaders import load_heads
        from newsrank.config import HeadsConfig

        loaded = load_heads(HeadsConfig(), roles=("reranker", "reader"), missing="error")
        heads = {"reranker": loaded.reranker, "reader": loaded.reader}
    searcher = Searcher.open(index, embedder=embedder, **heads)
    queries = [q.strip() for q in (ROOT / "benchmarks" / "queries.txt").read_text().splitlines()]
    queries = [q for q in queries if q and not q.startswith("#")]
    t = time.perf_counter()
    searcher.index.duplicates()  # once per commit, on its first search
    groups_ms = 1000 * (time.perf_counter() - t)
    for q in queries:  # warm-up
        searcher.search(SearchRequest(q))
        searcher.search(SearchRequest(q, collapse=False))
    times: dict[bool, list[float]] = {True: [], False: []}
    stage: list[float] = []  # the collapse stage's own time
    for repeat in range(args.repeats):
        for n, q in enumerate(queries):
            order = (True, False) if (n + repeat) % 2 else (False, True)
            for on in order:
                t = time.perf_counter()
                response = searcher.search(SearchRequest(q, collapse=on))
                times[on].append(1000 * (time.perf_counter() - t))
                if on:
                    stage.append(response.timings_ms.get("collapse", 0.0))
    on, off = float(np.median(times[True])), float(np.median(times[False]))
    print(
        f"index {index}: {searcher.store.n_live} articles, "
        f"{searcher.index.duplicates().n_groups} duplicate groups (computed in "
        f"{groups_ms:.1f} ms, once per commit)"
    )
    print(
        f"{len(times[True])} searches each ({len(queries)} queries x {args.repeats}; "
        f"{'reranker and reader' if args.heads else 'no heads'}), "
        f"machine {platform.processor() or platform.machine()}"
    )
    print(
        f"p50 collapse on {on:.2f} ms, off {off:.2f} ms, ratio {on / off:.3f}; the "
        f"collapse stage itself: p50 {np.median(stage):.3f} ms, max {max(stage):.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--per-level", type=int, default=24)
    s.add_argument("--seed", type=int, default=12)
    s.add_argument("--out", default=str(ROOT / "var" / "duplicates_sample_unjudged.tsv"))
    s.set_defaults(func=cmd_sample)
    e = sub.add_parser("evaluate")
    e.add_argument("--sample", default=str(SAMPLE))
    e.set_defaults(func=cmd_evaluate)
    c = sub.add_parser("cost")
    c.add_argument("--threshold", type=float, default=IndexConfig().duplicate_threshold)
    c.add_argument("--repeat", type=int, default=5)
    c.set_defaults(func=cmd_cost)
    lat = sub.add_parser("latency")
    lat.add_argument("--index", default=None, help="default: a fixture index in a temp dir")
    lat.add_argument("--repeats", type=int, default=5)
    lat.add_argument(
        "--heads", action="store_true", help="the default pipeline (reranker and reader)"
    )
    lat.set_defaults(func=cmd_latency)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
