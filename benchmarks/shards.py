"""Scatter-gather cost of a sharded index: N shards on Ray against one node, one run.

    python benchmarks/shards.py [--articles 1500] [--shards 3,6] [--repeats 3] [--json]
    python benchmarks/shards.py --ray-build 400     # + embedding: Ray Data, 2 workers

Builds, in a temporary directory, one index and an N-shard index of the same demo
articles (the passages are embedded once: the sharded build reuses the vectors), then
times the retrieve + fuse path (``Searcher.rank``: BM25 and dense, stats round
included; no heads, query vectors embedded beforehand, so only what sharding changes is
timed) on ``benchmarks/queries.txt``:

- **one node**: the unsharded index in this process;
- **N shards, in process** (``local`` backend): the coordinator's fan-out and merge
  without any transport;
- **N shards on Ray**: one actor per shard on a local Ray (started here).

It prints p50/p95 per configuration, the ratio of each p50 to one node's (the
scatter-gather overhead), and queries per second with 1 and 4 client threads for one
node and for the first shard count on Ray. ``--ray-build M`` also embeds the passages
of the first M articles in this process (2 torch threads) and with Ray
Data on 2 workers of one thread each (``indexer.distributed.embed_on_ray``, worker
start and model loads included), for the build speed-up. The machine (``/proc/cpuinfo``
model name, cores) is printed beside the figures; on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a local Ray on loopback

import numpy as np  # noqa: E402

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from newsrank.machine import describe  # noqa: E402


class CachingEmbedder:
    """The real embedder, each passage text embedded once (the second build reuses)."""

    def __init__(self, inner) -> None:
        self.inner, self.dim = inner, inner.dim
        self.precision = getattr(inner, "precision", "fp32")
        self.cache: dict[str, np.ndarray] = {}

    def encode(self, texts, show_progress=False, queries=False):
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            for text, vector in zip(todo, self.inner.encode(todo, queries=queries)):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts]).astype(np.float32)


def timed(searcher, requests, vectors, repeats: int) -> list[float]:
    """Milliseconds per ``rank`` call, after one warm-up pass."""
    for request, vector in zip(requests, vectors):
        searcher.rank(request, vector=vector)
    out = []
    for _ in range(repeats):
        for request, vector in zip(requests, vectors):
            t = time.perf_counter()
            searcher.rank(request, vector=vector)
            out.append((time.perf_counter() - t) * 1000)
    return out


def qps(searcher, requests, vectors, clients: int, seconds: float) -> float:
    """Queries per second with ``clients`` threads searching for ``seconds``."""
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def client(i: int) -> None:
        j = i
        while time.perf_counter() < stop:
            searcher.rank(requests[j % len(requests)], vector=vectors[j % len(requests)])
            done[i] += 1
            j += clients

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1500, help="demo articles indexed")
    parser.add_argument("--shards", default="3,6", help="shard counts, comma-separated")
    parser.add_argument("--ray-build", type=int, default=0, metavar="M", help="see above")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="per QPS measurement")
    parser.add_argument("--queries", default=str(HERE / "queries.txt"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import ray
    import torch

    from indexer.build import build_index
    from indexer.demo import read_demo_news
    from indexer.dense import Embedder
    from indexer.shards import build_sharded
    from newsrank.config import IndexConfig
    from ranker.request import SearchRequest
    from ranker.search import Searcher
    from ranker.sharded import ShardedIndex

    counts = [int(n) for n in args.shards.split(",")]
    articles = read_demo_news().articles[: args.articles]
    build_speed = ray_build(articles[: args.ray_build]) if args.ray_build else None
    torch.set_num_threads(1)
    embedder = CachingEmbedder(Embedder(IndexConfig().embedder, batch_size=32))
    root = Path(tempfile.mkdtemp(prefix="newsrank-shards-"))
    t = time.perf_counter()
    build_index(articles, root / "one", embedder=embedder, progress=False)
    build_one_s = time.perf_counter() - t
    t = time.perf_counter()
    for n in counts:
        build_sharded(articles, root / f"sharded-{n}", n, embedder=embedder, progress=False)
    build_sharded_s = (time.perf_counter() - t) / len(counts)  # no embedding: vectors reused

    queries = [q.strip() for q in Path(args.queries).read_text().splitlines() if q.strip()]
    one = Searcher.open(root / "one", embedder=embedder.inner)
    requests = [one.validate(SearchRequest(q)) for q in queries]
    vectors = list(embedder.inner.encode(queries, queries=True))
    passages = one.manifest.passages

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    configs = {"one node": one}
    for n in counts:
        for backend, label in (("local", "in process"), ("ray", "on Ray")):
            index = ShardedIndex.open(root / f"sharded-{n}", backend=backend)
            configs[f"{n} shards, {label}"] = Searcher(index, embedder=embedder.inner)
    rows = {}
    for name, searcher in configs.items():
        ms = timed(searcher, requests, vectors, args.repeats)
        rows[name] = {"p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "mean_ms": statistics.mean(ms)}
    base = rows["one node"]["p50_ms"]
    for row in rows.values():
        row["p50_ratio"] = row["p50_ms"] / base
    throughput = {}
    for name in ("one node", f"{counts[0]} shards, on Ray"):
        throughput[name] = {
            f"{c} clients": qps(configs[name], requests, vectors, c, args.seconds) for c in (1, 4)
        }
    result = {
        "machine": f"{describe()} (shared with other jobs: noisy)",
        "articles": len(articles),
        "passages": passages,
        "shards": counts,
        "queries": len(queries),
        "timed_searches_per_config": len(queries) * args.repeats,
        "build_one_s": round(build_one_s, 1),
        "build_sharded_s_vectors_reused": round(build_sharded_s, 1),
        "latency": {k: {m: round(v, 2) for m, v in r.items()} for k, r in rows.items()},
        "qps": {k: {m: round(v, 1) for m, v in r.items()} for k, r in throughput.items()},
        "ray_data_build": build_speed,
    }
    for name, searcher in configs.items():
        if name.endswith("on Ray"):
            searcher.index.close()
    ray.shutdown()
    shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"machine: {result['machine']}")
    print(
        f"{len(articles)} demo articles, {passages} passages, {counts} shards; "
        f"{len(queries)} queries x {args.repeats} (retrieve + fuse, vectors given, no heads)"
    )
    print(f"{'configuration':28s} {'p50 ms':>8s} {'p95 ms':>8s} {'p50 / one node':>15s}")
    for name, row in rows.items():
        print(f"{name:28s} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} {row['p50_ratio']:15.2f}")
    for name, row in throughput.items():
        print(f"QPS {name:24s} " + "  ".join(f"{k}: {v:.1f}" for k, v in row.items()))
    if build_speed:
        print("embedding, Ray Data 2 workers vs one process: " + json.dumps(build_speed))
    return 0


def ray_build(articles) -> dict:
    """Seconds to embed the passages of ``articles`` in this process (2 torch threads)
    and with Ray Data on 2 one-thread workers (a fresh local Ray; its start,
    the workers' start and model loads included); the speed-up."""
    import ray
    import torch

    from indexer.dense import Embedder
    from indexer.distributed import embed_on_ray
    from indexer.passages import passage_texts
    from newsrank.config import IndexConfig

    config = IndexConfig()
    texts = list(dict.fromkeys(passage_texts(articles, config)))
    torch.set_num_threads(2)  # one process on both cores, as 2 one-thread workers are
    t = time.perf_counter()
    Embedder(config.embedder, config.embed_batch_size, precision=config.embed_precision).encode(
        texts
    )
    one_s = time.perf_counter() - t
    t = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    embed_on_ray(texts, config, workers=2)
    ray_s = time.perf_counter() - t
    ray.shutdown()
    return {
        "passages": len(texts),
        "one_process_s": round(one_s, 1),
        "ray_data_2_workers_s": round(ray_s, 1),
        "speed_up": round(one_s / ray_s, 2),
    }


if __name__ == "__main__":
    sys.exit(main())
