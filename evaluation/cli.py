"""``newsrank eval``: registered here, implemented in the evaluation package."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("eval", help="evaluate a head or the retrieval stages")
    parser.set_defaults(func=lambda args: parser.error("choose what to evaluate"))
