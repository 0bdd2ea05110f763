"""SQuAD 1.1 files: questions with their paragraph and answers, split by article.

The shared dev file is split by article (``../shared/data/README.md``): the first 38
articles train, the last 10 test. Training holds out the last training article
("Kenya") as the validation set for early stopping.

>>> SquadExample("q1", "Who?", "Ada wrote.", ["Ada"], [0], "T").answers
['Ada']
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SquadExample:
    id: str
    question: str
    context: str
    answers: list[str]
    answer_starts: list[int]
    title: str


def load_squad(path: str | Path, articles: slice = slice(None)) -> list[SquadExample]:
    """Questions of the articles ``articles`` (a slice, file order) of a SQuAD json(.gz)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p} not found; pass the SQuAD 1.1 json(.gz) with --data")
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rt", encoding="utf-8") as fh:
        data = json.load(fh)["data"]
    out = []
    for art in data[articles]:
        for para in art["paragraphs"]:
            for qa in para["qas"]:
                out.append(
                    SquadExample(
                        qa["id"],
                        qa["question"],
                        para["context"],
                        [a["text"] for a in qa["answers"]],
                        [a["answer_start"] for a in qa["answers"]],
                        art["title"],
                    )
                )
    return out


def parse_slice(text: str) -> slice:
    """``"0:37"`` -> ``slice(0, 37)``; ``"38:"`` -> ``slice(38, None)``.

    >>> parse_slice("38:")
    slice(38, None, None)
    """
    a, _, b = text.partition(":")
    return slice(int(a) if a else None, int(b) if b else None)
