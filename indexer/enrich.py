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

from tqdm.auto import tqdm

from indexer.article import Article
from newsrank.config import IndexConfig
from newsrank.protocols import Tagger, TopicClassifier
from newsrank.types import ArticleLabels, FoundEntity

_WORD = re.compile(r"\S+")


def lead(text: str, words: int = IndexConfig.lead_words) -> str:
    """The first ``words`` words of ``text``, as a prefix of it (offsets stay valid)."""
    spans = [m.end() for m in _WORD.finditer(text)]
    return text[: spans[min(words, len(spans)) - 1]] if spans else ""


def enrich(
    articles: Sequence[Article],
    classifier: TopicClassifier | None = None,
    tagger: Tagger | None = None,
    lead_words: int = IndexConfig.lead_words,
    batch: int = 64,
    progress: bool = False,
) -> list[ArticleLabels]:
    """Topic and entities of every article (either head may be None to skip it)."""
    out: list[ArticleLabels] = []
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
                ArticleLabels(
                    topic=topic.label if topic else None,
                    topic_score=float(topic.score) if topic else None,
                    entities=found,
                )
            )
        bar.update(len(chunk))
    bar.close()
    return out
