"""Result types of the heads: small frozen dataclasses, safe to serialise.

>>> LabelScore("sport", 0.93)
LabelScore(label='sport', score=0.93)
>>> Entity("PER", "Ada Lovelace", 0, 12, 0.99).end
12
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LabelScore:
    """One label of a classifier and its probability."""

    label: str
    score: float


@dataclass(frozen=True)
class Entity:
    """A named entity: ``text == source[start:end]``; score is the mean tag probability."""

    type: str
    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Answer:
    """An answer span found by the reader in ``contexts[context_index][start:end]``.

    ``score`` is ``p_start * p_end``: softmax probabilities over the window's passage
    tokens plus [CLS] (the "no answer in this window" option), so it is in [0, 1] and
    falls when the window does not hold an answer; compare it to a threshold to hide
    unsure answers.
    """

    text: str
    score: float
    start: int
    end: int
    context_index: int


@dataclass(frozen=True)
class RankedDoc:
    """A document of :meth:`CrossEncoder.rank`: its index in the input and its score."""

    index: int
    score: float


@dataclass(frozen=True)
class SpanChoice:
    """A span of token indices ``start..end`` (inclusive) and its logit sum."""

    start: int
    end: int
    score: float


def to_dict(obj: object) -> dict:
    """A result dataclass as a plain dict (for JSON)."""
    return asdict(obj)  # type: ignore[call-overload]
