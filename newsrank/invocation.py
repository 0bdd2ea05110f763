"""The command line that is running, as the user typed it (for metrics and reports).

``newsrank.cli.main`` records its arguments here, so a head trained through
``main(["train", ...])`` (tests, scripts) records that command, not the host
program's ``sys.argv``.

>>> token = INVOCATION.set("newsrank train reader")
>>> current()
'newsrank train reader'
>>> INVOCATION.reset(token)
"""

from __future__ import annotations

import shlex
import sys
from contextvars import ContextVar

INVOCATION: ContextVar[str | None] = ContextVar("newsrank_invocation", default=None)


def record(argv: list[str]) -> None:
    INVOCATION.set(shlex.join(["newsrank", *argv]))


def current() -> str:
    """The recorded ``newsrank ...`` command, else this process's own command line."""
    recorded = INVOCATION.get()
    if recorded:
        return recorded
    prog = "newsrank" if sys.argv and sys.argv[0].endswith("newsrank") else sys.argv[0]
    return shlex.join([prog, *sys.argv[1:]])
