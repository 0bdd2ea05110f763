"""The official SQuAD 1.1 answer normalisation, exact match and token F1 (0-100).

>>> normalize_answer("The  Eiffel Tower!")
'eiffel tower'
>>> f1_score("the mask makers", "mask makers"), exact_match("Mask makers.", "mask makers")
(1.0, 1.0)
>>> squad_scores(["Paris"], [["Paris", "in Paris"]])
{'exact_match': 100.0, 'f1': 100.0, 'n': 1}
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_PUNCT = set(string.punctuation)


def normalize_answer(s: str) -> str:
    """Lower case, drop punctuation, articles (a, an, the) and extra whitespace."""
    s = "".join(ch for ch in s.lower() if ch not in _PUNCT)
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def f1_score(prediction: str, truth: str) -> float:
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
