"""Live index: what one change costs (add, delete, merge) and what it does to search.

    python benchmarks/live_index.py [--part add|delete|merge|latency|all]
        [--sizes 1000,6000,30000] [--repeats 5] [--seconds 20] [--json]

Method. Base indexes of each ``--sizes`` articles are built once under ``--workdir``
(one segment each, with ``build_index``) from the real demo article texts
(:func:`indexer.demo.read_demo_news`, about 5,954 articles; a sample of them for a
smaller size). A size above the demo corpus is filled by resampling demo articles
with new ids and their sentences shuffled, so the text statistics stay news-like but
no two copies are the same document. The added articles are made the same way (new
ids, shuffled sentences), so an add is always a batch of *new* articles.

Embedding 30,000 articles with the real model would take about an hour on this
machine, so the base indexes and the added articles are embedded by a fast,
deterministic stand-in (:class:`HashEmbedder`: hashed token counts projected to 384
dimensions by a fixed random matrix, L2-normalised, float32). The timings therefore
show what grows with the index (postings, the article store and its id lookups, the
commit), which must stay flat; the real embedder's cost for the same 100 articles is
measured separately (passages/s of ``indexer.dense.Embedder(IndexConfig().embedder)``),
and it does not depend on the index size by construction. The indexes are built
without heads (``--no-enrich``); one size is also timed with the shipped topic and
tagger heads labelling the new articles (its base index is labelled by them too).

Parts (each runnable alone with ``--part``):

- **add**: on a copy of each base index, ``--repeats`` runs (after one warm-up run)
  of a new writer (opened untimed, as ``newsrank index add`` opens one) doing
  ``add(100 new articles)`` + ``commit()``, no merge; after each run the 100 are
  deleted and committed again (untimed), which drops their segment, so every run
  starts from the same base. Median of the runs, with the writer's stage timings.
- **delete**: ``delete(100 ids spread evenly over the index)`` + ``commit()`` on a
  fresh copy of the base index for each run; median.
- **merge**: 10 adds of 100 (each committed, no merge: 11 segments), then
  ``merge(force=True)`` into one segment, timed (``--merge-repeats`` runs, median).
- **latency**: on the ``--latency-size`` index, p50/p95 of
  ``Searcher(reader, embedder=<stand-in>).search(SearchRequest(q))`` (no heads) over
  ``benchmarks/queries.txt`` cycled for ``--seconds``: idle, then while a second
  process (multiprocessing, spawn) loops add(100) + commit + maybe_merge; before each
  query the searching side calls ``reader.reopen()`` and, when a newer commit is
  there, ``searcher.reopened(new)``, as the server does (whose searcher starts with
  its suggester built: so does this one). Reports the background adds/s, the reopen
  cost (median ms of the reopens that found a new commit) and the first query on each
  new commit (with the near-duplicate groups it computed, where the code has them).

Everything is written under ``--workdir`` (default /tmp/newsrank-live-bench), which is
removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import statistics
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from evaluation.latency import percentiles, read_queries  # noqa: E402
from evaluation.report import provenance  # noqa: E402
from indexer.article import Article  # noqa: E402
from indexer.build import build_index  # noqa: E402
from indexer.demo import read_demo_news  # noqa: E402
from indexer.passages import passage_texts  # noqa: E402
from indexer.reader import IndexReader  # noqa: E402
from indexer.writer import IndexWriter  # noqa: E402
from newsrank.config import IndexConfig  # noqa: E402
from newsrank.machine import details  # noqa: E402

BATCH = 100
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class HashEmbedder:
    """Deterministic stand-in embedder: hashed token counts times a fixed random matrix.

    Tokens (lower-cased ``\\w+``) are hashed with CRC-32 into ``buckets`` counts, which a
    seeded Gaussian matrix projects to 384 dimensions; rows are L2-normalised float32.
    Texts sharing words get similar vectors, so dense retrieval still does real work,
    at a few microseconds per passage instead of milliseconds.
    """

    dim = 384
    precision = "fp32"
    model_name = "stand-in (hashed token counts, 384-d)"

    def __init__(self, buckets: int = 1 << 14, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.buckets = buckets
        self._proj = (rng.standard_normal((buckets, self.dim)) / np.sqrt(self.dim)).astype(
            np.float32
        )
        self._ids: dict[str, int] = {}

    def _bucket(self, token: str) -> int:
        found = self._ids.get(token)
        if found is None:
            found = self._ids[token] = zlib.crc32(token.encode("utf-8")) % self.buckets
        return found

    def encode(
        self, texts: Sequence[str], show_progress: bool = False, queries: bool = False
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = _WORD.findall(text.lower())
            if not tokens:
                continue
            idx = np.fromiter((self._bucket(t) for t in tokens), np.int64, len(tokens))
            uniq, counts = np.unique(idx, return_counts=True)
            out[row] = counts.astype(np.float32) @ self._proj[uniq]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.ascontiguousarray(out / norms, dtype=np.float32)


# -- articles


def shuffled_copy(article: Article, new_id: str, rng: random.Random) -> Article:
    """``article`` under ``new_id`` with the sentences of its text in a random order."""
    sentences = _SENTENCE.split(article.text.strip())
    rng.shuffle(sentences)
    return Article(
        new_id,
        article.title,
        " ".join(sentences),
        date=article.date,
        source=article.source,
        url=None,
        category=article.category,
    )


def base_articles(demo: list[Article], size: int, seed: int = 0) -> list[Article]:
    """``size`` articles: a sample of the demo corpus, or all of it plus resampled
    copies (new ids, shuffled sentences) above its size."""
    rng = random.Random(seed)
    if size <= len(demo):
        return rng.sample(demo, size)
    extra = [
        shuffled_copy(rng.choice(demo), f"resampled-{i:06d}", rng) for i in range(size - len(demo))
    ]
    return [*demo, *extra]


def new_articles(demo: list[Article], tag: str, n: int = BATCH) -> list[Article]:
    """``n`` articles new to any index here (ids ``new-<tag>-<i>``, shuffled sentences)."""
    rng = random.Random(zlib.crc32(tag.encode()))
    return [shuffled_copy(rng.choice(demo), f"new-{tag}-{i:03d}", rng) for i in range(n)]


# -- helpers


def median(values: Sequence[float]) -> float:
    return round(float(statistics.median(values)), 4) if values else float("nan")


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def copy_index(src: Path, dst: Path) -> Path:
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return dst


class Bench:
    """The base indexes (built once, cached under ``workdir``) and the demo articles."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        self.demo = read_demo_news().articles
        self.read_s = time.perf_counter() - t
        self.embedder = HashEmbedder()
        self.builds: dict[str, dict] = {}

    def base(self, size: int, heads: tuple[Any, Any, dict] | None = None) -> Path:
        """The base index of ``size`` articles (``heads``: labelled by those heads)."""
        name = f"base-{size}" + ("-heads" if heads else "")
        path = self.workdir / name
        if name not in self.builds:
            classifier, tagger, enrichment = heads or (None, None, None)
            t = time.perf_counter()
            result = build_index(
                base_articles(self.demo, size),
                path,
                IndexConfig(),
                embedder=self.embedder,
                classifier=classifier,
                tagger=tagger,
                enrichment=enrichment,
                progress=False,
            )
            self.builds[name] = {
                "articles": result.manifest.articles,
                "passages": result.manifest.passages,
                "seconds": round(time.perf_counter() - t, 1),
            }
            print(f"  built {name}: {self.builds[name]}", file=sys.stderr, flush=True)
        return path

    def writer(self, path: Path, heads: tuple[Any, Any, dict] | None = None) -> IndexWriter:
        classifier, tagger, _ = heads or (None, None, None)
        return IndexWriter(path, embedder=self.embedder, classifier=classifier, tagger=tagger)


# -- part 1: add


def time_adds(
    bench: Bench, size: int, repeats: int, heads: tuple[Any, Any, dict] | None = None
) -> dict:
    """Median add(100) + commit on the same base index (the 100 deleted after each run)."""
    work = copy_index(bench.base(size, heads), bench.workdir / f"work-add-{size}")
    totals, adds, commits, stages = [], [], [], []
    for run in range(repeats + 1):  # run 0: warm-up, not counted
        batch = new_articles(bench.demo, f"add{size}-{run}")
        with bench.writer(work, heads) as writer:
            t = time.perf_counter()
            writer.add(batch)
            t_add = time.perf_counter()
            manifest = writer.commit()
            t_end = time.perf_counter()
            segments = len(manifest.segments)
            writer.delete([a.id for a in batch])
            writer.commit()  # drops the added segment: back to the base
        if run:
            totals.append(t_end - t)
            adds.append(t_add - t)
            commits.append(t_end - t_add)
            stages.append(manifest.timings)
    stage_names = sorted({k for s in stages for k in s})
    return {
        "articles": size,
        "heads": bool(heads),
        "segments_after_add": segments,
        "add_commit_ms": ms(median(totals)),
        "add_ms": ms(median(adds)),
        "commit_ms": ms(median(commits)),
        "min_ms": ms(min(totals)),
        "max_ms": ms(max(totals)),
        "stages_ms": {k: ms(median([s.get(k, 0.0) for s in stages])) for k in stage_names},
    }


def real_embedder_cost(demo: list[Article]) -> dict:
    """The real embedder on the passages of 100 demo articles (as a writer splits them)."""
    from indexer.dense import Embedder

    config = IndexConfig()
    t = time.perf_counter()
    embedder = Embedder(
        config.embedder,
        config.embed_batch_size,
        config.embed_max_length,
        precision=config.embed_precision,
    )
    load_s = time.perf_counter() - t
    articles = demo[:: max(1, len(demo) // BATCH)][:BATCH]
    texts = passage_texts(articles, config)
    embedder.encode(texts[:16])  # warm-up
    t = time.perf_counter()
    embedder.encode(texts)
    seconds = time.perf_counter() - t
    stand_in = HashEmbedder()
    t = time.perf_counter()
    stand_in.encode(texts)
    stand_in_s = time.perf_counter() - t
    return {
        "model": config.embedder,
        "precision": embedder.precision,
        "load_s": round(load_s, 1),
        "articles": len(articles),
        "passages": len(texts),
        "seconds": round(seconds, 2),
        "passages_per_s": round(len(texts) / seconds, 1),
        "stand_in_ms": ms(stand_in_s),
    }


def load_enrichment_heads(max_load_s: float) -> tuple[tuple[Any, Any, dict] | None, dict]:
    """The shipped topic and tagger heads, or None (with the reason) if they are missing
    or load slower than ``max_load_s``."""
    from heads.loaders import load_heads
    from newsrank.config import HeadsConfig

    t = time.perf_counter()
    try:
        heads = load_heads(HeadsConfig(), roles=("topic", "tagger"))
    except Exception as exc:  # noqa: BLE001 - report any loading failure as a skip
        return None, {"skipped": f"heads did not load: {type(exc).__name__}: {exc}"}
    load_s = time.perf_counter() - t
    info: dict[str, Any] = {"load_s": round(load_s, 1), "names": heads.names}
    if heads.topic is None or heads.tagger is None:
        info["skipped"] = f"topic/tagger head missing: {heads.warnings}"
        return None, info
    if load_s > max_load_s:
        info["skipped"] = f"heads took {load_s:.0f} s to load (limit {max_load_s:.0f} s)"
        return None, info
    enrichment = {"topic": heads.names.get("topic"), "tagger": heads.names.get("tagger")}
    return (heads.topic, heads.tagger, enrichment), info


# -- part 2: delete


def time_deletes(bench: Bench, size: int, repeats: int) -> dict:
    """Median delete(100 spread ids) + commit, each run on a fresh copy of the base."""
    base = bench.base(size)
    ids = [a.id for a in base_articles(bench.demo, size)]
    totals, deletes, commits = [], [], []
    for run in range(repeats + 1):  # run 0: warm-up, not counted
        work = copy_index(base, bench.workdir / f"work-delete-{size}")
        step = len(ids) / BATCH
        chosen = [ids[int(i * step + run) % len(ids)] for i in range(BATCH)]
        with bench.writer(work) as writer:
            t = time.perf_counter()
            result = writer.delete(chosen)
            t_del = time.perf_counter()
            writer.commit()
            t_end = time.perf_counter()
        assert len(result.deleted) == BATCH, result.unknown[:3]
        if run:
            totals.append(t_end - t)
            deletes.append(t_del - t)
            commits.append(t_end - t_del)
    return {
        "articles": size,
        "delete_commit_ms": ms(median(totals)),
        "delete_ms": ms(median(deletes)),
        "commit_ms": ms(median(commits)),
        "min_ms": ms(min(totals)),
        "max_ms": ms(max(totals)),
    }


# -- part 3: merge


def time_merge(bench: Bench, size: int, repeats: int) -> dict:
    """merge(force=True) of the base + 10 committed adds of 100 (11 segments)."""
    base = bench.base(size)
    seconds, segments_before = [], 0
    for run in range(repeats):
        work = copy_index(base, bench.workdir / f"work-merge-{size}")
        with bench.writer(work) as writer:
            for i in range(10):
                writer.add(new_articles(bench.demo, f"merge{size}-{run}-{i}"))
                manifest = writer.commit()
            segments_before = len(manifest.segments)
            t = time.perf_counter()
            writer.merge(force=True)
            seconds.append(time.perf_counter() - t)
            after = writer.manifest
    return {
        "articles": after.articles if after else size,
        "passages": after.passages if after else 0,
        "segments_before": segments_before,
        "segments_after": len(after.segments) if after else 0,
        "merge_ms": ms(median(seconds)),
        "runs": repeats,
    }


# -- part 4: search latency while adds run


def background_adds(index_dir: str, ready: Any, stop: Any, results: Any) -> None:
    """The second process: add(100) + commit + maybe_merge until ``stop`` is set."""
    demo = read_demo_news().articles
    embedder = HashEmbedder()
    batches = [new_articles(demo, f"bg-{i}") for i in range(5)]
    seconds: list[float] = []
    merges = 0
    with IndexWriter(index_dir, embedder=embedder) as writer:
        ready.set()
        start = time.perf_counter()
        n = 0
        while not stop.is_set():
            batch = [
                Article(f"bg{n}-{a.id}", a.title, a.text, a.date, a.source, None, a.category)
                for a in batches[n % len(batches)]
            ]
            t = time.perf_counter()
            writer.add(batch)
            writer.commit()
            merged = writer.maybe_merge()
            seconds.append(time.perf_counter() - t)
            merges += bool(merged.merged)
            n += 1
        elapsed = time.perf_counter() - start
        articles = writer.manifest.articles if writer.manifest else 0
    results.put(
        {
            "adds": n,
            "seconds": round(elapsed, 1),
            "adds_per_s": round(n / elapsed, 2) if elapsed else 0.0,
            "add_commit_maybe_merge_ms": ms(median(seconds)),
            "merges": merges,
            "articles_at_end": articles,
        }
    )


def search_loop(searcher: Any, queries: list[str], seconds: float) -> tuple[Any, dict]:
    """Cycle ``queries`` for ``seconds``, reopening the newest commit before each."""
    from ranker.request import SearchRequest

    search_ms, request_ms, reopen_ms = [], [], []
    duplicates_ms: list[float] = []  # near-duplicate groups of a new commit, if any
    first_query_ms: list[float] = []  # the first search on each new commit
    reader = searcher.index
    generations = {reader.generation}
    until = time.monotonic() + seconds
    i = 0
    while time.monotonic() < until:
        t = time.perf_counter()
        new = reader.reopen()
        if new is not None:
            searcher = searcher.reopened(new)
            reader = new
            reopen_ms.append((time.perf_counter() - t) * 1000)
            generations.add(new.generation)
        t_search = time.perf_counter()
        searcher.search(SearchRequest(queries[i % len(queries)]))
        t_end = time.perf_counter()
        search_ms.append((t_end - t_search) * 1000)
        if new is not None:  # what the first query on a new commit computed for it
            dup_s = getattr(reader, "duplicate_seconds", None)
            if dup_s is not None:
                duplicates_ms.append(dup_s * 1000)
            first_query_ms.append(search_ms[-1])
        request_ms.append((t_end - t) * 1000)
        i += 1
    search = percentiles(search_ms)
    request = percentiles(request_ms)
    return searcher, {
        "queries": len(search_ms),
        "search_p50_ms": search["p50_ms"],
        "search_p95_ms": search["p95_ms"],
        "request_p50_ms": request["p50_ms"],
        "request_p95_ms": request["p95_ms"],
        "reopens": len(reopen_ms),
        "reopen_median_ms": round(statistics.median(reopen_ms), 1) if reopen_ms else None,
        "reopen_p95_ms": percentiles(reopen_ms)["p95_ms"] if reopen_ms else None,
        "first_query_on_new_commit_median_ms": (
            round(statistics.median(first_query_ms), 1) if first_query_ms else None
        ),
        "duplicates_median_ms": (
            round(statistics.median(duplicates_ms), 1) if duplicates_ms else None
        ),
        "articles_at_end": reader.manifest.articles,
    }


def time_latency(bench: Bench, size: int, queries: list[str], seconds: float) -> dict:
    from ranker.request import SearchRequest
    from ranker.search import Searcher

    work = copy_index(bench.base(size), bench.workdir / f"work-latency-{size}")
    searcher = Searcher(IndexReader.open(work), embedder=bench.embedder)
    t = time.perf_counter()
    if hasattr(searcher, "build_suggester"):  # the server starts with one built
        searcher.build_suggester()
    suggester_ms = ms(time.perf_counter() - t)
    for q in queries:  # warm-up
        searcher.search(SearchRequest(q))
    searcher, idle = search_loop(searcher, queries, seconds)
    ctx = mp.get_context("spawn")
    ready, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=background_adds, args=(str(work), ready, stop, results))
    proc.start()
    try:
        if not ready.wait(300):
            raise RuntimeError("the background writer did not start within 300 s")
        searcher, busy = search_loop(searcher, queries, seconds)
        stop.set()
        background = results.get(timeout=300)
    finally:
        stop.set()
        proc.join(60)
        if proc.is_alive():
            proc.terminate()
    return {
        "articles": size,
        "seconds": seconds,
        "suggester_build_ms": suggester_ms,
        "idle": idle,
        "adding": busy,
        "background": background,
    }


# -- report


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join([*(c.rjust(w) for c, w in zip(r[:-1], widths)), r[-1]]).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_report(report: dict) -> None:
    m = report["machine"]
    print(f"machine: {m['machine']}; load {m['load_average']}")
    if report.get("builds"):
        print(
            "base indexes (stand-in embedder): "
            + "; ".join(
                f"{k} {v['articles']} art / {v['passages']} pass in {v['seconds']} s"
                for k, v in report["builds"].items()
            )
        )
    rows = [["part", "articles", "median ms", "detail"]]
    for r in report.get("add", []):
        stages = ", ".join(f"{k} {v}" for k, v in r["stages_ms"].items())
        rows.append(
            [
                "add 100 + commit" + (" (+heads)" if r["heads"] else ""),
                str(r["articles"]),
                f"{r['add_commit_ms']:.1f}",
                f"add {r['add_ms']} + commit {r['commit_ms']} (min {r['min_ms']}, "
                f"max {r['max_ms']}); stages: {stages}",
            ]
        )
    for r in report.get("delete", []):
        rows.append(
            [
                "delete 100 + commit",
                str(r["articles"]),
                f"{r['delete_commit_ms']:.1f}",
                f"delete {r['delete_ms']} + commit {r['commit_ms']} (min {r['min_ms']}, "
                f"max {r['max_ms']})",
            ]
        )
    for r in report.get("merge", []):
        rows.append(
            [
                "merge(force=True)",
                str(r["articles"]),
                f"{r['merge_ms']:.1f}",
                f"{r['segments_before']} -> {r['segments_after']} segments, "
                f"{r['passages']} passages",
            ]
        )
    lat = report.get("latency")
    if lat:
        rows.append(
            ["build the suggester", str(lat["articles"]), f"{lat['suggester_build_ms']:.1f}", ""]
        )
        for phase in ("idle", "adding"):
            p = lat[phase]
            rows.append(
                [
                    f"search, {phase}",
                    str(lat["articles"]),
                    f"{p['search_p50_ms']:.1f}",
                    f"p95 {p['search_p95_ms']}; with reopen p50/p95 {p['request_p50_ms']}/"
                    f"{p['request_p95_ms']}; {p['queries']} queries, {p['reopens']} reopens"
                    + (
                        f" (median {p['reopen_median_ms']} ms; first query on a new commit "
                        f"{p['first_query_on_new_commit_median_ms']} ms, of which duplicate "
                        f"groups {p['duplicates_median_ms']} ms)"
                        if p["reopens"]
                        else ""
                    ),
                ]
            )
        bg = lat["background"]
        rows.append(
            [
                "background add+commit+maybe_merge",
                str(bg["articles_at_end"]),
                f"{bg['add_commit_maybe_merge_ms']:.1f}",
                f"{bg['adds_per_s']} adds/s ({bg['adds']} in {bg['seconds']} s, "
                f"{bg['merges']} merges)",
            ]
        )
    print(table(rows))
    real = report.get("real_embedder")
    if real:
        print(
            f"real embedder {real['model']} ({real['precision']}): {real['passages']} passages of "
            f"{real['articles']} articles in {real['seconds']} s = {real['passages_per_s']} "
            f"passages/s (stand-in: {real['stand_in_ms']} ms); load {real['load_s']} s"
        )
    if report.get("heads"):
        print(f"heads: {report['heads']}")
    print(json.dumps(report))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("add", "delete", "merge", "latency", "all"), default="all")
    ap.add_argument("--sizes", default="1000,6000,30000", help="base index sizes, in articles")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--merge-repeats", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=20.0, help="each latency window")
    ap.add_argument("--latency-size", type=int, default=6000)
    ap.add_argument("--queries", default=str(HERE / "queries.txt"))
    ap.add_argument("--heads-size", type=int, default=0, help="size timed with heads (0: smallest)")
    ap.add_argument("--no-heads", action="store_true", help="skip the add with heads")
    ap.add_argument("--no-real-embedder", action="store_true")
    ap.add_argument("--max-heads-load-s", type=float, default=60.0)
    ap.add_argument("--workdir", default="/tmp/newsrank-live-bench")
    ap.add_argument("--keep", action="store_true", help="keep the indexes in --workdir")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    parts = ("add", "delete", "merge", "latency") if args.part == "all" else (args.part,)
    workdir = Path(args.workdir)
    bench = Bench(workdir)
    report: dict[str, Any] = {
        "provenance": provenance(" ".join(["python benchmarks/live_index.py", *sys.argv[1:]])),
        "machine": details(),
        "demo_articles": len(bench.demo),
        "batch": BATCH,
        "repeats": args.repeats,
        "embedder": HashEmbedder.model_name,
    }
    run: dict[str, Callable[[], None]] = {}

    def add_part() -> None:
        report["add"] = [time_adds(bench, size, args.repeats) for size in sizes]
        if not args.no_heads:
            heads, info = load_enrichment_heads(args.max_heads_load_s)
            report["heads"] = info
            if heads is not None:
                size = args.heads_size or min(sizes)
                report["add"].append(time_adds(bench, size, args.repeats, heads))
        if not args.no_real_embedder:
            report["real_embedder"] = real_embedder_cost(bench.demo)

    run["add"] = add_part
    run["delete"] = lambda: report.__setitem__(
        "delete", [time_deletes(bench, size, args.repeats) for size in sizes]
    )
    run["merge"] = lambda: report.__setitem__(
        "merge", [time_merge(bench, size, args.merge_repeats) for size in sizes]
    )
    run["latency"] = lambda: report.__setitem__(
        "latency",
        time_latency(bench, args.latency_size, read_queries(args.queries), args.seconds),
    )
    try:
        for part in parts:
            t = time.perf_counter()
            print(f"part {part} ...", file=sys.stderr, flush=True)
            run[part]()
            print(f"part {part}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    finally:
        report["builds"] = bench.builds
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
