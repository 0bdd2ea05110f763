"""Result types shared by every layer: small frozen dataclasses, safe to serialise.

The heads produce them (:mod:`heads`), the indexer stores them (:mod:`indexer.store`),
the searcher returns them (:mod:`ranker.results`) and the web app renders them; they
live here, at the bottom, so that none of those layers imports another for a type.

>>> LabelScore("sport", 0.93)
LabelScore(label='sport', score=0.93)
>>> Entity("PER", "Ada Lovelace", 0, 12, 0.99).end
12
>>> FoundEntity.of(Entity("ORG", "OPEC", 0, 4, 0.9), "title", shift=2)
FoundEntity(type='ORG', text='OPEC', start=2, end=6, score=0.9, field='title', in_index=True)
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
class FoundEntity(Entity):
    """An entity of an article: its offsets point into ``field`` ("title" or "text").

    ``in_index``: labelled at index time (title and lead), so filters and facets know
    it; False for entities of the rest of the text, tagged later (``indexer.fulltext``).
    """

    field: str = "text"
    in_index: bool = True

    @classmethod
    def of(cls, entity: Entity, field: str, shift: int = 0, in_index: bool = True) -> FoundEntity:
        """``entity`` found in ``field``, its offsets moved by ``shift`` characters."""
        e = entity
        return cls(e.type, e.text, e.start + shift, e.end + shift, e.score, field, in_index)


@dataclass(frozen=True)
class ArticleLabels:
    """What the heads say about one article: its topic and its entities."""

    topic: str | None = None
    topic_score: float | None = None
    entities: list[FoundEntity] = field(default_factory=list)
