"""BM25 over passages, on bm25s (sparse matrices), with newsrank's own tokenizer.

Why bm25s and not rank-bm25: bm25s precomputes every (term, passage) score into a
sparse matrix, so a query costs a few sparse row sums; rank-bm25 loops over the
corpus in Python on every query. ``benchmarks/bm25_engines.py`` measures both on the
demo corpus (numbers in docs/benchmarks.md). rank-bm25 stays the reference:
``tests/test_lexical.py`` checks that our scores equal rank-bm25's on a small corpus.

The default variant is Lucene's (idf = log(1 + (N - n + 0.5) / (n + 0.5)), never
negative). Its term-frequency part is ``tf / (tf + k1 * (1 - b + b * len / avglen))``,
which is rank-bm25's BM25Okapi term divided by the constant ``k1 + 1``.

>>> index = BM25Index()
>>> index.index(["oil prices fall", "football results", "oil and gas"])
>>> [int(i) for i in index.retrieve("oil price", k=2).ids]
[0, 2]
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_EN)


@dataclass(frozen=True)
class Hits:
    """Passage ids and scores, best first."""

    ids: np.ndarray
    scores: np.ndarray


class Tokenizer:
    """Lowercase word tokens, Lucene's English stopwords removed, Snowball-stemmed.

    >>> Tokenizer()("The companies' oil-prices were RISING")
    ['compani', 'oil', 'price', 'were', 'rise']
    """

    def __init__(self, stem: bool = True, stopwords: bool = True) -> None:
        self.stem = stem
        self.stopwords = stopwords
        self._stemmer = Stemmer.Stemmer("english") if stem else None

    def __call__(self, text: str) -> list[str]:
        words = [
            w for w in _TOKEN.findall(text.lower()) if not (self.stopwords and w in _STOPWORDS)
        ]
        return self._stemmer.stemWords(words) if self._stemmer else words

    def settings(self) -> dict[str, bool]:
        return {"stem": self.stem, "stopwords": self.stopwords}


class BM25Index:
    """A BM25 index: settings in the constructor, then ``index``, ``retrieve``, save and load."""

    def __init__(
        self,
        method: str = "lucene",
        k1: float = 1.5,
        b: float = 0.75,
        stem: bool = True,
        stopwords: bool = True,
    ) -> None:
        if method not in ("lucene", "robertson", "atire", "bm25l", "bm25+"):
            raise ValueError(
                f"method={method!r}: choose 'lucene', 'robertson', 'atire', 'bm25l' or 'bm25+'"
            )
        self.method, self.k1, self.b = method, k1, b
        self.tokenizer = Tokenizer(stem=stem, stopwords=stopwords)
        self._bm25: bm25s.BM25 | None = None
        self._vocab: dict[str, int] = {}

    def __len__(self) -> int:
        return 0 if self._bm25 is None else int(self._bm25.scores["num_docs"])

    def index(self, texts: Sequence[str], show_progress: bool = False) -> None:
        """Index ``texts``; passage id ``i`` is ``texts[i]``."""
        tokens = [self.tokenizer(t) for t in texts]
        self._bm25 = bm25s.BM25(method=self.method, k1=self.k1, b=self.b)
        self._bm25.index(tokens, show_progress=show_progress)
        self._vocab = self._bm25.vocab_dict

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros when no query term is known)."""
        if self._bm25 is None:
            raise RuntimeError("the BM25 index is empty: call index() or load() first")
        ids = [self._vocab[t] for t in self.tokenizer(query) if t in self._vocab]
        if not ids:
            return np.zeros(len(self), dtype=np.float32)
        return self._bm25.get_scores_from_ids(ids)

    def retrieve(self, query: str, k: int = 10, mask: np.ndarray | None = None) -> Hits:
        """The ``k`` best passages with a positive score, restricted to ``mask`` if given."""
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        positive = np.flatnonzero(scores > 0)
        if len(positive) > k:
            positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
        order = positive[np.argsort(-scores[positive], kind="stable")]
        return Hits(ids=order, scores=scores[order].astype(np.float32))

    def save(self, directory: str | Path) -> None:
        """Save as plain files (numpy arrays and JSON; no pickle)."""
        if self._bm25 is None:
            raise RuntimeError("nothing to save: call index() first")
        directory = Path(directory)
        self._bm25.save(directory, show_progress=False)
        settings = {"method": self.method, "k1": self.k1, "b": self.b, **self.tokenizer.settings()}
        (directory / "newsrank_bm25.json").write_text(json.dumps(settings, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> BM25Index:
        directory = Path(directory)
        settings_file = directory / "newsrank_bm25.json"
        if not settings_file.is_file():
            raise FileNotFoundError(f"{settings_file} is missing: not a newsrank BM25 index")
        index = cls(**json.loads(settings_file.read_text()))
        index._bm25 = bm25s.BM25.load(directory, show_progress=False)
        index._vocab = index._bm25.vocab_dict
        return index
