"""What the ``newsrank index`` commands share: the input rules (formats, field mapping,
bad records reported and skipped, ``--strict``), loading the labelling heads, and the
one-line or JSON summary."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from newsrank.config import HeadsConfig

if TYPE_CHECKING:
    from indexer.ingest import IngestReport


class InputRefused(Exception):
    """Nothing is indexed: the reason is already on stderr; :attr:`status` is the exit
    status the command returns."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def read_input(args: argparse.Namespace, command: str) -> IngestReport:
    """The articles of ``--input`` (and ``--demo``), bad records reported on stderr.

    Raises :class:`InputRefused` when there is nothing to index, the reason printed: a
    bad ``--field`` mapping or an unreadable input is a usage error, and ``--strict``
    refuses an input with bad records (nothing is indexed)."""
    from indexer.ingest import IngestReport, parse_mapping, read_articles
    from newsrank.cli import EXIT_ERROR, EXIT_USAGE

    report = IngestReport()
    try:
        mapping = parse_mapping(args.field)
        if getattr(args, "demo", False):
            from indexer.demo import read_demo_news

            report.extend(read_demo_news())
        if args.input:
            report.extend(read_articles(args.input, mapping))
    except ValueError as exc:
        print(f"newsrank index {command}: {exc}", file=sys.stderr)
        raise InputRefused(EXIT_USAGE) from exc
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
        raise InputRefused(EXIT_ERROR)
    return report


def enrichers(names: dict, precision: str, command: str) -> tuple[object, object, dict]:
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


def emit(summary: dict, as_json: bool, line: str) -> None:
    """A command's summary: one JSON object, or one line for people."""
    print(json.dumps(summary) if as_json else line)
