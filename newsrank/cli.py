"""The ``newsrank`` command: one entry point, one subcommand per job.

    newsrank index build --input news.jsonl --index var/index
    newsrank index build --demo --index var/index
    newsrank search --index var/index "oil prices" --json
    newsrank serve --index var/index --port 5000
    newsrank train {classifier,reranker,tagger,reader} ...
    newsrank eval {reader,tagger,classifier,...} ...

Each subcommand lives beside the code it drives and registers itself here through a
``register(subparsers)`` function; heavy libraries are imported only when a
subcommand runs. Only this layer prints and chooses exit codes:

- 0: success
- 1: an error the message explains (missing index, unreadable file, bad model...)
- 2: bad command-line usage
- 3: finished, but some input records were skipped (the summary says how many)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from newsrank.errors import NewsrankError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    from evaluation import cli as eval_cli
    from indexer import cli as index_cli
    from ranker import cli as search_cli
    from training import cli as train_cli
    from web import cli as web_cli

    parser = argparse.ArgumentParser(
        prog="newsrank", description="News search with fine-tuned BERT heads."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    index_cli.register(sub)
    search_cli.register(sub)
    web_cli.register(sub)
    train_cli.register(sub)
    eval_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Models load from installed packages; never reach for the hub unless asked to.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except NewsrankError as exc:
        print(f"newsrank: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("newsrank: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
