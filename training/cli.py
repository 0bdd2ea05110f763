"""``newsrank train``: registered here, implemented in the training package."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="fine-tune a head (classifier, reranker, tagger, reader)")
    parser.set_defaults(func=lambda args: parser.error("choose a head to train"))
