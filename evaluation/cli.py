"""``newsrank eval``: registered here, implemented in the evaluation package.

Each evaluation module exposes ``register(subparsers)``; add a module's name to
``MODULES`` to add its subcommands (e.g. ``evaluation.retrieval``).

    newsrank eval reader --data ../shared/data/squad_v1.1/dev-v1.1.json.gz --json
    newsrank eval tagger --data ../shared/data/conll2003/test.txt --json
    newsrank eval classifier --data runs/agnews-test.csv --model topic-agnews --json
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

MODULES = ["evaluation.heads_cli", "evaluation.retrieval_cli"]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("eval", help="evaluate a head or the retrieval stages")
    parser.set_defaults(func=lambda args: parser.error("choose what to evaluate"))
    targets = parser.add_subparsers(dest="target", metavar="TARGET")
    for name in MODULES:
        importlib.import_module(name).register(targets)


def emit(result: dict, as_json: bool) -> None:
    """Print a result: JSON, or one ``key: value`` line per entry."""
    if as_json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    for key, value in result.items():
        print(f"{key}: {value}")
