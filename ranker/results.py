"""Typed search requests and results, and their JSON form.

The JSON shape is a contract (later features add keys, never rename them):
``{"query", "results": [{"id", "title", "source", "date", "url", "score",
"snippet", "stages": {stage: {"rank", "score"}}}], ...}``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ranker.fuse import StageScore


@dataclass(frozen=True)
class SearchRequest:
    query: str
    k: int = 10
    page: int = 1
    sources: tuple[str, ...] = ()
    date_from: str | None = None  # inclusive, YYYY-MM-DD
    date_to: str | None = None


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

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["highlights"] = [list(span) for span in self.highlights]
        return data


@dataclass(frozen=True)
class SearchResponse:
    query: str
    results: list[SearchHit]
    total: int  # articles matched among the fused candidates
    page: int
    k: int
    timings_ms: dict[str, float] = field(default_factory=dict)

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
        }
