"""The render stage: one page of articles -> typed hits (snippet, highlights, topic,
entities, the answer inside its passage, every stage's rank and score).

>>> ctx = answer_context("a b c answer d e f", FoundAnswer("answer", .9, "x", 6, 12, 0), 8)
>>> ctx.context[ctx.start:ctx.end]
'answer'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from indexer.fulltext import FullTextEntities
from indexer.store import ArticleStore
from newsrank.types import FoundEntity, LabelScore
from ranker.ranking import ArticleScore, Ranking
from ranker.read import FoundAnswer
from ranker.results import AnswerContext, SearchHit
from ranker.snippet import make_snippet


class Renderer:
    """Builds the hits of a page from the store (and the lazy full-text entities)."""

    def __init__(
        self,
        store: ArticleStore,
        tokenize: Callable[[str], list[str]],
        *,
        snippet_chars: int = 320,
        fulltext: FullTextEntities | None = None,
    ) -> None:
        self.store, self.tokenize = store, tokenize
        self.snippet_chars = snippet_chars
        #: lazily tagged full-text entities (``indexer.fulltext``); None: lead only
        self.fulltext = fulltext

    def normalize(self, word: str) -> str:
        """A word as the index sees it (stemmed), or "" for a stopword."""
        tokens = self.tokenize(word)
        return tokens[0] if tokens else ""

    def run(
        self,
        query: str,
        page: Sequence[ArticleScore],
        ranking: Ranking,
        answers: Sequence[FoundAnswer],
        duplicates: Mapping[int, Sequence[int]] | None = None,
    ) -> list[SearchHit]:
        """The hits of ``page``; ``duplicates``: the articles collapsed under each one."""
        duplicates = duplicates or {}
        nums = [a.article for a in page]
        articles = self.store.articles(nums)
        versions = [d for n in nums for d in duplicates.get(n, ())]
        version_ids = self.store.ids(versions) if versions else {}
        labels = self.store.labels(nums)
        rest: dict[int, list[FoundEntity]] = {}
        if self.fulltext is not None:  # entities past the lead: cached, else queued
            rest = self.fulltext.cached(self.store, nums, queue_missing=True)
        terms = set(self.tokenize(query))
        by_passage = {a.pid: a for a in answers}
        hits = []
        for scored in page:
            article = articles[scored.article]
            label = labels[scored.article]
            start, end = self.store.passage_span(scored.best_passage)
            snippet = make_snippet(
                article.text[start:end], terms, self.snippet_chars, self.normalize
            )
            answer = by_passage.get(scored.best_passage)
            hits.append(
                SearchHit(
                    id=article.id,
                    title=article.title,
                    source=article.source,
                    date=article.date,
                    url=article.url,
                    category=article.category,
                    score=scored.score,
                    snippet=snippet.text,
                    highlights=snippet.highlights,
                    stages={
                        n: s[scored.article]
                        for n, s in ranking.stages.items()
                        if scored.article in s
                    },
                    passage=scored.best_passage,
                    topic=LabelScore(label.topic, label.topic_score) if label.topic else None,
                    entities=label.entities + rest.get(scored.article, []),
                    answer=answer_context(article.text, answer, self.snippet_chars),
                    duplicates=[version_ids[d] for d in duplicates.get(scored.article, ())],
                )
            )
        return hits


def answer_context(text: str, answer: FoundAnswer | None, width: int) -> AnswerContext | None:
    """A window of about ``width`` characters of ``text`` around the answer, cut at spaces."""
    if answer is None:
        return None
    lo = max(0, answer.start - width // 3)
    hi = min(len(text), max(answer.end + width // 3, lo + width))
    if lo > 0:
        lo = text.find(" ", lo, answer.start) + 1 or lo
    if hi < len(text):
        hi = text.rfind(" ", answer.end, hi) if text.rfind(" ", answer.end, hi) > 0 else hi
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(text) else ""
    shift = len(prefix) - lo
    return AnswerContext(
        prefix + text[lo:hi] + suffix, answer.start + shift, answer.end + shift, answer.score
    )
