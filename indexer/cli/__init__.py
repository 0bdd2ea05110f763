"""``newsrank index build|add|delete|merge|info|enrich-rest``: the indexing command line.

``build`` replaces an index (:mod:`indexer.cli.build`); ``add`` (upsert), ``delete`` and
``merge`` change one in place, each as one commit, and ``info`` and ``enrich-rest`` read
or complete one (:mod:`indexer.cli.live`). They share the input rules
(:mod:`indexer.cli.common`): the same formats and field mapping, bad records reported
and skipped (exit status 3), ``--strict`` to refuse the whole input instead.
"""

from __future__ import annotations

import argparse

from indexer.cli.build import run_build
from indexer.cli.live import run_add, run_delete, run_enrich_rest, run_info, run_merge
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
