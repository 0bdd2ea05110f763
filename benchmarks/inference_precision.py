"""float32 vs bfloat16 inference on this CPU: embedding, reranking and reading speed.

    python benchmarks/inference_precision.py [--passages 384] [--repeats 3] [--json]

Takes a fixed sample of demo-news passages (the same 200-word windows the index
uses, title first), then for each precision (``fp32``, ``bf16``):

- embeds them with the packaged embedder (passages/s, median of ``--repeats``),
- reranks 10 of them for a query with the shipped cross-encoder (ms, median),
- reads 3 of them with the shipped reader (ms, median),

and reports how close the bfloat16 embeddings are to the float32 ones (cosine) and
whether the reranker orders the 10 passages the same way. ``auto`` (the default
setting of newsrank) resolves to what :func:`newsrank.precision.native_bf16` says.
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

from indexer.demo import read_demo_news  # noqa: E402
from indexer.dense import Embedder  # noqa: E402
from indexer.passages import retrieval_text, split_passages  # noqa: E402
from newsrank.config import IndexConfig  # noqa: E402
from newsrank.precision import native_bf16, resolve_precision  # noqa: E402
from newsrank.threads import use_torch_threads  # noqa: E402

QUERY = "oil industry during the coronavirus outbreak"
QUESTION = "who agreed to cut oil production?"


def sample_passages(n: int, seed: int = 0) -> list[str]:
    """``n`` passages of the demo news, drawn with a fixed seed."""
    config = IndexConfig()
    texts = []
    for article in read_demo_news().articles:
        spans = split_passages(article.text, config.passage_words, config.passage_overlap)
        texts += [retrieval_text(article.title, article.text[s:e]) for s, e in spans]
    return random.Random(seed).sample(texts, n)


def median_seconds(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def measure(precision: str, texts: list[str], repeats: int) -> tuple[dict, np.ndarray, list]:
    """Speeds at ``precision``, the embeddings, and the reranker's order of 10 passages."""
    from heads.cross_encoder import CrossEncoder
    from heads.reader import Reader

    embedder = Embedder(IndexConfig().embedder, precision=precision)
    embedder.encode(texts[:32])  # warm-up
    seconds, vectors = median_seconds(lambda: embedder.encode(texts), repeats)
    reranker = CrossEncoder("reranker", precision=precision)
    reader = Reader("reader", precision=precision)
    pairs = [(QUERY, t) for t in texts[:10]]
    reranker.predict(pairs)  # warm-up
    rerank_s, scores = median_seconds(lambda: reranker.predict(pairs), max(repeats, 5))
    read_s, _ = median_seconds(lambda: reader.answer(QUESTION, texts[:3]), max(repeats, 5))
    speeds = {
        "embed_passages_per_s": round(len(texts) / seconds, 1),
        "rerank_10_ms": round(rerank_s * 1000, 1),
        "read_3_ms": round(read_s * 1000, 1),
    }
    return speeds, vectors, np.argsort(-np.asarray(scores)).tolist()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=384)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--torch-threads", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    use_torch_threads(args.torch_threads)

    texts = sample_passages(args.passages)
    report: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "native_bf16": native_bf16(),
        "auto_means": resolve_precision("auto", "cpu"),
        "passages": len(texts),
        "repeats": args.repeats,
        "load_average": os.getloadavg(),
    }
    vectors, orders = {}, {}
    for precision in ("fp32", "bf16"):
        report[precision], vectors[precision], orders[precision] = measure(
            precision, texts, args.repeats
        )
    cosine = (vectors["fp32"] * vectors["bf16"]).sum(axis=1)
    report["embedding_cosine_fp32_bf16"] = {
        "min": round(float(cosine.min()), 6),
        "mean": round(float(cosine.mean()), 6),
    }
    report["rerank_order_same"] = orders["fp32"] == orders["bf16"]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"machine: {report['machine']}; native bf16: {report['native_bf16']} "
        f"(auto = {report['auto_means']})"
    )
    print(f"{'':6} {'embed p/s':>10} {'rerank 10 ms':>13} {'read 3 ms':>10}")
    for precision in ("fp32", "bf16"):
        r = report[precision]
        speeds = f"{r['embed_passages_per_s']:10} {r['rerank_10_ms']:13} {r['read_3_ms']:10}"
        print(f"{precision:6} {speeds}")
    c = report["embedding_cosine_fp32_bf16"]
    print(f"embedding cosine fp32 vs bf16: min {c['min']}, mean {c['mean']}")
    print(f"reranker orders the 10 passages the same way: {report['rerank_order_same']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
