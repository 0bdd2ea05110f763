"""``newsrank index build|add|delete|merge|info|enrich-rest``: the indexing command line.

``build`` replaces an index; ``add`` (upsert), ``delete`` and ``merge`` change one in
place, each as one commit (:mod:`indexer.writer`). They share the input rules: the
same formats and field mapping, bad records reported and skipped (exit status 3),
``--strict`` to refuse the whole input instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from newsrank.config import DENSE_KINDS, HeadsConfig, IndexConfig

_WAIT_HELP = "wait this long for another writer to finish (default 30 s)"


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
    build.add_argument(
        "--dense-index",
        choices=["auto", *DENSE_KINDS],
        default="auto",
        help="auto: exact below 200,000 passages a segment, HNSW from there; hnsw-fp16: "
        "HNSW over float16 codes (half the vector memory)",
    )
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
    build.add_argument(
        "--segment-articles",
        type=int,
        default=None,
        metavar="N",
        help="write N articles per segment (default: one segment)",
    )
    build.add_argument(
        "--commit-every",
        action="store_true",
        help="commit each segment as it is written: searchable before the build ends; "
        "a build killed part-way resumes with the ids it has (needs --segment-articles)",
    )
    build.add_argument(
        "--shards",
        type=int,
        default=1,
        metavar="N",
        help="split the articles by a hash of their id into N shard indexes under --index "
        "(searched by Ray: pip install 'newsrank[cluster]'); default 1: one index",
    )
    build.add_argument(
        "--ray-workers",
        type=int,
        default=0,
        metavar="N",
        help="embed the passages, then label the articles (topic, entities), with Ray "
        "Data on N workers, each loading its models once (pip install "
        "'newsrank[cluster]' and pyarrow); default 0: in this process",
    )
    build.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="with --ray-workers: the Ray cluster (default: RAY_ADDRESS, else a local Ray)",
    )
    build.add_argument("--max-errors-shown", type=int, default=20, help=argparse.SUPPRESS)
    build.set_defaults(func=run_build)

    add = commands.add_parser("add", help="add or replace articles (upsert by id)")
    add.add_argument("--index", required=True, metavar="DIR")
    add.add_argument("--input", nargs="+", required=True, metavar="PATH", help="files or folders")
    add.add_argument("--field", action="append", default=[], metavar="FIELD=COLUMN")
    add.add_argument("--strict", action="store_true", help="any bad record aborts the add")
    add.add_argument("--json", action="store_true", help="print the summary as JSON, no bars")
    add.add_argument("--wait", type=float, default=30.0, metavar="S", help=_WAIT_HELP)
    add.add_argument("--no-merge", action="store_true", help="skip the merge policy afterwards")
    add.add_argument("--max-errors-shown", type=int, default=20, help=argparse.SUPPRESS)
    add.set_defaults(func=run_add)

    delete = commands.add_parser("delete", help="delete articles by id")
    delete.add_argument("--index", required=True, metavar="DIR")
    which = delete.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", nargs="+", dest="ids", metavar="ID")
    which.add_argument("--ids-file", metavar="FILE", help="one id per line")
    delete.add_argument("--json", action="store_true", help="print the summary as JSON")
    delete.add_argument("--wait", type=float, default=30.0, metavar="S", help=_WAIT_HELP)
    delete.add_argument("--no-merge", action="store_true", help="skip the merge policy")
    delete.set_defaults(func=run_delete)

    merge = commands.add_parser("merge", help="merge every segment into one now")
    merge.add_argument("--index", required=True, metavar="DIR")
    merge.add_argument("--json", action="store_true", help="print the summary as JSON")
    merge.add_argument("--wait", type=float, default=30.0, metavar="S", help=_WAIT_HELP)
    merge.set_defaults(func=run_merge)

    info = commands.add_parser("info", help="print an index's commit: segments, live, deleted")
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


def _read_input(args: argparse.Namespace, command: str):
    """The articles of ``--input`` (and ``--demo``), bad records reported on stderr;
    None when ``--strict`` refuses the input."""
    from indexer.ingest import IngestReport, parse_mapping, read_articles

    mapping = parse_mapping(args.field)
    report = IngestReport()
    if getattr(args, "demo", False):
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
            f"newsrank index {command}: {len(report.rejected)} bad record(s) and --strict: "
            "nothing was indexed, the index is unchanged",
            file=sys.stderr,
        )
        return None
    return report


def _enrichers(names: dict, precision: str, command: str) -> tuple[object, object, dict]:
    """The topic classifier and tagger ``names`` asks for, and the enrichment record."""
    from heads.loaders import load_heads

    heads = load_heads(
        HeadsConfig(topic=names.get("topic"), tagger=names.get("tagger"), precision=precision),
        roles=("topic", "tagger"),
    )
    for warning in heads.warnings:
        print(f"newsrank index {command}: {warning}", file=sys.stderr)
    enrichment = {"topic": heads.names.get("topic"), "tagger": heads.names.get("tagger")}
    return heads.topic, heads.tagger, enrichment


def _ray_enrichers(names: dict, precision: str, command: str) -> tuple[object | None, dict]:
    """For a build on Ray: the loader of the heads ``names`` asks for, which each Ray
    actor calls (:class:`indexer.distributed.EnrichHeads`; None: every head is off), and
    the enrichment record, as :func:`_enrichers` gives it, without loading a head here
    (a shipped head whose files are missing is off, with the same warning)."""
    from heads.registry import SHIPPED, is_available, shipped_dir
    from indexer.distributed import EnrichHeads

    on: dict = {}
    for role in ("topic", "tagger"):
        name = names.get(role)
        if name is not None and name in SHIPPED and not is_available(name):
            print(
                f"newsrank index {command}: {role} head {name!r} is not in {shipped_dir()} "
                f"(reinstall newsrank, or retrain it with `make models`); {role} is off",
                file=sys.stderr,
            )
            name = None
        on[role] = name
    enrichment = {"topic": on["topic"], "tagger": on["tagger"]}
    if on["topic"] is None and on["tagger"] is None:
        return None, enrichment
    return EnrichHeads(on["topic"], on["tagger"], precision), enrichment


def run_build(args: argparse.Namespace) -> int:
    from indexer.build import build_index
    from newsrank.cli import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE

    if not args.input and not args.demo:
        print("newsrank index build: give --input PATH... and/or --demo", file=sys.stderr)
        return EXIT_USAGE
    if args.commit_every and not args.segment_articles:
        print("newsrank index build: --commit-every needs --segment-articles N", file=sys.stderr)
        return EXIT_USAGE
    if args.shards < 1 or (args.shards > 1 and args.commit_every):
        why = "give 1 or more" if args.shards < 1 else "--commit-every is for one index"
        print(f"newsrank index build: --shards {args.shards}: {why}", file=sys.stderr)
        return EXIT_USAGE
    from indexer.shards import check_layout
    from newsrank.errors import NewsrankError

    try:
        check_layout(Path(args.index), args.shards)
    except NewsrankError as exc:
        print(f"newsrank index build: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = IndexConfig(
            embedder=args.embedder,
            dense_kind=args.dense_index,
            passage_words=args.passage_words,
            passage_overlap=args.passage_overlap,
            embed_precision=args.precision,
            lead_words=args.lead_words,
        )
        report = _read_input(args, "build")
    except ValueError as exc:
        print(f"newsrank index build: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if report is None:
        return EXIT_ERROR
    classifier = tagger = None
    enrichment: dict = {}
    on_ray = None  # with --ray-workers: the heads the Ray actors load (indexer.distributed)
    if not args.no_enrich:
        names = {"topic": args.topic_head, "tagger": args.tagger_head}
        if args.ray_workers > 0:
            on_ray, enrichment = _ray_enrichers(names, args.precision, "build")
        else:
            classifier, tagger, enrichment = _enrichers(names, args.precision, "build")
    articles = report.articles
    embedder = None
    if args.ray_workers > 0:
        from indexer.distributed import embed_on_ray, enrich_on_ray, passage_texts

        try:
            embedder = embed_on_ray(
                passage_texts(articles, config),
                config,
                workers=args.ray_workers,
                address=args.ray_address,
            )
            if on_ray is not None:  # then the labels, on a pool of their own
                labels = enrich_on_ray(
                    articles,
                    on_ray,
                    lead_words=config.lead_words,
                    workers=args.ray_workers,
                    address=args.ray_address,
                )
                classifier, tagger = labels.classifier, labels.tagger
        except NewsrankError as exc:
            print(f"newsrank index build: {exc}", file=sys.stderr)
            return EXIT_ERROR
    if args.shards > 1:
        return _build_sharded(
            args, articles, config, report, classifier, tagger, enrichment, embedder
        )
    resumed = 0
    if args.commit_every:
        articles, resumed = _resume(Path(args.index), articles)
    if resumed and not articles:
        _emit({"index": args.index, "resumed": resumed}, args.json, "nothing left to index")
        return EXIT_OK
    result = build_index(
        articles,
        args.index,
        config,
        skipped=len(report.rejected),
        embedder=embedder,
        classifier=classifier,
        tagger=tagger,
        enrichment=enrichment,
        progress=not args.json,
        segment_articles=args.segment_articles,
        commit_every=args.commit_every,
        resume=resumed > 0,
        total=len(report.articles),
    )
    manifest = result.manifest
    summary = {
        "index": str(result.index_dir),
        "articles": manifest.articles,
        "passages": manifest.passages,
        "segments": len(manifest.segments),
        "skipped": manifest.skipped,
        "seconds": result.seconds,
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


def _build_sharded(args, articles, config, report, classifier, tagger, enrichment, embedder) -> int:
    from indexer.shards import build_sharded
    from newsrank.cli import EXIT_OK, EXIT_PARTIAL

    result = build_sharded(
        articles,
        args.index,
        args.shards,
        config,
        skipped=len(report.rejected),
        classifier=classifier,
        tagger=tagger,
        enrichment=enrichment,
        progress=not args.json,
        segment_articles=args.segment_articles,
        embedder=embedder,
    )
    summary = {
        "index": str(result.index_dir),
        "shards": result.layout.shards,
        "articles": result.articles,
        "passages": result.passages,
        "shard_articles": [m.articles for m in result.manifests],
        "segments": sum(len(m.segments) for m in result.manifests),
        "skipped": result.skipped,
        "seconds": result.seconds,
        "passages_per_second": round(result.passages_per_second, 1),
    }
    _emit(
        summary,
        args.json,
        f"indexed {result.articles} articles ({result.passages} passages) into "
        f"{result.layout.shards} shards of {result.index_dir} "
        f"({', '.join(str(n) for n in summary['shard_articles'])} articles) in "
        f"{result.seconds} s; skipped {result.skipped} bad record(s)",
    )
    return EXIT_PARTIAL if report.rejected else EXIT_OK


def _resume(index_dir: Path, articles: list) -> tuple[list, int]:
    """A progressive build killed part-way continues: the articles its last commit does
    not hold yet, and how many it holds (0: start afresh)."""
    from indexer.manifest import read_manifest
    from indexer.reader import IndexReader
    from newsrank.errors import IndexNotFoundError

    try:
        manifest = read_manifest(index_dir)
    except IndexNotFoundError:
        return articles, 0
    if not manifest.progress:
        return articles, 0  # a finished index: this is a rebuild
    held = IndexReader.open(index_dir).store.held([a.id for a in articles])
    return [a for a in articles if a.id not in held], len(held)


def _writer(args: argparse.Namespace, command: str, with_heads: bool):
    """An open writer for ``args.index``, with the heads that labelled it (a sharded
    index: a :class:`indexer.shards.ShardedWriter`, routing each id to its shard)."""
    from indexer.manifest import read_manifest
    from indexer.shards import ShardedWriter, is_sharded, read_layout
    from indexer.writer import IndexWriter

    if is_sharded(args.index):
        layout = read_layout(args.index)
        manifest = read_manifest(layout.paths(args.index)[0])
    else:
        manifest = read_manifest(args.index)
    classifier = tagger = None
    if with_heads and manifest.enrichment:
        names = {k: manifest.enrichment.get(k) for k in ("topic", "tagger")}
        classifier, tagger, _ = _enrichers(names, args.precision, command)
    if is_sharded(args.index):
        return ShardedWriter(
            args.index,
            classifier=classifier,
            tagger=tagger,
            wait_s=args.wait,
            progress=not args.json,
        )
    return IndexWriter(
        args.index,
        classifier=classifier,
        tagger=tagger,
        wait_s=args.wait,
        progress=not args.json,
    ).open()


def run_add(args: argparse.Namespace) -> int:
    from newsrank.cli import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE

    try:
        report = _read_input(args, "add")
    except ValueError as exc:
        print(f"newsrank index add: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if report is None:
        return EXIT_ERROR
    writer = _writer(args, "add", with_heads=True)
    try:
        result = writer.add(report.articles)
        manifest = writer.commit(skipped=len(report.rejected))
        merged = None if args.no_merge else writer.maybe_merge()
        manifest = writer.manifest or manifest
    finally:
        writer.close()
    summary = {
        "index": str(writer.directory),
        "added": len(result.added),
        "replaced": len(result.replaced),
        "skipped": len(report.rejected),
        "segment": result.segment,
        "merged": merged.merged if merged is not None else [],
        "generation": manifest.generation,
        "articles": manifest.articles,
        "seconds": result.seconds,
    }
    _emit(
        summary,
        args.json,
        f"added {len(result.added)} and replaced {len(result.replaced)} articles in "
        f"{result.seconds} s (commit {manifest.generation}: {manifest.articles} articles, "
        f"{len(manifest.segments)} segments); skipped {len(report.rejected)} bad record(s)",
    )
    return EXIT_PARTIAL if report.rejected else EXIT_OK


def run_delete(args: argparse.Namespace) -> int:
    from newsrank.cli import EXIT_OK, EXIT_USAGE

    ids = list(args.ids or [])
    if args.ids_file:
        try:
            text = Path(args.ids_file).read_text(encoding="utf-8")
        except OSError as exc:
            print(f"newsrank index delete: cannot read {args.ids_file}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        ids = [line.strip() for line in text.splitlines() if line.strip()]
    writer = _writer(args, "delete", with_heads=False)
    try:
        result = writer.delete(ids)
        manifest = writer.commit()
        if not args.no_merge:
            writer.maybe_merge()
            manifest = writer.manifest or manifest
    finally:
        writer.close()
    for unknown in result.unknown[:20]:
        print(f"not in the index: {unknown}", file=sys.stderr)
    summary = {
        "deleted": len(result.deleted),
        "unknown": result.unknown,
        "generation": manifest.generation,
        "articles": manifest.articles,
    }
    _emit(
        summary,
        args.json,
        f"deleted {len(result.deleted)} articles; {len(result.unknown)} id(s) not in the index "
        f"(commit {manifest.generation}: {manifest.articles} articles)",
    )
    return EXIT_OK


def run_merge(args: argparse.Namespace) -> int:
    writer = _writer(args, "merge", with_heads=False)
    try:
        before = len(writer.segments)
        result = writer.merge(force=True)
        manifest = writer.manifest
    finally:
        writer.close()
    assert manifest is not None
    summary = {
        "segments_before": before,
        "segments": len(manifest.segments),
        "dropped_deleted": result.dropped_articles,
        "seconds": result.seconds,
    }
    _emit(
        summary,
        args.json,
        f"merged {before} segment(s) into {len(manifest.segments)} in {result.seconds} s, "
        f"dropping {result.dropped_articles} deleted article(s)",
    )
    return 0


def run_info(args: argparse.Namespace) -> int:
    from indexer.manifest import read_manifest
    from indexer.shards import is_sharded, read_layout

    if is_sharded(args.index):  # the layout, then each shard's commit in brief
        layout = read_layout(args.index)
        info = dataclasses.asdict(layout)
        info["shard_commits"] = []
        for name, path in zip(layout.dirs, layout.paths(args.index)):
            m = read_manifest(path)
            info["shard_commits"].append(
                {
                    "shard": name,
                    "generation": m.generation,
                    "articles": m.articles,
                    "passages": m.passages,
                    "deleted": m.deleted,
                    "segments": [s.name for s in m.segments],
                }
            )
        info["articles"] = sum(c["articles"] for c in info["shard_commits"])
        print(json.dumps(info, indent=2))
        return 0
    manifest = read_manifest(args.index)
    info = dataclasses.asdict(manifest)
    info["deleted"] = manifest.deleted
    info["segments"] = [
        {**dataclasses.asdict(s), "live_articles": s.live_articles} for s in manifest.segments
    ]
    print(json.dumps(info, indent=2))
    return 0


def run_enrich_rest(args: argparse.Namespace) -> int:
    """Tag the rest of every article's text now. A sharded index: each shard's articles
    in turn, the tagger loaded once, into the one cache of the index directory (the one
    ``newsrank serve`` reads for it: the cache is keyed by text digest, not by shard)."""
    import time

    import numpy as np
    from tqdm.auto import tqdm

    from heads.tagger import EntityTagger
    from indexer.fulltext import FullTextEntities
    from indexer.reader import IndexReader
    from indexer.shards import is_sharded, read_layout
    from newsrank.cli import EXIT_ERROR

    sharded = is_sharded(args.index)
    dirs = read_layout(args.index).paths(args.index) if sharded else [Path(args.index)]
    indexes = [IndexReader.open(d) for d in dirs]
    names = {(index.manifest.enrichment or {}).get("tagger") for index in indexes}
    name = names.pop() if len(names) == 1 else None
    if not name:
        why = (
            "its shards were tagged by different taggers "
            f"({', '.join(sorted(str(n) for n in names))})"
            if len(names) > 1
            else "was built without the tagger"
        )
        print(
            f"newsrank index enrich-rest: {args.index} {why}; rebuild it without --no-enrich",
            file=sys.stderr,
        )
        return EXIT_ERROR
    tagger = EntityTagger(name, precision=args.precision)  # once, for every shard
    left = args.limit
    tagged = articles = 0
    start = time.perf_counter()
    for index in indexes:
        store = index.store
        cache = FullTextEntities(
            args.index, tagger, name, lead_words=index.manifest.lead_words, batch=16
        )
        every = [int(n) for n in np.flatnonzero(store.live)]
        digests = store.digests(every)
        done = cache.done(digests.values())
        todo = [n for n in every if digests[n] not in done][:left]
        if left is not None:
            left -= len(todo)
        desc = f"enrich-rest {index.directory.name}" if sharded else "enrich-rest"
        for first in tqdm(range(0, len(todo), 64), desc=desc, disable=args.json):
            cache.tag_articles(store, todo[first : first + 64])
        tagged += len(todo)
        articles += store.n_live
    seconds = time.perf_counter() - start
    summary = {
        "tagged": tagged,
        "seconds": round(seconds, 1),
        "articles_per_second": round(tagged / seconds, 1) if seconds else None,
        "done": cache.count(),
        "articles": articles,
    }
    if sharded:
        summary["shards"] = len(indexes)
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
