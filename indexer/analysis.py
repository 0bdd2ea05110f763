"""Text analysis for BM25: how a passage or a query becomes terms.

One tokenizer for indexing and searching (a segment records its settings, so a query is
analysed as the passages it searches were): lowercase word tokens, Lucene's English
stopword list (as bm25s ships it) removed, Snowball English stems.
"""

from __future__ import annotations

import re

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"\w+", re.UNICODE)
#: Lucene's English stopwords (as bm25s ships them), removed by the default tokenizer.
STOPWORDS = frozenset(STOPWORDS_EN)


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
        words = [w for w in _TOKEN.findall(text.lower()) if not (self.stopwords and w in STOPWORDS)]
        return self._stemmer.stemWords(words) if self._stemmer else words

    def settings(self) -> dict[str, bool]:
        return {"stem": self.stem, "stopwords": self.stopwords}
