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
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from newsrank import invocation
from newsrank.errors import NewsrankError
from newsrank.extras import require
from newsrank.precision import PRECISIONS
from newsrank.threads import use_torch_threads

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


#: Subcommand -> the module whose ``register(subparsers)`` adds it.
COMMANDS = {
    "index": "indexer.cli",
    "search": "ranker.cli",
    "serve": "web.cli",
    "train": "training.cli",
    "eval": "evaluation.cli",
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a subcommand, only that one is registered,
    so that serving or searching never imports training or evaluation code."""
    parser = argparse.ArgumentParser(
        prog="newsrank", description="News search with fine-tuned BERT heads."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--torch-threads",
        dest="global_torch_threads",
        type=int,
        default=0,
        metavar="N",
        help="torch intra-op threads (default: torch's choice; 1 helps on a busy CPU)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="inference arithmetic of the embedder and heads (default auto: bfloat16 on a "
        "CPU with AVX512-BF16 or AMX, else float32; int8: ONNX Runtime for the embedder's "
        "passages and the reranker, needs newsrank[onnx]; training is always float32)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = next((a for a in (argv or []) if a in COMMANDS), None)
    chosen = [named] if named else list(COMMANDS)
    for name in chosen:
        importlib.import_module(COMMANDS[name]).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Models load from installed packages; never reach for the hub unless asked to.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    argv = list(sys.argv[1:] if argv is None else argv)
    invocation.record(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING
    handler = logging.StreamHandler()
    # The level goes on the handler too: bm25s sets its own logger to DEBUG when it
    # is imported (later, lazily), which a level on the root logger alone lets through.
    handler.setLevel(level)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", handlers=[handler]
    )
    try:
        require(getattr(args, "requires", ()), command=_command_name(argv))
        use_torch_threads(args.global_torch_threads)
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return status
    except BrokenPipeError:
        return _closed_pipe()
    except NewsrankError as exc:
        print(f"newsrank: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("newsrank: interrupted", file=sys.stderr)
        return 130


def _closed_pipe() -> int:
    """The reader of our output went away (``newsrank ... | head``): a quiet exit with
    the shell's status for SIGPIPE (128 + 13), no traceback. What is still buffered for
    stdout goes to /dev/null, so the interpreter's own flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is no real file (a test's capture): nothing left to flush
    return 141


def _command_name(argv: Sequence[str]) -> str:
    """``"eval retrieval"``: the subcommand words of ``argv`` (for messages)."""
    words = [a for a in argv if not a.startswith("-")]
    named = next((i for i, a in enumerate(words) if a in COMMANDS), None)
    return " ".join(words[named : named + 2]) if named is not None else "this command"


if __name__ == "__main__":
    sys.exit(main())
