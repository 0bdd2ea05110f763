"""Split an article into overlapping word windows, keeping character offsets.

>>> text = " ".join(f"w{i}" for i in range(10))
>>> windows = split_passages(text, words=4, overlap=1)
>>> [text[s:e] for s, e in windows]
['w0 w1 w2 w3', 'w3 w4 w5 w6', 'w6 w7 w8 w9']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from indexer.article import Article
from newsrank.config import IndexConfig

_WORD = re.compile(r"\S+")


def split_passages(text: str, words: int = 200, overlap: int = 50) -> list[tuple[int, int]]:
    """Return ``(start, end)`` character spans of windows of ``words`` words.

    Consecutive windows share ``overlap`` words; the last window ends at the last
    word. A text with no words gives one empty span, so every article has a passage.
    """
    if not 0 <= overlap < words:
        raise ValueError(f"overlap={overlap} must be >= 0 and smaller than words={words}")
    spans = [m.span() for m in _WORD.finditer(text)]
    if not spans:
        return [(0, 0)]
    stride = words - overlap
    windows = []
    for first in range(0, len(spans), stride):
        last = min(first + words, len(spans)) - 1
        windows.append((spans[first][0], spans[last][1]))
        if last == len(spans) - 1:
            break
    return windows


def retrieval_text(title: str, body: str) -> str:
    r"""What the retrievers (BM25, dense) index for a passage: the title counts in every one.

    >>> retrieval_text("Oil falls", "Prices dropped.")
    'Oil falls\nPrices dropped.'
    """
    return f"{title}\n{body}" if body else title


def rerank_text(title: str, body: str) -> str:
    """What the cross-encoder reads for a passage: ``"title. passage"``.

    >>> rerank_text("Oil falls", "Prices dropped.")
    'Oil falls. Prices dropped.'
    """
    return f"{title}. {body}"


def article_passages(
    articles: Sequence[Article], config: IndexConfig
) -> tuple[list[list[tuple[int, int]]], list[str]]:
    """Each article's passage spans (windows of ``config.passage_words`` words sharing
    ``config.passage_overlap``), and the text the retrievers index for each passage, in
    article order: what the index writer stores and embeds, and so what every other
    embedder of passages (a Ray build, a benchmark) must reproduce.

    >>> spans, texts = article_passages([Article("1", "Oil", "Prices fell.")], IndexConfig())
    >>> spans, texts
    ([[(0, 12)]], ['Oil\\nPrices fell.'])
    """
    spans = [split_passages(a.text, config.passage_words, config.passage_overlap) for a in articles]
    texts = [
        retrieval_text(a.title, a.text[s:e])
        for a, windows in zip(articles, spans, strict=True)
        for s, e in windows
    ]
    return spans, texts


def passage_texts(articles: Iterable[Article], config: IndexConfig) -> list[str]:
    """The texts :func:`article_passages` gives ``articles``, without their spans."""
    return article_passages(list(articles), config)[1]
