"""Named points in the writer where crash tests stop it (a test hook, off by default).

``pause_point("written")`` does nothing unless the environment variable
``NEWSRANK_TEST_PAUSE_AT`` names that point; then the process prints
``newsrank: paused at written`` on stderr and sleeps, so that a test can kill it
(``kill -9``) at exactly that moment of a real build. Lucene's ``testPoint`` is the
model. Points: ``written`` (the new index is complete in its temporary directory, the
old one untouched), ``swapping`` (the old index renamed aside, the new one not yet in
place).

>>> pause_point("written")  # the variable is not set: returns at once
"""

from __future__ import annotations

import os
import sys
import time

ENV = "NEWSRANK_TEST_PAUSE_AT"


def pause_point(name: str) -> None:
    if os.environ.get(ENV) != name:
        return
    print(f"newsrank: paused at {name}", file=sys.stderr, flush=True)
    while True:  # until killed
        time.sleep(60)
