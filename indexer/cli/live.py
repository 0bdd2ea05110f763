"""``newsrank index add|delete|merge|info|enrich-rest``: commands on an existing index.

``add`` (upsert), ``delete`` and ``merge`` change it in place through its one writer,
each as one commit (:mod:`indexer.writer`; a sharded index: one writer per shard,
:class:`indexer.shard_writer.ShardedWriter`); ``info`` reads its commit; ``enrich-rest`` tags
the full text past the indexed lead into the index's entity cache.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from indexer.cli.common import InputRefused, emit, enrichers, read_input


def _writer(args: argparse.Namespace, command: str, with_heads: bool):
    """An open writer for ``args.index``, with the heads that labelled it (a sharded
    index: a :class:`indexer.shard_writer.ShardedWriter`, routing each id to its shard)."""
    from indexer.manifest import read_manifest
    from indexer.shard_writer import ShardedWriter
    from indexer.shards import is_sharded, read_layout
    from indexer.writer import IndexWriter

    sharded = is_sharded(args.index)
    first = read_layout(args.index).paths(args.index)[0] if sharded else args.index
    manifest = read_manifest(first)  # a sharded index: every shard has the same heads
    classifier = tagger = None
    if with_heads and manifest.enrichment:
        names = {k: manifest.enrichment.get(k) for k in ("topic", "tagger")}
        classifier, tagger, _ = enrichers(names, args.precision, command)
    settings = dict(classifier=classifier, tagger=tagger, wait_s=args.wait, progress=not args.json)
    if sharded:
        return ShardedWriter(args.index, **settings)
    return IndexWriter(args.index, **settings).open()


def run_add(args: argparse.Namespace) -> int:
    from newsrank.cli import EXIT_OK, EXIT_PARTIAL

    try:
        report = read_input(args, "add")
    except InputRefused as refused:
        return refused.status
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
    emit(
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
    emit(
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
    emit(
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
    emit(
        summary,
        args.json,
        f"tagged the rest of {summary['tagged']} articles in {summary['seconds']} s; "
        f"{summary['done']} of {summary['articles']} done",
    )
    return 0
