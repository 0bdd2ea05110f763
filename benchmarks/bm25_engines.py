"""bm25s against rank-bm25 on the passages of an index: build time, query latency, agreement.

    python benchmarks/bm25_engines.py --index var/index [--repeats 3]

Both engines get the same tokens (newsrank's tokenizer) and the same BM25 variant
(Lucene idf; rank-bm25's Okapi class with its idf swapped in, as in the tests), so
the ranking agreement printed at the end should be 1.0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from indexer.bm25_reference import LuceneIdfOkapi
from indexer.lexical import BM25Index
from indexer.manifest import STORE
from indexer.passages import retrieval_text
from indexer.store import ArticleStore

HERE = Path(__file__).parent


def passage_texts(index_dir: Path) -> list[str]:
    store = ArticleStore(index_dir / STORE)
    articles = store.articles(range(store.n_articles))
    texts = []
    for pid in range(store.n_passages):
        article = articles[int(store.passage_article[pid])]
        start, end = store.passage_span(pid)
        texts.append(retrieval_text(article.title, article.text[start:end]))
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="var/index")
    parser.add_argument("--queries", default=str(HERE / "queries.txt"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    texts = passage_texts(Path(args.index))
    queries = [q.strip() for q in Path(args.queries).read_text().splitlines() if q.strip()]
    ours = BM25Index()

    build = {"bm25s": [], "rank-bm25": []}
    for _ in range(args.repeats):
        t = time.perf_counter()
        ours.index(texts)
        build["bm25s"].append(time.perf_counter() - t)
        t = time.perf_counter()
        tokens = [ours.tokenizer(text) for text in texts]
        reference = LuceneIdfOkapi(tokens)
        build["rank-bm25"].append(time.perf_counter() - t)

    query_ms = {"bm25s": [], "rank-bm25": []}
    agree = []
    for _ in range(args.repeats):
        for query in queries:
            t = time.perf_counter()
            hits = ours.retrieve(query, k=100)
            query_ms["bm25s"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            scores = reference.get_scores(ours.tokenizer(query))
            top = np.argsort(-scores, kind="stable")[: len(hits.ids)]
            query_ms["rank-bm25"].append((time.perf_counter() - t) * 1000)
            agree.append(len(set(top.tolist()) & set(hits.ids.tolist())) / max(1, len(hits.ids)))

    print(f"{len(texts)} passages, {len(queries)} queries, {args.repeats} repeats (medians)")
    print(f"{'engine':10} {'build s':>8} {'query p50 ms':>13} {'query p95 ms':>13}")
    for engine in build:
        ms = sorted(query_ms[engine])
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        print(
            f"{engine:10} {statistics.median(build[engine]):8.2f} "
            f"{statistics.median(ms):13.2f} {p95:13.2f}"
        )
    print(f"top-100 overlap between the engines: {statistics.mean(agree):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
