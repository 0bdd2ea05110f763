"""float32 vs bfloat16 vs int8 inference on this CPU: embedding, reranking, reading and
the default search.

    python benchmarks/inference_precision.py [--passages 384] [--repeats 3] [--json]
        [--index var/index] [--search-repeats 2] [--precisions fp32,bf16,int8]

Takes a fixed sample of demo-news passages (the same 200-word windows the index
uses, title first), then for each precision (``fp32``, ``bf16``, ``int8``):

- embeds them with the packaged embedder (passages/s, median of ``--repeats``),
- reranks 10 of them for a query with the shipped cross-encoder (ms, median),
- reads 3 of them with the shipped reader (ms, median; the reader has no int8 path,
  so the int8 row reads at what ``auto`` picks for torch),
- times the default search (fused + rerank + reader) on ``--index`` with those very
  models, through the latency harness that ``benchmarks/search_latency.py`` runs
  (:func:`evaluation.latency.pipelines` and :func:`~evaluation.latency.time_pipeline`:
  every query of ``benchmarks/queries.txt`` once as warm-up, then ``--search-repeats``
  timed passes; p50 over all timed searches),

and reports how close the bfloat16 and int8 embeddings are to the float32 ones
(cosine) and whether the reranker orders the 10 passages the same way. Last, it says
what ``auto`` (the default setting of newsrank) picks for the embedder and the
reranker on this CPU: by default (no role opted in to int8 yet, docs/results.md) and
with ``NEWSRANK_AUTO_INT8=all`` (:func:`newsrank.precision.choose_auto`: int8 only where
its calibration timed it faster; the result is cached under the cache directory).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from evaluation.latency import pipelines, read_queries, time_pipeline  # noqa: E402
from indexer.demo import read_demo_news  # noqa: E402
from indexer.dense import Embedder  # noqa: E402
from indexer.passages import passage_texts  # noqa: E402
from newsrank.config import HeadsConfig, IndexConfig  # noqa: E402
from newsrank.machine import cpu_name  # noqa: E402
from newsrank.precision import has_vnni, int8_available, native_bf16  # noqa: E402
from newsrank.threads import use_torch_threads  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

QUERY = "oil industry during the coronavirus outbreak"
QUESTION = "who agreed to cut oil production?"


def sample_passages(n: int, seed: int = 0) -> list[str]:
    """``n`` passages of the demo news, drawn with a fixed seed."""
    config = IndexConfig()
    texts = passage_texts(read_demo_news().articles, config)
    return random.Random(seed).sample(texts, n)


def median_seconds(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def default_search_p50(
    index, embedder: Embedder, reranker, reader, precision: str, queries: list[str], repeats: int
) -> dict:
    """p50/p95 of the default pipeline (fused + rerank + reader) with these models, as
    ``benchmarks/search_latency.py --heads`` times its ``default`` row."""
    from ranker.search import Searcher

    base = Searcher(index, embedder=embedder)
    heads_config = HeadsConfig(precision=precision)
    engine = pipelines(base, reranker, reader, heads_config)["default"]
    stats, _ = time_pipeline(engine, queries, 10, repeats)
    return {k: stats[k] for k in ("p50_ms", "p95_ms", "median_of_repeat_p50_ms")}


def measure(
    precision: str, texts: list[str], repeats: int, search: dict | None = None
) -> tuple[dict, np.ndarray, list]:
    """Speeds at ``precision``, the embeddings, and the reranker's order of 10 passages.
    ``search``: ``{"index", "queries", "repeats"}`` to time the default search too."""
    from heads.cross_encoder import CrossEncoder
    from heads.reader import Reader

    t = time.perf_counter()
    embedder = Embedder(IndexConfig().embedder, precision=precision)
    embedder.encode(texts[:32])  # warm-up
    seconds, vectors = median_seconds(lambda: embedder.encode(texts), repeats)
    reranker = CrossEncoder("reranker", precision=precision)
    reader = Reader("reader", precision=precision)
    load_s = time.perf_counter() - t - seconds * repeats
    pairs = [(QUERY, t) for t in texts[:10]]
    reranker.predict(pairs)  # warm-up
    rerank_s, scores = median_seconds(lambda: reranker.predict(pairs), max(repeats, 5))
    read_s, _ = median_seconds(lambda: reader.answer(QUESTION, texts[:3]), max(repeats, 5))
    speeds = {
        "arithmetic": {
            "embedder": embedder.precision,
            "reranker": reranker.precision,
            "reader": reader.precision,
        },
        "embed_passages_per_s": round(len(texts) / seconds, 1),
        "rerank_10_ms": round(rerank_s * 1000, 1),
        "read_3_ms": round(read_s * 1000, 1),
        "load_seconds": round(load_s, 1),  # int8: the first run also exports (cached after)
    }
    if search:
        speeds["default_search"] = default_search_p50(
            search["index"],
            embedder,
            reranker,
            reader,
            precision,
            search["queries"],
            search["repeats"],
        )
    return speeds, vectors, np.argsort(-np.asarray(scores)).tolist()


def auto_choices() -> dict:
    """What ``auto`` resolves to for the embedder and the reranker here: by default, and
    with both opted in to int8 (``NEWSRANK_AUTO_INT8=all``: calibrated once, cached)."""
    from heads.cross_encoder import CrossEncoder

    def picks() -> dict:
        return {
            "embedder": Embedder(IndexConfig().embedder, precision="auto").precision,
            "reranker": CrossEncoder("reranker", precision="auto").precision,
        }

    out = {"default": picks()}
    if int8_available():
        old = os.environ.get("NEWSRANK_AUTO_INT8")
        os.environ["NEWSRANK_AUTO_INT8"] = "all"
        try:
            out["opted_in_all"] = picks()
        finally:
            if old is None:
                del os.environ["NEWSRANK_AUTO_INT8"]
            else:
                os.environ["NEWSRANK_AUTO_INT8"] = old
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=384)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--torch-threads", type=int, default=0)
    parser.add_argument(
        "--precisions",
        default="fp32,bf16,int8",
        help="comma-separated (int8 is skipped when onnxruntime is not installed)",
    )
    parser.add_argument(
        "--index", default="var/index", help="index for the default search p50 ('' skips it)"
    )
    parser.add_argument("--queries", default=os.path.join(HERE, "queries.txt"))
    parser.add_argument("--search-repeats", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    threads = use_torch_threads(args.torch_threads)
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    if "int8" in precisions and not int8_available():
        print("int8 skipped: pip install 'newsrank[onnx]'", file=sys.stderr)
        precisions.remove("int8")

    texts = sample_passages(args.passages)
    search = None
    if args.index:
        from indexer.reader import IndexReader

        search = {
            "index": IndexReader.open(args.index),
            "queries": read_queries(args.queries),
            "repeats": args.search_repeats,
        }
    report: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "cpu": cpu_name(),
        "native_bf16": native_bf16(),
        "int8_vnni": has_vnni(),
        "torch_threads": threads,
        "passages": len(texts),
        "repeats": args.repeats,
        "search": {
            "index": args.index or None,
            "queries": len(search["queries"]) if search else 0,
            "timed_passes": args.search_repeats,
        },
        "load_average_start": os.getloadavg(),
    }
    vectors, orders = {}, {}
    for precision in precisions:
        report[precision], vectors[precision], orders[precision] = measure(
            precision, texts, args.repeats, search
        )
    for precision in precisions:
        if precision == "fp32" or "fp32" not in vectors:
            continue
        cosine = (vectors["fp32"] * vectors[precision]).sum(axis=1)
        report[f"embedding_cosine_fp32_{precision}"] = {
            "min": round(float(cosine.min()), 6),
            "mean": round(float(cosine.mean()), 6),
        }
        report[f"rerank_order_same_{precision}"] = orders["fp32"] == orders[precision]
    report["auto_picks"] = auto_choices()
    report["load_average_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"cpu: {report['cpu']} ({report['machine']}); native bf16: {report['native_bf16']}; "
        f"int8 VNNI: {report['int8_vnni']}; torch threads: {threads}"
    )
    print(f"{'':6} {'embed p/s':>10} {'rerank 10 ms':>13} {'read 3 ms':>10} {'search p50 ms':>14}")
    for precision in precisions:
        r = report[precision]
        p50 = r.get("default_search", {}).get("p50_ms", "-")
        speeds = f"{r['embed_passages_per_s']:10} {r['rerank_10_ms']:13} {r['read_3_ms']:10}"
        print(f"{precision:6} {speeds} {p50:>14}   ({r['arithmetic']})")
    for precision in precisions:
        if f"embedding_cosine_fp32_{precision}" in report:
            c = report[f"embedding_cosine_fp32_{precision}"]
            same = report[f"rerank_order_same_{precision}"]
            print(
                f"fp32 vs {precision}: embedding cosine min {c['min']}, mean {c['mean']}; "
                f"reranker orders the 10 passages the same way: {same}"
            )
    print(f"auto picks: {report['auto_picks']}; load average {report['load_average_end']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
