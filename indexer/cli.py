"""``newsrank index build|info|enrich-rest``: the indexing command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from newsrank.config import HeadsConfig, IndexConfig


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("index", help="build or inspect an index")
    commands = parser.add_subparsers(dest="index_command", required=True, metavar="ACTION")

    build = commands.add_parser("build", help="index articles (JSONL, CSV/TSV, text folders)")
    build.add_argument("--input", nargs="+", default=[], metavar="PATH", help="files or folders")
    build.add_argument("--demo", action="store_true", help="add the bundled demo news (~6,000)")
    build.add_argument("--index", required=True, metavar="DIR", help="index directory to (re)write")
    build.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="read FIELD (id,title,text,date,source,url,category) from COLUMN; repeatable",
    )
    build.add_argument("--strict", action="store_true", help="any bad record aborts the build")
    build.add_argument("--json", action="store_true", help="print the summary as JSON, no bars")
    build.add_argument(
        "--embedder", default=IndexConfig.embedder, help="sentence-transformers model"
    )
    build.add_argument("--dense-index", choices=["auto", "flat", "hnsw"], default="auto")
    build.add_argument("--passage-words", type=int, default=IndexConfig.passage_words)
    build.add_argument("--passage-overlap", type=int, default=IndexConfig.passage_overlap)
    build.add_argument(
        "--no-enrich", action="store_true", help="skip topic and entity labelling (faster)"
    )
    build.add_argument("--topic-head", default=HeadsConfig.topic, help="classifier head")
    build.add_argument("--tagger-head", default=HeadsConfig.tagger, help="entity tagger head")
    build.add_argument(
        "--lead-words",
        type=int,
        default=IndexConfig.lead_words,
        help="words of text (after the title) labelled",
    )
    build.add_argument("--max-errors-shown", type=int, default=20, help=argparse.SUPPRESS)
    build.set_defaults(func=run_build)

    info = commands.add_parser("info", help="print an index's manifest")
    info.add_argument("--index", required=True, metavar="DIR")
    info.set_defaults(func=run_info)

    rest = commands.add_parser(
        "enrich-rest",
        help="tag the full text past the indexed lead now (the web app does it lazily)",
    )
    rest.add_argument("--index", required=True, metavar="DIR")
    rest.add_argument("--limit", type=int, default=None, help="at most this many articles")
    rest.add_argument("--json", action="store_true", help="print the summary as JSON, no bar")
    rest.set_defaults(func=run_enrich_rest)


def run_build(args: argparse.Namespace) -> int:
    from indexer.build import build_index
    from indexer.ingest import IngestReport, parse_mapping, read_articles
    from newsrank.cli import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE

    if not args.input and not args.demo:
        print("newsrank index build: give --input PATH... and/or --demo", file=sys.stderr)
        return EXIT_USAGE
    try:
        mapping = parse_mapping(args.field)
        config = IndexConfig(
            embedder=args.embedder,
            dense_kind=args.dense_index,
            passage_words=args.passage_words,
            passage_overlap=args.passage_overlap,
            embed_precision=args.precision,
            lead_words=args.lead_words,
        )
    except ValueError as exc:
        print(f"newsrank index build: {exc}", file=sys.stderr)
        return EXIT_USAGE

    report = IngestReport()
    if args.demo:
        from indexer.demo import read_demo_news

        report.extend(read_demo_news())
    if args.input:
        report.extend(read_articles(args.input, mapping))

    for rejected in report.rejected[: args.max_errors_shown]:
        print(f"skipped {rejected}", file=sys.stderr)
    if len(report.rejected) > args.max_errors_shown:
        print(f"... and {len(report.rejected) - args.max_errors_shown} more", file=sys.stderr)
    if args.strict and report.rejected:
        print(
            f"newsrank index build: {len(report.rejected)} bad record(s) and --strict: "
            "nothing was indexed, the old index is unchanged",
            file=sys.stderr,
        )
        return EXIT_ERROR

    classifier = tagger = None
    enrichment: dict = {}
    if not args.no_enrich:
        from heads.loaders import load_heads

        heads = load_heads(
            HeadsConfig(topic=args.topic_head, tagger=args.tagger_head, precision=args.precision),
            roles=("topic", "tagger"),
        )
        for warning in heads.warnings:
            print(f"newsrank index build: {warning}", file=sys.stderr)
        classifier, tagger = heads.topic, heads.tagger
        enrichment = {
            "topic": heads.names.get("topic"),
            "tagger": heads.names.get("tagger"),
        }
    result = build_index(
        report.articles,
        args.index,
        config,
        skipped=len(report.rejected),
        classifier=classifier,
        tagger=tagger,
        enrichment=enrichment,
        progress=not args.json,
    )
    manifest = result.manifest
    summary = {
        "index": str(result.index_dir),
        "articles": manifest.articles,
        "passages": manifest.passages,
        "skipped": manifest.skipped,
        "seconds": round(sum(manifest.timings.values()), 2),
        "passages_per_second": round(result.passages_per_second, 1),
        "timings": manifest.timings,
    }
    _emit(
        summary,
        args.json,
        f"indexed {manifest.articles} articles ({manifest.passages} passages) into "
        f"{result.index_dir} in {summary['seconds']} s; skipped {manifest.skipped} bad record(s)",
    )
    return EXIT_PARTIAL if report.rejected else EXIT_OK


def run_info(args: argparse.Namespace) -> int:
    from indexer.manifest import read_manifest

    print(json.dumps(dataclasses.asdict(read_manifest(args.index)), indent=2))
    return 0


def run_enrich_rest(args: argparse.Namespace) -> int:
    import time

    from tqdm.auto import tqdm

    from heads.tagger import EntityTagger
    from indexer.fulltext import FullTextEntities
    from indexer.manifest import STORE, read_manifest
    from indexer.store import ArticleStore
    from newsrank.cli import EXIT_ERROR

    manifest = read_manifest(args.index)
    name = (manifest.enrichment or {}).get("tagger")
    if not name:
        print(
            f"newsrank index enrich-rest: {args.index} was built without the tagger; "
            "rebuild it without --no-enrich",
            file=sys.stderr,
        )
        return EXIT_ERROR
    store = ArticleStore(Path(args.index) / STORE)
    cache = FullTextEntities(
        args.index,
        store,
        EntityTagger(name, precision=args.precision),
        name,
        lead_words=manifest.lead_words,
        batch=16,
    )
    every = range(store.n_articles)
    todo = sorted(set(every) - cache.done(every))
    todo = todo[: args.limit]
    start = time.perf_counter()
    for first in tqdm(range(0, len(todo), 64), desc="enrich-rest", disable=args.json):
        cache.tag_articles(todo[first : first + 64])
    seconds = time.perf_counter() - start
    summary = {
        "tagged": len(todo),
        "seconds": round(seconds, 1),
        "articles_per_second": round(len(todo) / seconds, 1) if seconds else None,
        "done": cache.count(),
        "articles": store.n_articles,
    }
    _emit(
        summary,
        args.json,
        f"tagged the rest of {summary['tagged']} articles in {summary['seconds']} s; "
        f"{summary['done']} of {summary['articles']} done",
    )
    return 0


def _emit(summary: dict, as_json: bool, line: str) -> None:
    """A command's summary: one JSON object, or one line for people."""
    print(json.dumps(summary) if as_json else line)
