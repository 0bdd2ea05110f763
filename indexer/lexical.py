"""BM25 over passages for a live, segmented index: hand-written postings over numpy.

Design. The index is a list of immutable segments (Lucene-style); each segment's lexical
part is a :class:`indexer.postings.Postings` (tokens from
:class:`indexer.analysis.Tokenizer`): for every distinct term (sorted), the ascending passage
numbers that contain it and the term frequency there (CSR: ``indptr``, ``docs``,
``tfs``), plus every passage's token count. Postings never change after they are
written; deletions are a bool "live" mask per segment kept by the caller, and merges
build new postings with :meth:`Postings.select` (drop deleted passages) and
:meth:`Postings.concat`. :meth:`BM25Index.over` is the search view over several
segments: global passage number = passages of the earlier segments + local number.

Statistics are exact. Nothing is precomputed per term: at query time, for each query
term, every segment's postings are gathered and filtered by its live mask, so the
document frequency, N and the mean length are those of the live passages of all
segments together. A deletion changes the scores at once, as if the index had been
rebuilt from the live passages (``tests/test_lexical.py`` checks exactly that). Lucene
and tantivy keep counting deleted documents in df and N until a merge expunges them, so
their scores drift with deletions (measured in docs/benchmarks.md). The price is a
few vectorised numpy operations per query term and segment, instead of a sparse row
sum over precomputed scores: see ``benchmarks/bm25_engines.py``.

Why not bm25s any more: bm25s bakes idf and lengths into one precomputed score matrix,
so a document can be neither added nor deleted without rebuilding everything. bm25s
and rank-bm25 stay as references only: the tests check that our scores equal theirs for
a corpus without deletions (all five bm25s methods: "lucene", "robertson", "atire",
"bm25l", "bm25+", same formulas and delta as bm25s), and the benchmark times them.

The formulas themselves (idf, the term-frequency part, length normalisation; Lucene's
variant by default) are pure functions in :mod:`indexer.bm25_formulas`. A query term
repeated in the query counts once per occurrence, as in bm25s and rank-bm25.

>>> index = BM25Index()
>>> index.index(["oil prices fall", "football results", "oil and gas"])
>>> [int(i) for i in index.retrieve("oil price", k=2).ids]
[0, 2]

Two segments, one passage deleted: statistics cover the live passages only.

>>> a = Postings.from_tokens([["oil", "price"], ["footbal"]])
>>> b = Postings.from_tokens([["oil", "gas"]])
>>> view = BM25Index.over([a, b], live=[np.array([True, False]), None])
>>> len(view), view.n_live, view.avg_length
(3, 2, 2.0)
>>> [int(i) for i in view.retrieve("oil", k=5).ids]
[0, 2]

Sharded: each shard reports its :class:`TermStats` for the query's terms, the sums are
the collection's, and every shard scores with them (Elasticsearch's
``dfs_query_then_fetch``), so its scores are those of one index holding every shard.

>>> shards = [BM25Index.over([a]), BM25Index.over([b])]
>>> tokens = ["oil"]
>>> total = TermStats.sum([s.term_stats(tokens) for s in shards])
>>> total.n, total.df
(3, {'oil': 2})
>>> one = BM25Index.over([a, b]).scores_of_tokens(tokens)
>>> split = [s.scores_of_tokens(tokens, total) for s in shards]
>>> bool(np.allclose(one, np.concatenate(split)))
True

Pruning. :meth:`BM25Index.retrieve` does not score every posting of every query term:
it runs MaxScore (:mod:`indexer.topk`). Each term's contribution is bounded by
``count * idf * tf_part(max tf, norm of the shortest passage)`` over its live postings
(cached per index: an index object never changes); the rare terms' postings are scored,
and once the bounds of the other (common) terms together stay below the k-th best score
so far, those are only looked up for the remaining candidates. It is exact: the
candidates always hold the whole top k (with a margin above float32 rounding), their
scores are then computed exactly as :meth:`scores_of_tokens` does, term by term in
float32, and ties are broken by passage number. ``prune=False`` scores exhaustively;
bm25l and bm25+ (a passage without the term still scores) always do.

>>> index.retrieve("oil price", k=2, prune=True) == index.retrieve("oil price", k=2, prune=False)
True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer import topk
from indexer.analysis import Tokenizer
from indexer.bm25_formulas import SCORES_ABSENT, TermStats, check_method, idf, length_norm, tf_part
from indexer.hits import Hits
from indexer.postings import Postings

#: the settings file of a saved index, and the format written there
SETTINGS_FILE = "newsrank_bm25.json"
FORMAT = "newsrank-postings-1"
#: the per-term bounds cached by one index, at most (then the cache starts over)
_TERM_CACHE = 100_000


class BM25Index:
    """BM25 over one or more postings segments with live masks: ``index`` builds one
    segment from texts, :meth:`over` views several; ``retrieve``, save and load."""

    def __init__(
        self,
        method: str = "lucene",
        k1: float = 1.5,
        b: float = 0.75,
        stem: bool = True,
        stopwords: bool = True,
        delta: float = 0.5,
    ) -> None:
        self.method, self.k1, self.b, self.delta = check_method(method), k1, b, delta
        self.tokenizer = Tokenizer(stem=stem, stopwords=stopwords)
        self._segments: list[Postings] = []
        self._live: list[np.ndarray | None] = []
        self._offsets = np.zeros(1, dtype=np.int64)
        self._norm = np.zeros(0, dtype=np.float64)
        self._live_all: np.ndarray | None = None
        #: term -> (live df, max tf, min and max length of its live passages): the bounds
        self._term_info: dict[str, tuple[int, int, float, float]] = {}
        self._indexed = False
        self.n_live = 0
        self.avg_length = 0.0

    def settings(self) -> dict[str, object]:
        return {
            "method": self.method,
            "k1": self.k1,
            "b": self.b,
            "delta": self.delta,
            **self.tokenizer.settings(),
        }

    @property
    def segments(self) -> list[Postings]:
        return self._segments

    def __len__(self) -> int:
        return int(self._offsets[-1])

    def index(self, texts: Sequence[str], show_progress: bool = False) -> None:
        """Index ``texts`` as one segment; passage id ``i`` is ``texts[i]``."""
        self._set_segments([Postings.from_tokens([self.tokenizer(t) for t in texts])], None)

    @classmethod
    def over(
        cls,
        segments: Sequence[Postings],
        live: Sequence[np.ndarray | None] | None = None,
        **settings: object,
    ) -> BM25Index:
        """The search view over ``segments`` (settings as in the constructor).

        Global passage number = the passages of the earlier segments + the local number.
        ``live[i]`` is a bool per passage of segment ``i`` (False = deleted) or None (all
        live); ``live=None``: nothing deleted.
        """
        view = cls(**settings)  # type: ignore[arg-type]
        view._set_segments(segments, live)
        return view

    def with_settings(self, **settings: object) -> BM25Index:
        """The same segments and deletions scored with other settings (``k1``, ``b``,
        ``method``...; the others kept): k1 and b act at query time only, so nothing is
        re-indexed (``benchmarks/bm25_params.py`` sweeps them this way)."""
        return BM25Index.over(self._segments, self._live, **{**self.settings(), **settings})

    def _set_segments(
        self, segments: Sequence[Postings], live: Sequence[np.ndarray | None] | None
    ) -> None:
        live = [None] * len(segments) if live is None else list(live)
        if len(live) != len(segments):
            raise ValueError(f"{len(live)} live masks for {len(segments)} segments")
        masks: list[np.ndarray | None] = []
        for seg, mask in zip(segments, live, strict=True):
            if mask is not None:
                mask = np.asarray(mask, dtype=bool)
                if mask.shape != (len(seg),):
                    raise ValueError(f"live mask of shape {mask.shape} for {len(seg)} passages")
                if mask.all():
                    mask = None
            masks.append(mask)
        self._segments, self._live = list(segments), masks
        self._offsets = np.zeros(len(segments) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in segments], out=self._offsets[1:])
        total = len(self)
        lengths = np.zeros(total, dtype=np.float64)
        alive = np.ones(total, dtype=bool)
        for seg, mask, start in zip(segments, masks, self._offsets.tolist(), strict=False):
            lengths[start : start + len(seg)] = seg.lengths
            if mask is not None:
                alive[start : start + len(seg)] = mask
        self._live_all = None if alive.all() else alive
        self.n_live = int(alive.sum())
        self.avg_length = float(lengths[alive].mean()) if self.n_live else 0.0
        self._lengths = lengths
        #: the token count of the live passages (their share of the collection's length)
        self.total_length = int(lengths[alive].sum()) if self.n_live else 0
        # Per passage: 1 - b + b * len / avglen, the length normalisation of every variant.
        self._norm = length_norm(lengths, self.avg_length, self.b)
        self._term_info = {}
        self._indexed = True

    def _tf_part(self, tf: np.ndarray, norm: np.ndarray | float) -> np.ndarray:
        """:func:`indexer.bm25_formulas.tf_part` with this index's settings."""
        return tf_part(self.method, tf, norm, self.k1, self.delta)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage slot for ``query`` (float32; deleted slots 0)."""
        if not self._indexed:
            raise RuntimeError("the BM25 index is empty: call index(), over() or load() first")
        return self.scores_of_tokens(self.tokenizer(query))

    def _gather(self, term: str) -> list[tuple[np.ndarray, np.ndarray]]:
        """The live postings of ``term`` in each segment: (global passage numbers, tfs)."""
        gathered = []
        for seg, mask, start in zip(
            self._segments, self._live, self._offsets.tolist(), strict=False
        ):
            docs, tfs = seg.lookup(term)
            if mask is not None and len(docs):
                alive = mask[docs]
                docs, tfs = docs[alive], tfs[alive]
            if len(docs):
                gathered.append((docs + np.int64(start) if start else docs, tfs))
        return gathered

    def _parts(self, term: str) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]]:
        """``term``'s postings in each segment holding it, as :mod:`indexer.topk` reads them."""
        parts = []
        for seg, live, start in zip(self._segments, self._live, self._offsets.tolist()):
            docs, tfs = seg.lookup(term)
            if len(docs):
                parts.append((start, docs, tfs, live))
        return parts

    def _info(self, term: str, parts: topk.Parts) -> tuple[int, int, float, float]:
        """(live df, max tf, min and max length) over ``term``'s live postings, cached."""
        info = self._term_info.get(term)
        if info is None:
            ids, tfs = topk.gather(parts)
            info = (0, 0, 0.0, 0.0)
            if len(ids):
                lengths = self._lengths[ids]
                info = (len(ids), int(tfs.max()), float(lengths.min()), float(lengths.max()))
            if len(self._term_info) >= _TERM_CACHE:
                self._term_info = {}
            self._term_info[term] = info
        return info

    def _norm_of(self, ids: np.ndarray, stats: TermStats | None) -> np.ndarray:
        """The length normalisation of passages ``ids``, as :meth:`scores_of_tokens` has it."""
        if stats is None:
            return self._norm[ids]
        return length_norm(self._lengths[ids], stats.avg_length, self.b)

    def _query_terms(self, counts: dict[str, int], stats: TermStats | None) -> list | None:
        """(count, idf, parts, bound) of each query term scoring here, in ``counts``'
        order; None where pruning would not be exact (a negative idf)."""
        n_live = self.n_live if stats is None else stats.n
        avg = self.avg_length if stats is None else stats.avg_length
        terms = []
        for term, count in counts.items():
            parts = self._parts(term)
            if not parts:
                continue
            df, max_tf, min_len, max_len = self._info(term, parts)
            if stats is not None and df:
                df = stats.df.get(term, 0)
            if df == 0:
                continue  # deleted here, or unknown to the collection's statistics
            weight = idf(self.method, df, n_live)
            if not weight >= 0:
                return None
            norm = float(length_norm(np.array([min_len, max_len]), avg, self.b).min())
            bound = count * weight * float(self._tf_part(np.float64(max_tf), norm))
            terms.append((count, weight, parts, bound))
        return terms

    def term_stats(self, tokens: Sequence[str]) -> TermStats:
        """This index's statistics for ``tokens`` (a tokenized query): what a shard
        reports before the query is scored with the sums of every shard's."""
        df = {t: sum(len(d) for d, _ in self._gather(t)) for t in dict.fromkeys(tokens)}
        return TermStats(self.n_live, self.total_length, df)

    def scores_of_tokens(self, tokens: Sequence[str], stats: TermStats | None = None) -> np.ndarray:
        """:meth:`scores` for a tokenized query; a repeated token counts once per occurrence.

        ``stats``: score with these collection statistics (N, mean length, document
        frequencies: the sums over the shards of a sharded index) instead of this
        index's own; the formulas are the same.
        """
        scores = np.zeros(len(self), dtype=np.float32)
        counts: dict[str, int] = {}
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
        n_live = self.n_live if stats is None else stats.n
        norm = self._norm
        if stats is not None:
            norm = length_norm(self._lengths, stats.avg_length, self.b)
        absent = 0.0  # bm25l, bm25+: the score of a passage without the term is not 0
        for term, count in counts.items():
            gathered = self._gather(term)
            df = sum(len(d) for d, _ in gathered) if stats is None else stats.df.get(term, 0)
            if df == 0:
                continue  # unknown to the live passages, as in a fresh index of them
            weight = idf(self.method, df, n_live)
            zero = 0.0
            if self.method in SCORES_ABSENT:
                zero = weight * float(self._tf_part(np.zeros(1), 1.0)[0])
                absent += count * zero
            if not gathered:
                continue  # in other shards only
            # One vectorised pass over the term's live postings of all segments.
            if len(gathered) == 1:
                idx, tfs = gathered[0]
            else:
                idx = np.concatenate([g[0] for g in gathered])
                tfs = np.concatenate([g[1] for g in gathered])
            part = weight * self._tf_part(tfs.astype(np.float64), norm[idx])
            scores[idx] += (count * (part - zero)).astype(np.float32)
        if absent:
            if self._live_all is None:
                scores += np.float32(absent)
            else:
                scores[self._live_all] += np.float32(absent)
        return scores

    def retrieve(
        self,
        query: str,
        k: int = 10,
        mask: np.ndarray | None = None,
        *,
        tokens: Sequence[str] | None = None,
        stats: TermStats | None = None,
        prune: bool | None = None,
    ) -> Hits:
        """The ``k`` best passages with a positive score, restricted to ``mask`` if given;
        equal scores in passage order.

        A deleted passage never comes back: its score is 0. ``tokens``: the query
        already tokenized; ``stats``: score with collection statistics (a shard of a
        sharded index; :meth:`scores_of_tokens`). ``prune``: True = MaxScore, False =
        score every posting, None = choose; the hits are the same.
        """
        return self.retrieve_with_cost(query, k, mask, tokens=tokens, stats=stats, prune=prune)[0]

    def retrieve_with_cost(
        self,
        query: str,
        k: int = 10,
        mask: np.ndarray | None = None,
        *,
        tokens: Sequence[str] | None = None,
        stats: TermStats | None = None,
        prune: bool | None = None,
    ) -> tuple[Hits, int]:
        """:meth:`retrieve`, and how many postings it read (scored or looked up)."""
        if not self._indexed:
            raise RuntimeError("the BM25 index is empty: call index(), over() or load() first")
        tokens = self.tokenizer(query) if tokens is None else tokens
        counts: dict[str, int] = {}
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
        exact = self.method not in SCORES_ABSENT and self.k1 >= 0 and 0 <= self.b <= 1
        if k > 0 and exact and (prune or (prune is None and 4 * k < self.n_live)):
            terms = self._query_terms(counts, stats)
            if terms is not None:
                return self._pruned(terms, k, mask, stats)
        scores = self.scores_of_tokens(tokens, stats)
        if mask is not None:
            scores = np.where(mask, scores, np.float32(0))
        positive = np.flatnonzero(scores > 0)
        ids, top = topk.select(positive, scores[positive], k)
        read = sum(len(p[1]) for t in counts for p in self._parts(t))
        return Hits(ids=ids, scores=top.astype(np.float32)), read

    def _pruned(
        self, terms: list, k: int, mask: np.ndarray | None, stats: TermStats | None
    ) -> tuple[Hits, int]:
        """MaxScore's candidates, then their exact scores (float32, term by term in the
        query's order, as :meth:`scores_of_tokens` adds them up)."""
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)

        def weigh(j: int, ids: np.ndarray, tfs: np.ndarray) -> np.ndarray:
            count, weight, _, _ = terms[j]
            norm = self._norm_of(ids, stats)
            return count * (weight * self._tf_part(tfs.astype(np.float64), norm))

        postings = sum(len(p[1]) for t in terms for p in t[2])
        allowed = None if mask is None else np.count_nonzero(mask)
        if allowed is not None and 16 * allowed * len(terms) < postings:
            # A narrow filter: look every allowed passage up rather than read the lists.
            cand = np.flatnonzero(mask if self._live_all is None else mask & self._live_all)
            read = len(cand) * len(terms)
        else:
            bounds = [t[3] for t in terms]
            parts = [t[2] for t in terms]
            cand, read = topk.maxscore(parts, bounds, k, weigh, mask, size=len(self))
        scores = np.zeros(len(cand), dtype=np.float32)
        for count, weight, parts, _ in terms:
            tfs = topk.lookup(parts, cand)
            hit = np.flatnonzero(tfs)
            idx = cand[hit]
            part = weight * self._tf_part(tfs[hit].astype(np.float64), self._norm_of(idx, stats))
            scores[hit] += (count * part).astype(np.float32)
        ids, top = topk.select(cand, scores, k)
        return Hits(ids=ids, scores=top), read + len(cand) * len(terms)

    def save(self, directory: str | Path) -> None:
        """Save a single-segment index without deletions as plain files (JSON, .npy)."""
        if not self._indexed:
            raise RuntimeError("nothing to save: call index() first")
        if len(self._segments) != 1 or self._live[0] is not None:
            raise ValueError(
                "save() keeps one segment without deletions: merge first "
                "(Postings.concat of Postings.select) or save the segments themselves"
            )
        directory = Path(directory)
        self._segments[0].save(directory)
        settings = {"format": FORMAT, **self.settings()}
        (directory / SETTINGS_FILE).write_text(json.dumps(settings, indent=2))

    @classmethod
    def load(cls, directory: str | Path, mmap: bool = True) -> BM25Index:
        directory = Path(directory)
        settings_file = directory / SETTINGS_FILE
        if not settings_file.is_file():
            raise FileNotFoundError(f"{settings_file} is missing: not a newsrank BM25 index")
        settings = json.loads(settings_file.read_text())
        if settings.pop("format", None) != FORMAT:
            raise ValueError(
                f"{directory} holds a BM25 index in an older format (bm25s): rebuild the index"
            )
        return cls.over([Postings.load(directory, mmap=mmap)], None, **settings)
