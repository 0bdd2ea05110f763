"""Choose a snippet from a passage and mark the query terms in it. Pure functions.

Terms match by their stem, so "prices" in the query marks "price" and "priced".

>>> s = make_snippet("Oil prices fell sharply on Monday.", {"price", "oil"}, max_chars=80)
>>> [s.text[a:b] for a, b in s.highlights]
['Oil', 'prices']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Snippet:
    text: str
    highlights: list[tuple[int, int]]  # character spans in ``text``


def term_spans(
    text: str, terms: Collection[str], normalize: Callable[[str], str] | None = None
) -> list[tuple[int, int]]:
    """Character spans of the words of ``text`` whose normalised form is in ``terms``."""
    normalize = normalize or _default_normalize
    return [m.span() for m in _WORD.finditer(text) if normalize(m.group()) in terms]


@functools.lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202 - PyStemmer has no type hints
    import Stemmer

    return Stemmer.Stemmer("english")


def _default_normalize(word: str) -> str:
    return _stemmer().stemWord(word.lower())


def make_snippet(
    text: str,
    terms: Collection[str],
    max_chars: int = 320,
    normalize: Callable[[str], str] | None = None,
) -> Snippet:
    """The ``max_chars`` window of ``text`` holding the most query terms, cut at word ends."""
    spans = term_spans(text, terms, normalize)
    if len(text) <= max_chars:
        return Snippet(text, spans)
    start = _best_window_start(spans, max_chars)
    # move to a word start, then cut the end at a word end
    if start > 0:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + max_chars)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]
    return Snippet(prefix + text[start:end] + suffix, inside)


def _best_window_start(spans: list[tuple[int, int]], width: int) -> int:
    """Start of the window covering most spans, beginning a little before the first of them."""
    if not spans:
        return 0
    best_count, best_start, j = 0, spans[0][0], 0
    for i, (start, _) in enumerate(spans):
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] - start <= width:
            j += 1
        if j - i + 1 > best_count:
            best_count, best_start = j - i + 1, start
    return max(0, best_start - width // 6)
