"""The reader stage: answer spans from the best passages, mapped into article offsets.

The reader is any object with ``answer(question, contexts, top_k) -> [Answer]``
(``ranker.heads.reader.Reader``). Answers below ``threshold`` are dropped, so a
keyword query ("oil prices") that the reader cannot answer confidently gets none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PassageRef:
    doc_id: str
    pid: int
    text: str
    offset: int  # where the passage starts in its article's text


@dataclass(frozen=True)
class FoundAnswer:
    text: str
    score: float
    doc_id: str
    start: int  # character offsets into the article's text
    end: int
    pid: int

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("text", "score", "doc_id", "start", "end")}


def read_answers(
    reader, question: str, passages: Sequence[PassageRef], threshold: float, top_k: int = 3
) -> list[FoundAnswer]:
    """Answers above ``threshold`` from ``passages``, best first, at most one per passage."""
    if not passages:
        return []
    answers = reader.answer(question, [p.text for p in passages], top_k=top_k * 3)
    out: list[FoundAnswer] = []
    used: set[int] = set()
    for answer in answers:
        ref = passages[answer.context_index]
        if answer.score < threshold or ref.pid in used or not answer.text.strip():
            continue
        used.add(ref.pid)
        out.append(
            FoundAnswer(
                answer.text,
                round(float(answer.score), 4),
                ref.doc_id,
                ref.offset + answer.start,
                ref.offset + answer.end,
                ref.pid,
            )
        )
    return out[:top_k]
