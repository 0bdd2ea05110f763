"""Scale benchmark (issue #11): how build, load, memory and the retrieval stages grow.

    python benchmarks/scale.py --sizes 20000,100000,1000000 [--queries 200] \\
        [--vectors-from INDEX_DIR] [--work runs/scale] [--json]

**Corpus.** Embedding a million passages on a 2-core CPU would take hours, so the
collection is *real text, resampled*: the demo news (5,954 articles, about 20,000
passages) and, above its size, copies of randomly drawn demo articles with their
sentences shuffled under new ids (``benchmarks/live_index.py: base_articles``). The
vocabulary, sentence and article lengths are the news's own; term frequencies grow with
the collection as a bigger archive's would (common words get long posting lists).

**Vectors.** Real embeddings of a sample plus perturbed copies: the base vectors are the
packaged MiniLM's of real demo passages (read from ``--vectors-from``, an index built
with it, e.g. ``var/index``; else 2,000 demo passages are embedded here), and each
passage's vector is the base vector its text hashes to plus Gaussian noise of relative
size ``--noise`` (0.35: cosine about 0.94 to its base), renormalised. So vectors come in
clusters around real news embeddings, not uniform noise. Query vectors are perturbed
copies drawn the same way with another seed. Quality is not measured here (it cannot
be, on resampled text): see docs/results.md for the real collections.

For each size it builds one index with the product's settings (one segment; exact
vectors below ``IndexConfig.ann_threshold`` passages, HNSW above), then measures:

- build seconds (stand-in vectors: no embedding time), size on disk by part;
- **load**: a fresh process opens the index and the searcher (no heads) as the web
  server does, and answers one query: seconds to open (imports included), to the first
  answer (which computes the commit's near-duplicate groups), and peak RSS ("serving
  memory");
- the **BM25 stage** (``index.bm25.retrieve``, depth 100: exact MaxScore pruning, after
  one warm-up pass that caches each query term's bound; beside it, in the same loop,
  every posting scored, ``prune=False``) and the **dense stage**
  (``index.dense.search``) p50 / p95 over ``--queries`` queries of 2-4 title words, and
  the dense stage's recall@10 against exact search over the same vectors;
- **vector structures** on the same vectors (FAISS): exact flat, HNSW (M=32, efSearch
  64 and 128) over float32 vectors and over float16 codes (the product's
  ``hnsw-fp16``), IVF (sqrt(N)*4 lists, nprobe 8 and 32) with float32 and float16 codes,
  and IVF-PQ (48 bytes a vector); build seconds, memory, p50 and recall@10 against exact.

Numbers print as tables (``--json`` for one JSON object) with the machine; medians of
the queries, one build per size. Results and the plot: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import faiss  # noqa: E402
import numpy as np  # noqa: E402
from live_index import base_articles  # noqa: E402

from indexer.build import build_index  # noqa: E402
from indexer.demo import read_demo_news  # noqa: E402
from indexer.passages import retrieval_text, split_passages  # noqa: E402
from newsrank.config import IndexConfig  # noqa: E402
from newsrank.machine import details  # noqa: E402

PASSAGES_PER_ARTICLE = 3.4  # the demo news: 20,275 passages of 5,954 articles


class SampledEmbedder:
    """Stand-in embedder: a real base vector chosen by the text's CRC-32, plus seeded
    Gaussian noise, renormalised (see the module docstring)."""

    precision = "fp32"
    model_name = "stand-in (real MiniLM vectors of a sample, perturbed)"

    def __init__(self, base: np.ndarray, noise: float = 0.35) -> None:
        self.base = np.ascontiguousarray(base, dtype=np.float32)
        self.dim = int(base.shape[1])
        self.noise = noise
        self.passage_model = self.model_name

    def vector(self, key: int) -> np.ndarray:
        rng = np.random.default_rng(key)
        v = self.base[key % len(self.base)] + rng.standard_normal(self.dim).astype(np.float32) * (
            self.noise / np.sqrt(self.dim)
        )
        return v / np.linalg.norm(v)

    def encode(
        self, texts: Sequence[str], show_progress: bool = False, queries: bool = False
    ) -> np.ndarray:
        salt = b"query:" if queries else b""
        rows = [self.vector(zlib.crc32(salt + t.encode("utf-8"))) for t in texts]
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), self.dim)


def base_vectors(vectors_from: str | None, demo: list, n: int = 2000) -> np.ndarray:
    """Real embeddings: every vector of an index built with the packaged MiniLM, or
    ``n`` demo passages embedded now."""
    if vectors_from:
        parts = []
        for f in sorted(Path(vectors_from).glob("seg-*/dense.faiss")):
            index = faiss.read_index(str(f))
            parts.append(index.reconstruct_n(0, index.ntotal))
        if parts:
            return np.concatenate(parts)
    from indexer.dense import Embedder

    rng = random.Random(0)
    texts = []
    for art in rng.sample(demo, n):
        start, end = split_passages(art.text)[0]
        texts.append(retrieval_text(art.title, art.text[start:end]))
    return Embedder(IndexConfig().embedder).encode(texts)


def make_queries(articles: list, n: int, seed: int = 1) -> list[str]:
    """``n`` queries of 2-4 words of random article titles."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        words = [w for w in rng.choice(articles).title.split() if len(w) > 2]
        if len(words) >= 2:
            out.append(" ".join(rng.sample(words, min(len(words), rng.randint(2, 4)))))
    return out


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3) if values else float("nan")


def du_mb(path: Path, pattern: str = "**/*") -> float:
    return round(sum(p.stat().st_size for p in path.glob(pattern) if p.is_file()) / 2**20, 1)


# As the web server opens an index (web.engine: the suggester and the near-duplicate
# groups are built in the background, so they are not waited for), then one query;
# imports included. Then the wait until the groups are ready, and peak RSS.
LOAD_PROBE = """
import json, resource, sys, time
def peak_mb():
    # VmHWM: this process's own peak (ru_maxrss would also count the parent's memory
    # at fork time, which Linux carries across exec: a benchmark that has just built a
    # big index in-process would read its own size here)
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
from newsrank.config import SearchConfig
from ranker.search import Searcher
from ranker.request import SearchRequest
sys.path.insert(0, {bench!r})
from scale import SampledEmbedder
import numpy as np
emb = SampledEmbedder(np.load({base!r}))
s = Searcher.open({index!r}, embedder=emb, config=SearchConfig(suggest_wait=False))
opened = time.perf_counter() - t
rss_open = peak_mb()
warming = s.index.warm_duplicates()
s.search(SearchRequest("oil prices", k=10))
answered = time.perf_counter() - t
warming.join()
print(json.dumps({{"load_s": answered, "open_s": opened,
  "groups_ready_s": time.perf_counter() - t, "groups_s": s.index.duplicate_seconds,
  "rss_open_mb": rss_open,
  "rss_mb": peak_mb()}}))
"""


def measure_load(index_dir: Path, base_file: Path) -> dict:
    """Open the index and searcher in a fresh process: wall seconds and peak RSS."""
    code = LOAD_PROBE.format(
        bench=str(Path(__file__).resolve().parent), base=str(base_file), index=str(index_dir)
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_stages(index_dir: Path, emb: SampledEmbedder, queries: list[str]) -> dict:
    from ranker.search import Searcher

    searcher = Searcher.open(index_dir, embedder=emb)
    index = searcher.index
    vectors = emb.encode(queries, queries=True)
    bm25, exhaustive, dense, found = [], [], [], []
    for q in queries:  # warm the per-term bounds of the pruning (cached per commit)
        index.bm25.retrieve(q, 100)
    for q, v in zip(queries, vectors):
        t = time.perf_counter()
        index.bm25.retrieve(q, 100, prune=False)  # every posting scored: the reference
        exhaustive.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        index.bm25.retrieve(q, 100)
        bm25.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        found.append(index.dense.search(v, 100).ids[:10])
        dense.append((time.perf_counter() - t) * 1000)
    # the dense stage's recall@10 against exact search over the same stored vectors
    x = np.concatenate([p.vectors() for p in index.dense.parts])
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(vectors, 10)
    recall = np.mean([len(set(f.tolist()) & set(t.tolist())) / 10 for f, t in zip(found, truth)])
    return {
        "dense_kind": index.dense.kind,
        "bm25_p50_ms": pct(bm25, 50),
        "bm25_p95_ms": pct(bm25, 95),
        "bm25_exhaustive_p50_ms": pct(exhaustive, 50),
        "bm25_exhaustive_p95_ms": pct(exhaustive, 95),
        "dense_p50_ms": pct(dense, 50),
        "dense_p95_ms": pct(dense, 95),
        "dense_recall@10": round(float(recall), 4),
    }


def vector_options(x: np.ndarray, q: np.ndarray, k: int = 10) -> list[dict]:
    """Each FAISS structure on ``x``: build s, memory MB, p50 ms, recall@k vs exact."""
    n, d = x.shape
    exact = faiss.IndexFlatIP(d)
    exact.add(x)
    _, truth = exact.search(q, k)
    nlist = max(16, int(4 * np.sqrt(n)))
    # k-means on at most 20,000 vectors (PQ's 48 sub-quantisers train slowly on more)
    train = x[np.random.default_rng(0).choice(n, min(n, 40 * nlist, 20_000), replace=False)]
    rows = []

    def run(name: str, index: Any, memory_mb: float, setups: list[tuple[str, Any]]) -> None:
        for label, setup in setups:
            setup(index)
            times, found = [], []
            for row in q:
                t = time.perf_counter()
                _, ids = index.search(row[None, :], k)
                times.append((time.perf_counter() - t) * 1000)
                found.append(ids[0])
            recall = float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth)]))
            rows.append(
                {
                    "structure": f"{name} {label}".strip(),
                    "build_s": round(built, 1),
                    "memory_mb": round(memory_mb, 1),
                    "p50_ms": pct(times, 50),
                    "recall@10": round(recall, 4),
                }
            )

    t = time.perf_counter()
    flat = faiss.IndexFlatIP(d)
    flat.add(x)
    built = time.perf_counter() - t
    run("flat (exact)", flat, x.nbytes / 2**20, [("", lambda i: None)])

    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 40
    hnsw.add(x)
    built = time.perf_counter() - t
    links = n * 32 * 2 * 4 / 2**20  # about 2M neighbour ids of 4 bytes per vector
    setups = [(f"ef={ef}", lambda i, ef=ef: setattr(i.hnsw, "efSearch", ef)) for ef in (64, 128)]
    run("HNSW32", hnsw, x.nbytes / 2**20 + links, setups)

    t = time.perf_counter()  # the product's dense_kind="hnsw-fp16"
    half = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_fp16, 32, faiss.METRIC_INNER_PRODUCT)
    half.hnsw.efConstruction = 40
    half.train(x[:1])
    half.add(x)
    built = time.perf_counter() - t
    run("HNSW32 fp16", half, x.nbytes / 2 / 2**20 + links, setups)

    for label, factory, code_bytes in (
        ("IVF-flat", f"IVF{nlist},Flat", d * 4),
        ("IVF-fp16", f"IVF{nlist},SQfp16", d * 2),
        ("IVF-PQ48", f"IVF{nlist},PQ48", 48),
    ):
        t = time.perf_counter()
        ivf = faiss.index_factory(d, factory, faiss.METRIC_INNER_PRODUCT)
        ivf.train(train)
        ivf.add(x)
        built = time.perf_counter() - t
        probes = [(f"nprobe={p}", lambda i, p=p: setattr(i, "nprobe", p)) for p in (8, 32)]
        run(label, ivf, n * (code_bytes + 8) / 2**20, probes)
    return rows


def bench_size(
    size: int, demo: list, base: np.ndarray, base_file: Path, args: argparse.Namespace
) -> dict:
    n_articles = max(1, int(size / PASSAGES_PER_ARTICLE))
    articles = base_articles(demo, n_articles, seed=size)
    emb = SampledEmbedder(base, args.noise)
    index_dir = Path(args.work) / f"index-{size}"
    record = Path(args.work) / f"index-{size}.build.json"  # what --reuse reads back
    if args.reuse and record.exists() and index_dir.exists():
        built = json.loads(record.read_text())
    else:
        shutil.rmtree(index_dir, ignore_errors=True)
        t = time.perf_counter()
        # the product's settings: exact vectors below IndexConfig.ann_threshold, HNSW above
        result = build_index(articles, index_dir, IndexConfig(), embedder=emb, progress=False)
        built = {
            "passages": result.manifest.passages,
            "articles": result.manifest.articles,
            "build_s": round(time.perf_counter() - t, 1),
        }
        record.write_text(json.dumps(built))
    queries = make_queries(articles, args.queries)
    row: dict[str, Any] = {
        **built,
        "disk_mb": {
            "total": du_mb(index_dir),
            "store": du_mb(index_dir, "seg-*/store.sqlite"),
            "bm25": du_mb(index_dir, "seg-*/lexical/*"),
            "vectors": du_mb(index_dir, "seg-*/dense.faiss"),
        },
    }
    if args.build_only:
        return row
    row["load"] = measure_load(index_dir, base_file)
    row["stages"] = time_stages(index_dir, emb, queries)
    if args.vector_options:
        from indexer.reader import IndexReader

        x = np.concatenate([p.vectors() for p in IndexReader.open(index_dir).dense.parts])
        q = emb.encode(queries, queries=True)
        row["vectors"] = vector_options(x, q)
    if not (args.keep or args.reuse):
        shutil.rmtree(index_dir, ignore_errors=True)
        record.unlink(missing_ok=True)
    return row


def print_report(report: dict) -> None:
    m = report["machine"]
    print(f"machine: {m['model_name']}, {m['cpus']} CPUs; noise {report['noise']}")
    print(
        "| passages | build s | disk MB | open s | first answer s | groups ready s |"
        " serving RSS MB (open / peak) | bm25 p50 / p95 ms | dense p50 / p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in report["sizes"]:
        s, ld = r["stages"], r["load"]
        opened = ld.get("open_s", float("nan"))
        print(
            f"| {r['passages']:,} | {r['build_s']} | {r['disk_mb']['total']} | {opened:.2f} |"
            f" {ld['load_s']:.2f} | {ld.get('groups_ready_s', float('nan')):.2f} |"
            f" {ld.get('rss_open_mb', float('nan')):.0f} / {ld['rss_mb']:.0f} |"
            f" {s['bm25_p50_ms']} / {s['bm25_p95_ms']} |"
            f" {s['dense_p50_ms']} / {s['dense_p95_ms']} ({s.get('dense_kind')},"
            f" recall@10 {s.get('dense_recall@10')}) |"
        )
    for r in report["sizes"]:
        if "vectors" not in r:
            continue
        print(f"\nvector structures at {r['passages']:,} passages (k=10, one query at a time):")
        print("| structure | build s | memory MB | p50 ms | recall@10 |")
        print("|---|---|---|---|---|")
        for v in r["vectors"]:
            print(
                f"| {v['structure']} | {v['build_s']} | {v['memory_mb']} | {v['p50_ms']} |"
                f" {v['recall@10']} |"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000", help="passages, comma-separated")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.35)
    parser.add_argument("--vectors-from", default=None, help="an index of the real embedder")
    parser.add_argument("--work", default="runs/scale", help="where the indexes are built")
    parser.add_argument("--no-vector-options", dest="vector_options", action="store_false")
    parser.add_argument("--keep", action="store_true", help="keep the built indexes")
    parser.add_argument(
        "--reuse", action="store_true", help="measure an index kept by an earlier run (and keep it)"
    )
    parser.add_argument("--build-only", action="store_true", help="build (and keep); measure later")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.build_only:
        args.keep = True
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    Path(args.work).mkdir(parents=True, exist_ok=True)
    demo = list(read_demo_news().articles)
    base_file = Path(args.work) / "base-vectors.npy"
    if args.reuse and base_file.exists():  # the vectors the kept indexes were built from
        base = np.load(base_file)
    else:
        base = base_vectors(args.vectors_from, demo)
        np.save(base_file, base)
    report: dict[str, Any] = {
        "machine": details(),
        "noise": args.noise,
        "base_vectors": int(len(base)),
        "sizes": [],
    }
    for size in sizes:
        t = time.perf_counter()
        report["sizes"].append(bench_size(size, demo, base, base_file, args))
        print(f"size {size}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    report["peak_rss_mb_benchmark"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
