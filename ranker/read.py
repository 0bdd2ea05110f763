"""The read stage: answer spans from the best passages, mapped into article offsets.

The reader is any :class:`newsrank.protocols.QuestionAnswerer` (``heads.reader.Reader``).
Answers below ``threshold`` are dropped, so a keyword query ("oil prices") that the
reader cannot answer confidently gets none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from indexer.store import ArticleStore
from newsrank.protocols import QuestionAnswerer
from ranker.ranking import ArticleScore


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
    reader: QuestionAnswerer,
    question: str,
    passages: Sequence[PassageRef],
    threshold: float,
    top_k: int = 3,
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


class ReadStage:
    """Reads the best passage of each of the top ``top`` articles for an answer."""

    def __init__(
        self, reader: QuestionAnswerer, store: ArticleStore, *, top: int = 3, threshold: float = 0.5
    ) -> None:
        self.reader, self.store, self.top, self.threshold = reader, store, top, threshold

    def run(self, question: str, articles: Sequence[ArticleScore]) -> list[FoundAnswer]:
        top = list(articles[: self.top])
        stored = self.store.articles([a.article for a in top])
        refs = []
        for scored in top:
            article = stored[scored.article]
            start, end = self.store.passage_span(scored.best_passage)
            refs.append(PassageRef(article.id, scored.best_passage, article.text[start:end], start))
        return read_answers(self.reader, question, refs, self.threshold)
