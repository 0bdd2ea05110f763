"""BM25 engines for the live index: our postings (1 and 8 segments) against bm25s,
rank-bm25 and tantivy, on the passages of an index: build time, query latency, the cost
of adding and deleting documents, and whether scores drift after a delete.

    python benchmarks/bm25_engines.py --index var/index [--repeats 3]

Our postings, bm25s and rank-bm25 get the same tokens (newsrank's tokenizer) and the
same BM25 variant (Lucene idf; rank-bm25's Okapi class with its idf swapped in, as in
the tests), so their top-100 overlap should be 1.0. tantivy indexes the raw passage
text with its own ``en_stem`` tokenizer (lowercase, Snowball English stemmer, no
stopword list), so its overlap with ours is lower for reasons of tokens, not scoring.
Passages are read straight from the index's store.sqlite (sqlite3), so the script works
on an index of any layout that keeps that table. Needs ``pip install tantivy==0.27.0``.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import bm25s
import numpy as np

from indexer.analysis import Tokenizer
from indexer.bm25_reference import LuceneIdfOkapi
from indexer.lexical import BM25Index
from indexer.passages import retrieval_text
from indexer.postings import Postings

HERE = Path(__file__).parent
K = 100


def passage_texts(index_dir: Path) -> list[str]:
    """The retrieval text of every passage, in passage-id order, from store.sqlite."""
    db = sqlite3.connect(f"file:{index_dir / 'store.sqlite'}?mode=ro", uri=True)
    try:
        articles = {
            num: (title, text)
            for num, title, text in db.execute("SELECT num, title, text FROM articles")
        }
        rows = db.execute("SELECT article, start, end FROM passages ORDER BY pid").fetchall()
    finally:
        db.close()
    return [retrieval_text(articles[a][0], articles[a][1][s:e]) for a, s, e in rows]


def top_k(scores: np.ndarray, k: int = K) -> np.ndarray:
    """What BM25Index.retrieve does with a score array (bm25s, rank-bm25)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
    return positive[np.argsort(-scores[positive], kind="stable")]


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def split(tokens: list[list[str]], n: int) -> list[Postings]:
    bounds = np.linspace(0, len(tokens), n + 1).astype(int)
    return [Postings.from_tokens(tokens[a:z]) for a, z in zip(bounds, bounds[1:], strict=False)]


class Tantivy:
    """A tantivy index of the passages (field "text", en_stem; "pid" an indexed int)."""

    def __init__(
        self, texts: list[str], path: str | None = None, pids: list[int] | None = None
    ) -> None:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
        builder.add_integer_field("pid", stored=True, indexed=True, fast=True)
        self.tantivy = tantivy
        self.index = tantivy.Index(builder.build(), path=path)
        self.writer = self.index.writer(heap_size=200_000_000, num_threads=1)
        self.add(texts, pids if pids is not None else list(range(len(texts))))
        self.commit()

    def add(self, texts: list[str], pids: list[int]) -> None:
        for text, pid in zip(texts, pids, strict=True):
            self.writer.add_document(self.tantivy.Document(text=text, pid=pid))

    def commit(self) -> None:
        self.writer.commit()
        self.index.reload()
        self.searcher = self.index.searcher()

    def delete(self, pids: list[int]) -> None:
        for pid in pids:
            self.writer.delete_documents_by_term("pid", pid)

    def search(self, query: str, k: int = K) -> list[tuple[float, object]]:
        parsed, _errors = self.index.parse_query_lenient(query, ["text"])
        return self.searcher.search(parsed, k, count=False).hits

    def ids_scores(self, query: str, k: int = K) -> dict[int, float]:
        return {self.searcher.doc(a)["pid"][0]: s for s, a in self.search(query, k)}


def summary(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="var/index")
    parser.add_argument("--queries", default=str(HERE / "queries.txt"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--no-tantivy", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)

    texts = passage_texts(Path(args.index))
    queries = [q.strip() for q in Path(args.queries).read_text().splitlines() if q.strip()]
    tokenizer = Tokenizer()
    tokenize_s, tokens = timed(lambda: [tokenizer(t) for t in texts])
    n = len(texts)
    print(
        f"{n} passages, {len(queries)} queries, {args.repeats} repeats; tokenize {tokenize_s:.2f} s"
    )

    build: dict[str, float] = {}
    retrievers: dict[str, Callable[[str], np.ndarray]] = {}

    build["postings, 1 segment"], one = timed(
        lambda: BM25Index.over([Postings.from_tokens(tokens)])
    )
    retrievers["postings, 1 segment"] = lambda q: one.retrieve(q, k=K).ids
    segs_name = f"postings, {args.segments} segments"
    build[segs_name], many = timed(lambda: BM25Index.over(split(tokens, args.segments)))
    retrievers[segs_name] = lambda q: many.retrieve(q, k=K).ids
    deleted = rng.choice(n, size=n // 100, replace=False)
    bounds = np.concatenate([[0], np.cumsum([len(s) for s in many.segments])])
    alive = np.ones(n, bool)
    alive[deleted] = False
    live = [alive[a:z] for a, z in zip(bounds, bounds[1:], strict=False)]
    dele_name = f"postings, {args.segments} seg, 1% deleted"
    build[dele_name], many_del = timed(lambda: BM25Index.over(many.segments, live))
    retrievers[dele_name] = lambda q: many_del.retrieve(q, k=K).ids

    def build_bm25s() -> bm25s.BM25:
        engine = bm25s.BM25(method="lucene")
        engine.index(tokens, show_progress=False)
        return engine

    build["bm25s"], engine = timed(build_bm25s)

    def bm25s_ids(query: str) -> np.ndarray:
        ids = engine.get_tokens_ids(tokenizer(query))
        return top_k(engine.get_scores_from_ids(ids)) if ids else np.zeros(0, np.int64)

    retrievers["bm25s"] = bm25s_ids
    build["rank-bm25"], reference = timed(lambda: LuceneIdfOkapi(tokens))
    retrievers["rank-bm25"] = lambda q: top_k(reference.get_scores(tokenizer(q)))

    tv: Tantivy | None = None
    if not args.no_tantivy:
        build["tantivy (en_stem)"], tv = timed(lambda: Tantivy(texts))
        retrievers["tantivy (en_stem)"] = lambda q: tv.search(q)  # addresses, not pids

    for fn in retrievers.values():  # warm-up: numba compilation, page cache
        for query in queries[:3]:
            fn(query)
    query_ms: dict[str, list[float]] = {name: [] for name in retrievers}
    for name, fn in retrievers.items():
        for _ in range(1 if name == "rank-bm25" else args.repeats):
            for query in queries:
                t = time.perf_counter()
                fn(query)
                query_ms[name].append((time.perf_counter() - t) * 1000)

    print("build s: from tokens (tokenize above); the 1% deleted row: the new view only;")
    print("tantivy: from raw text, its tokenizing included; its query time excludes doc fetch")
    print(f"{'engine':32} {'build s':>8} {'query p50 ms':>13} {'query p95 ms':>13}")
    for name in retrievers:
        p50, p95 = summary(query_ms[name])
        print(f"{name:32} {build[name]:8.2f} {p50:13.2f} {p95:13.2f}")

    def overlap(name: str) -> float:
        agree = []
        for q in queries:
            ours = set(one.retrieve(q, k=K).ids.tolist())
            if name.startswith("tantivy"):
                theirs = set(tv.ids_scores(q))
            else:
                theirs = set(np.asarray(retrievers[name](q)).tolist())
            agree.append(len(ours & theirs) / max(1, len(ours)))
        return statistics.mean(agree)

    print("top-100 overlap with postings, 1 segment:")
    for name in retrievers:
        if name != "postings, 1 segment" and not name.endswith("deleted"):
            print(f"  {name:30} {overlap(name):.4f}")

    live_tokens = [t for t, a in zip(tokens, alive, strict=True) if a]
    fresh = BM25Index.over([Postings.from_tokens(live_tokens)])
    worst = max(
        float(np.max(np.abs(many_del.scores(q)[alive] - fresh.scores(q)), initial=0))
        for q in queries
    )
    print(f"postings, 1% deleted vs a fresh index of the live passages: max |diff| {worst:.2e}")

    # Updates: 100 new passages (copies of random ones), then 100 deletions.
    new = [texts[i] for i in rng.choice(n, size=100, replace=False)]
    gone = rng.choice(n, size=100, replace=False).tolist()
    with tempfile.TemporaryDirectory() as tmp:

        def add_ours() -> BM25Index:  # a new segment, written and memory-mapped, new view
            seg = Postings.from_tokens([tokenizer(t) for t in new])
            seg.save(Path(tmp) / "new")
            return BM25Index.over([*many.segments, Postings.load(Path(tmp) / "new")])

        add_s, added = timed(add_ours)

        def delete_ours() -> BM25Index:  # new live masks, saved as .npy, new view
            mask = np.ones(len(added), bool)
            mask[gone] = False
            np.save(Path(tmp) / "live.npy", mask)
            b = np.concatenate([[0], np.cumsum([len(s) for s in added.segments])])
            return BM25Index.over(added.segments, [mask[a:z] for a, z in zip(b, b[1:])])

        del_s, _ = timed(delete_ours)
    print(
        f"postings: add 100 + save + reload view {add_s * 1000:.1f} ms; "
        f"delete 100 + save mask + new view {del_s * 1000:.1f} ms"
    )

    if tv is not None:
        with tempfile.TemporaryDirectory() as tmp:
            _, disk = timed(lambda: Tantivy(texts, path=tmp))

            def add_tv() -> None:
                disk.add(new, list(range(n, n + 100)))
                disk.commit()

            def delete_tv() -> None:
                disk.delete(gone)
                disk.commit()

            add_tv_s, _ = timed(add_tv)
            del_tv_s, _ = timed(delete_tv)
            print(
                f"tantivy (on disk): add 100 + commit + reload {add_tv_s * 1000:.1f} ms; "
                f"delete 100 + commit + reload {del_tv_s * 1000:.1f} ms; "
                f"{disk.searcher.num_segments} segments, {disk.searcher.num_docs} live docs"
            )
        drift(texts, queries[0], rng)
    return 0


def drift(texts: list[str], query: str, rng: np.random.Generator) -> None:
    """tantivy's scores before and after deleting passages (no merge), and those of a fresh
    index of the survivors: do deleted documents still count in its statistics?"""
    tv = Tantivy(texts)
    before = tv.ids_scores(query, k=len(texts))
    top = sorted(before, key=before.get, reverse=True)[:10]
    matching = [pid for pid in before if pid not in top]
    gone = rng.choice(matching, size=min(500, len(matching) // 2), replace=False).tolist()
    tv.delete(gone)
    tv.commit()
    after = tv.ids_scores(query, k=10)
    alive = np.ones(len(texts), bool)
    alive[gone] = False
    kept = np.flatnonzero(alive).tolist()
    survivors = [texts[i] for i in kept]
    fresh = Tantivy(survivors, pids=kept).ids_scores(query, k=10)
    print(
        f"tantivy drift, query {query!r}, {len(gone)} of {len(before)} matching passages deleted:"
    )
    print(f"  {'pid':>6} {'before':>9} {'after del':>9} {'fresh':>9}")
    for pid in top[:5]:
        print(
            f"  {pid:6d} {before[pid]:9.4f} {after.get(pid, float('nan')):9.4f} "
            f"{fresh.get(pid, float('nan')):9.4f}"
        )
    ours = BM25Index()
    ours.index(texts)
    view = BM25Index.over(ours.segments, [alive])
    fresh_ours = BM25Index()
    fresh_ours.index(survivors)
    a, f = view.scores(query)[top[:5]], fresh_ours.scores(query)[np.cumsum(alive)[top[:5]] - 1]
    print(
        f"  postings after delete vs fresh, same pids: {a.round(4).tolist()} vs "
        f"{f.round(4).tolist()}"
    )


if __name__ == "__main__":
    sys.exit(main())
