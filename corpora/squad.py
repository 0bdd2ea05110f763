"""SQuAD 1.1: questions with their paragraph and answers, and the official metric.

The shared dev file is split by article (``../shared/data/README.md``): the first 38
articles train, the last 10 test. Training holds out the last training article
("Kenya") as the validation set for early stopping.

The metric is the official SQuAD 1.1 one: answers are normalised (lower case, no
punctuation, no articles, single spaces), then exact match and token F1 are taken
against each gold answer, the best one counting; scores are 0-100.

>>> SquadExample("q1", "Who?", "Ada wrote.", ["Ada"], [0], "T").answers
['Ada']
>>> normalize_answer("The  Eiffel Tower!")
'eiffel tower'
>>> f1_score("the mask makers", "mask makers"), exact_match("Mask makers.", "mask makers")
(1.0, 1.0)
>>> squad_scores(["Paris"], [["Paris", "in Paris"]])
{'exact_match': 100.0, 'f1': 100.0, 'n': 1}
"""

from __future__ import annotations

import gzip
import json
import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_PUNCT = set(string.punctuation)


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


def normalize_answer(s: str) -> str:
    """Lower case, drop punctuation, articles (a, an, the) and extra whitespace."""
    s = "".join(ch for ch in s.lower() if ch not in _PUNCT)
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def exact_match(prediction: str, truth: str) -> float:
    """1.0 when the normalised answers are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(truth))


def f1_score(prediction: str, truth: str) -> float:
    """Token F1 (0-1) of the normalised answers."""
    pred, gold = normalize_answer(prediction).split(), normalize_answer(truth).split()
    common = Counter(pred) & Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    p, r = same / len(pred), same / len(gold)
    return 2 * p * r / (p + r)


def squad_scores(predictions: Sequence[str], truths: Sequence[Sequence[str]]) -> dict:
    """EM and F1 (0-100, max over the gold answers of each question) and ``n``."""
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} predictions but {len(truths)} answer lists")
    em = f1 = 0.0
    for pred, golds in zip(predictions, truths, strict=True):
        em += max(exact_match(pred, g) for g in golds)
        f1 += max(f1_score(pred, g) for g in golds)
    n = len(predictions)
    return {
        "exact_match": round(100 * em / max(n, 1), 2),
        "f1": round(100 * f1 / max(n, 1), 2),
        "n": n,
    }
