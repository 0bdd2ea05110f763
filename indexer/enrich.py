"""Label articles at index time: a topic (classifier head) and named entities (tagger head).

Both heads read the article's *title and lead* (the first ``lead_words`` words of the
text): that is what fits the time budget of indexing on 2 CPU cores (costs in
docs/benchmarks.md), and it is where news articles name their topic and main actors.
Entity offsets point into the field they were found in (``title`` or ``text``).

>>> lead("one two three four", words=2)
'one two'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tqdm.auto import tqdm

from indexer.article import Article
from ranker.heads.types import Entity

_WORD = re.compile(r"\S+")


class Classifier(Protocol):
    def predict(self, texts: Sequence[str]) -> list: ...


class Tagger(Protocol):
    def tag(self, texts: Sequence[str]) -> list: ...


@dataclass(frozen=True)
class FoundEntity(Entity):
    """An entity of an article: its offsets point into ``field`` ("title" or "text").

    ``in_index``: labelled at index time (title and lead), so filters and facets know
    it; False for entities of the rest of the text, tagged later (``indexer.fulltext``).

    >>> FoundEntity.of(Entity("ORG", "OPEC", 0, 4, 0.9), "title").field
    'title'
    """

    field: str = "text"
    in_index: bool = True

    @classmethod
    def of(cls, entity: Entity, field: str, shift: int = 0, in_index: bool = True) -> FoundEntity:
        """``entity`` found in ``field``, its offsets moved by ``shift`` characters."""
        e = entity
        return cls(e.type, e.text, e.start + shift, e.end + shift, e.score, field, in_index)


@dataclass(frozen=True)
class Labels:
    """What the heads say about one article."""

    topic: str | None = None
    topic_score: float | None = None
    entities: list[FoundEntity] = field(default_factory=list)


def lead(text: str, words: int = 60) -> str:
    """The first ``words`` words of ``text``, as a prefix of it (offsets stay valid)."""
    spans = [m.end() for m in _WORD.finditer(text)]
    return text[: spans[min(words, len(spans)) - 1]] if spans else ""


def enrich(
    articles: Sequence[Article],
    classifier: Classifier | None = None,
    tagger: Tagger | None = None,
    lead_words: int = 60,
    batch: int = 64,
    progress: bool = False,
) -> list[Labels]:
    """Topic and entities of every article (either head may be None to skip it)."""
    out: list[Labels] = []
    bar = tqdm(total=len(articles), desc="enrich", unit="article", disable=not progress)
    for first in range(0, len(articles), batch):
        chunk = articles[first : first + batch]
        leads = [lead(a.text, lead_words) for a in chunk]
        topics = [None] * len(chunk)
        if classifier is not None:
            topics = [
                scores[0]
                for scores in classifier.predict([f"{a.title}. {x}" for a, x in zip(chunk, leads)])
            ]
        title_entities = tagger.tag([a.title for a in chunk]) if tagger else [[]] * len(chunk)
        lead_entities = tagger.tag(leads) if tagger else [[]] * len(chunk)
        for topic, in_title, in_lead in zip(topics, title_entities, lead_entities):
            found = [FoundEntity.of(e, "title") for e in in_title]
            found += [FoundEntity.of(e, "text") for e in in_lead]
            out.append(
                Labels(
                    topic=topic.label if topic else None,
                    topic_score=float(topic.score) if topic else None,
                    entities=found,
                )
            )
        bar.update(len(chunk))
    bar.close()
    return out
