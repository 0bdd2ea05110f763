"""Typed search results, and their JSON form.

The JSON shape is a contract (later features add keys, never rename them):
``{"query", "results": [{"id", "title", "source", "date", "url", "score",
"snippet", "stages": {stage: {"rank", "score"}}, "duplicates": [ids]}], ...}``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from newsrank.types import FoundEntity, LabelScore
from ranker.fuse import StageScore
from ranker.read import FoundAnswer


@dataclass(frozen=True)
class SearchHit:
    id: str
    title: str
    source: str | None
    date: str | None
    url: str | None
    category: str | None
    score: float
    snippet: str
    highlights: list[tuple[int, int]]  # query-term spans in ``snippet``
    stages: dict[str, StageScore]
    passage: int  # id of the best passage
    topic: LabelScore | None = None
    entities: list[FoundEntity] = field(default_factory=list)  # offsets into their field
    answer: AnswerContext | None = None  # the reader's answer, inside its passage
    #: ids of the other matching versions of this story (near-duplicates collapsed under
    #: this hit, best-ranked first; empty when it has none or collapse is off)
    duplicates: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["highlights"] = [list(span) for span in self.highlights]
        return data


@dataclass(frozen=True)
class AnswerContext:
    """An answer shown inside its passage: ``context[start:end]`` is the answer."""

    context: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class SearchResponse:
    query: str
    results: list[SearchHit]
    total: int  # stories (articles when collapse is off) matched among the candidates
    page: int
    k: int
    timings_ms: dict[str, float] = field(default_factory=dict)
    answers: list[FoundAnswer] = field(default_factory=list)
    #: ``{"topic": {label: n}, "source": ..., "entity": ..., "entity_labels": {key: label}}``
    facets: dict[str, dict] = field(default_factory=dict)
    #: optional stages skipped to stay within the request's time budget ("rerank", "read")
    degraded: list[str] = field(default_factory=list)
    #: "did you mean": the query with misspelled words corrected, None when none is
    suggestion: str | None = None
    #: the shards that answered: ``{"total", "ok", "failed"}`` (an unsharded index is one
    #: shard), with ``"warnings"`` when some did not (``ranker.sharded``)
    shards: dict = field(default_factory=lambda: {"total": 1, "ok": 1, "failed": 0})

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.k))

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "results": [hit.to_dict() for hit in self.results],
            "total": self.total,
            "page": self.page,
            "k": self.k,
            "pages": self.pages,
            "timings_ms": self.timings_ms,
            "answers": [a.to_dict() for a in self.answers],
            "facets": self.facets,
            "degraded": self.degraded,
            "suggestion": self.suggestion,
            "shards": self.shards,
        }
