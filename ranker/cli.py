"""``newsrank search``: query an index from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from newsrank.config import HeadsConfig, SearchConfig


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("search", help="search an index")
    parser.add_argument("query", help="what to search for")
    parser.add_argument("--index", required=True, metavar="DIR")
    parser.add_argument("-k", type=int, default=10, help="results per page (default 10)")
    parser.add_argument("--page", type=int, default=1)
    parser.add_argument(
        "--source", action="append", default=[], help="only this source; repeatable"
    )
    parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="published on/after")
    parser.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="published on/before")
    parser.add_argument(
        "--stages", default="bm25,dense", help="retrievers to fuse: bm25, dense or bm25,dense"
    )
    parser.add_argument("--fusion", choices=["rrf", "linear"], default="rrf")
    parser.add_argument("--topic", action="append", default=[], help="only this topic; repeatable")
    parser.add_argument(
        "--entity",
        action="append",
        default=[],
        metavar="TYPE=TEXT",
        help="only articles naming this entity, e.g. ORG=OPEC; repeatable",
    )
    parser.add_argument(
        "--rerank-depth",
        type=int,
        default=HeadsConfig.rerank_depth,
        help="articles the cross-encoder rescores, at least one page (0: no reranking)",
    )
    parser.add_argument(
        "--sort",
        choices=["relevance", "date"],
        default="relevance",
        help="result order: relevance (default) or date (newest first, undated last)",
    )
    parser.add_argument(
        "--recency",
        type=float,
        metavar="DAYS",
        help="freshness boost: halve a score per DAYS of age before the index's newest "
        "article (off by default)",
    )
    parser.add_argument("--no-read", action="store_true", help="do not look for an answer")
    parser.add_argument(
        "--no-collapse",
        action="store_true",
        help="list every near-duplicate version of a story as its own result",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--shard-backend",
        choices=["ray", "local"],
        default=None,
        help="a sharded index: search its shards in Ray actors (default) or in this process",
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="a sharded index: the Ray cluster to use (default: RAY_ADDRESS, else a local Ray)",
    )
    parser.set_defaults(func=run_search)


def run_search(args: argparse.Namespace) -> int:
    from heads.loaders import load_heads
    from newsrank.cli import EXIT_ERROR, EXIT_USAGE
    from newsrank.errors import QueryError
    from ranker.request import SearchRequest, parse_entity
    from ranker.search import Searcher

    try:
        config = SearchConfig(stages=tuple(args.stages.split(",")), fusion=args.fusion)
        entities = tuple(parse_entity(e) for e in args.entity)
    except ValueError as exc:
        print(f"newsrank search: {exc}", file=sys.stderr)
        return EXIT_USAGE
    heads_config = HeadsConfig(
        rerank_depth=args.rerank_depth,
        reranker=HeadsConfig.reranker if args.rerank_depth > 0 else None,
        reader=None if args.no_read else HeadsConfig.reader,
        precision=args.precision,
    )
    heads = load_heads(heads_config, roles=("reranker", "reader"))
    for warning in heads.warnings:
        print(f"newsrank search: {warning}", file=sys.stderr)
    from indexer.shards import is_sharded
    from newsrank.errors import NewsrankError

    index = None
    if is_sharded(args.index):
        from ranker.sharded import ShardedIndex

        try:
            index = ShardedIndex.open(
                args.index,
                backend=args.shard_backend,
                ef_search=config.hnsw_ef_search,
                address=args.ray_address,
            )
        except NewsrankError as exc:
            print(f"newsrank search: {exc}", file=sys.stderr)
            return EXIT_ERROR
    if index is not None:
        searcher = Searcher(
            index, config=config, reranker=heads.reranker, reader=heads.reader, heads=heads_config
        )
    else:
        searcher = Searcher.open(
            args.index,
            config=config,
            reranker=heads.reranker,
            reader=heads.reader,
            heads=heads_config,
        )
    request = SearchRequest(
        args.query,
        args.k,
        args.page,
        tuple(args.source),
        args.date_from,
        args.date_to,
        tuple(args.topic),
        entities,
        sort=args.sort,
        recency=args.recency,
        collapse=not args.no_collapse,
    )
    try:
        response = searcher.search(request)
    except QueryError as exc:
        print(f"newsrank search: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(response.to_dict(), ensure_ascii=False))
        return 0
    for warning in response.shards.get("warnings", []):
        print(f"newsrank search: {warning}", file=sys.stderr)
    if not response.results:
        print(f"no results for {response.query!r}")
    for answer in response.answers[:1]:
        print(f"answer: {answer.text}  (confidence {answer.score:.2f}, in {answer.doc_id})")
    for n, hit in enumerate(response.results, start=(response.page - 1) * response.k + 1):
        meta = " | ".join(x for x in (hit.source, hit.date) if x)
        topic = f" <{hit.topic.label}>" if hit.topic else ""
        print(f"{n:3d}. {hit.title}  [{meta}]{topic}  score={hit.score:.4f}")
        print(f"     {hit.snippet[:200]}")
        if hit.duplicates:
            print(f"     {len(hit.duplicates)} more versions: {', '.join(hit.duplicates)}")
    print(f"page {response.page} of {response.pages} ({response.total} matching stories)")
    return 0
