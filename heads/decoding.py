"""Pure decoding functions of the heads (numpy only, no torch).

Question answering: choose the span ``i <= j`` maximising ``s_i + e_j``:

>>> import numpy as np
>>> s = np.array([5.0, 0.0, 3.0, 1.0]); e = np.array([5.0, 0.0, 0.5, 2.0])
>>> allowed = np.array([False, True, True, True])  # token 0 is [CLS]: never an answer
>>> best_span(s, e, allowed, max_answer_len=2)
SpanChoice(start=2, end=3, score=5.0)

Tagging: BIO tags of tokens with character offsets become entity spans:

>>> text = "Angela Merkel visited Paris"
>>> tags = ["B-PER", "I-PER", "O", "B-LOC"]
>>> offs = [(0, 6), (7, 13), (14, 21), (22, 27)]
>>> [(e.type, e.text) for e in bio_to_entities(tags, offs, text)]
[('PER', 'Angela Merkel'), ('LOC', 'Paris')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from newsrank.types import Entity


@dataclass(frozen=True)
class SpanChoice:
    """A span of token indices ``start..end`` (inclusive) and its logit sum."""

    start: int
    end: int
    score: float


def top_spans(
    start_logits: Sequence[float],
    end_logits: Sequence[float],
    allowed_mask: Sequence[bool],
    max_answer_len: int = 30,
    k: int = 1,
) -> list[SpanChoice]:
    """The ``k`` best spans with both ends allowed, ``i <= j < i + max_answer_len``."""
    s = np.asarray(start_logits, dtype=np.float64)
    e = np.asarray(end_logits, dtype=np.float64)
    ok = np.asarray(allowed_mask, dtype=bool)
    if not (s.shape == e.shape == ok.shape) or s.ndim != 1:
        raise ValueError(
            f"start_logits {s.shape}, end_logits {e.shape} and allowed_mask {ok.shape} "
            "must be 1-d arrays of the same length"
        )
    if max_answer_len < 1:
        raise ValueError(f"max_answer_len={max_answer_len} must be at least 1")
    n = s.shape[0]
    i = np.arange(n)
    valid = (i[None, :] >= i[:, None]) & (i[None, :] < i[:, None] + max_answer_len)
    valid &= ok[:, None] & ok[None, :]
    if not valid.any():
        return []
    scores = np.where(valid, s[:, None] + e[None, :], -np.inf)
    flat = scores.ravel()
    k = min(k, int(valid.sum()))
    best = np.argpartition(-flat, k - 1)[:k]
    best = best[np.argsort(-flat[best], kind="stable")]
    return [SpanChoice(int(b // n), int(b % n), float(flat[b])) for b in best]


def best_span(
    start_logits: Sequence[float],
    end_logits: Sequence[float],
    allowed_mask: Sequence[bool],
    max_answer_len: int = 30,
) -> SpanChoice | None:
    """The span maximising ``s_i + e_j`` with ``i <= j``, both ends allowed, length bounded.

    ``allowed_mask`` is False for the question, special tokens and padding, so no span
    can touch them. Returns None when no token is allowed.
    """
    spans = top_spans(start_logits, end_logits, allowed_mask, max_answer_len, k=1)
    return spans[0] if spans else None


def softmax(x: Sequence[float]) -> np.ndarray:
    """Numerically stable softmax of a 1-d array.

    >>> softmax([0.0, 0.0]).tolist()
    [0.5, 0.5]
    """
    a = np.asarray(x, dtype=np.float64)
    a = np.exp(a - a.max())
    return a / a.sum()


def bio_to_entities(
    tags: Sequence[str],
    offsets: Sequence[tuple[int, int]],
    text: str,
    scores: Sequence[float] | None = None,
) -> list[Entity]:
    """Group BIO tags (one per word/first sub-token) into entities with character offsets.

    An ``I-X`` that does not continue an ``X`` entity starts a new one (lenient IOB2, as
    seqeval does). ``offsets[k]`` are the characters of token ``k`` in ``text``; an
    entity runs from its first token's start to its last token's end. ``scores`` (tag
    probabilities) are averaged per entity; without them the score is 1.0.
    """
    if len(tags) != len(offsets):
        raise ValueError(f"{len(tags)} tags but {len(offsets)} offsets: give one offset per tag")
    entities: list[Entity] = []
    cur: tuple[str, int, int, list[float]] | None = None

    def close() -> None:
        if cur is not None:
            typ, a, b, sc = cur
            entities.append(Entity(typ, text[a:b], a, b, float(np.mean(sc)) if sc else 1.0))

    for k, (tag, (a, b)) in enumerate(zip(tags, offsets, strict=True)):
        p = 1.0 if scores is None else float(scores[k])
        prefix, _, typ = tag.partition("-")
        if prefix == "I" and cur is not None and cur[0] == typ:
            cur = (typ, cur[1], b, cur[3] + [p])
        elif prefix in ("B", "I") and typ:
            close()
            cur = (typ, a, b, [p])
        else:
            close()
            cur = None
    close()
    return entities


def bio_labels(types: Sequence[str]) -> list[str]:
    """The IOB2 label list of entity types, ``O`` first.

    >>> bio_labels(["PER", "LOC"])
    ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']
    """
    out = ["O"]
    for t in types:
        out += [f"B-{t}", f"I-{t}"]
    return out
