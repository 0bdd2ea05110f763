"""The Makefile's commands parse with the CLI as it is now: ``make models`` takes about
3.3 hours, so no test runs it, but an option renamed or removed would stop it at its
first command. Each ``newsrank`` command line of the Makefile (its variables filled in)
must get through the real argument parser."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from newsrank.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
VARIABLES = {
    "TRAIN": "newsrank train",
    "BIN": ".venv/bin",
    "DATA": "../shared/data",
    "MODELS": "heads/shipped",
    "WORK": "runs/models",
    "MINING": "runs/models/mining-index",
    "INDEX": "var/index",
    "HOST": "127.0.0.1",
    "PORT": "5000",
}


def _commands() -> list[list[str]]:
    out = []
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        if not line.startswith("\t"):
            continue
        text = re.sub(r"\$\((\w+)\)", lambda m: VARIABLES.get(m.group(1), ""), line.strip())
        if "newsrank" not in text or text.startswith("#"):
            continue
        text = text.split("||")[0]  # "... || [ $$? -eq 3 ]": the status test is make's
        words = shlex.split(text)
        at = next(i for i, w in enumerate(words) if w.endswith("newsrank"))
        out.append(words[at + 1 :])
    return out


COMMANDS = _commands()


def test_the_makefile_runs_newsrank_for_models_demo_and_serving():
    heads = {c[1] for c in COMMANDS if c[0] == "train"}
    assert heads == {"classifier", "tagger", "reader", "reranker"}
    assert {"demo", "serve"} <= {c[0] for c in COMMANDS}


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_a_makefile_command_parses(argv):
    args = build_parser(argv).parse_args(argv)
    assert callable(args.func)
