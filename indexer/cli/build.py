"""``newsrank index build``: index articles into a new index (or resume a progressive
build killed part-way), into one index or N shards, optionally embedding and labelling
on Ray."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from indexer.cli.common import InputRefused, emit, enrichers, read_input
from newsrank.config import IndexConfig


def _ray_enrichers(names: dict, precision: str, command: str) -> tuple[object | None, dict]:
    """For a build on Ray: the loader of the heads ``names`` asks for, which each Ray
    actor calls (:class:`indexer.distributed.EnrichHeads`; None: every head is off), and
    the enrichment record, as :func:`indexer.cli.common.enrichers` gives it, without
    loading a head here (a shipped head whose files are missing is off, with the same
    warning)."""
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
    except ValueError as exc:
        print(f"newsrank index build: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = read_input(args, "build")
    except InputRefused as refused:
        return refused.status
    classifier = tagger = None
    enrichment: dict = {}
    on_ray = None  # with --ray-workers: the heads the Ray actors load (indexer.distributed)
    if not args.no_enrich:
        names = {"topic": args.topic_head, "tagger": args.tagger_head}
        if args.ray_workers > 0:
            on_ray, enrichment = _ray_enrichers(names, args.precision, "build")
        else:
            classifier, tagger, enrichment = enrichers(names, args.precision, "build")
    articles = report.articles
    embedder = None
    if args.ray_workers > 0:
        from indexer.distributed import embed_on_ray, enrich_on_ray
        from indexer.passages import passage_texts

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
        emit({"index": args.index, "resumed": resumed}, args.json, "nothing left to index")
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
    emit(
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
    emit(
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
