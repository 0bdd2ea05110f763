"""Did you mean: a spelling suggestion for a query, from the index's own words.

The vocabulary is every word of the indexed titles and texts, lowercased, with its
document frequency (articles naming it), read from the store when a searcher opens
(:func:`suggester_for`, once per store). Candidates come from symspellpy (symmetric
delete, Damerau-Levenshtein distance, optimal string alignment). A query word is
replaced only when

- it is unknown to the index, and some indexed word of at least ``min_count``
  articles lies within edit distance 1 (or 2, for words of ``long_word`` letters or
  more): the nearest such word, the most frequent among equals; or
- it is known but rare and no English word: a word at distance 1 is in at least
  ``rare_factor`` times as many articles (100 by default), and the word is not in the
  English word list symspellpy ships (``frequency_dictionary_en_82_765.txt``, package
  data, 82,765 words). The list is what tells a typo that made it into the index
  ("reseach", 262x rarer than "research") from a real rare word ("tanking", 728x
  rarer than "taking"): no factor separates them (docs/benchmarks.md, "Did you mean":
  tuned on half of ``benchmarks/spelling_queries.tsv``).

Never changed: words of 3 letters or fewer, anything with a digit or an underscore,
and words that look like names: known to the index as a name, i.e. written
capitalised in more than half of its occurrences or part of a tagged entity ("Yukos",
"Merkel"), whether the query capitalises it or not (people type names in lower case;
``names_any_case=False``: only when capitalised in the query). A word unknown to the
index is no name of it, so "Khodorkovksy" becomes "Khodorkovsky". The suggestion
keeps the rest of the query as it was written and the case pattern of each replaced
word. It is computed for every query (one dictionary look-up per word past the
rules), whatever the results.

>>> s = Suggester({"government": 500, "goverment": 2, "election": 300, "yukos": 3,
...                "yokes": 400}, names={"yukos"})
>>> s.suggest("goverment electon"), s.suggest("Yukos"), s.suggest("election 2005")
('government election', None, None)
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

from symspellpy import SymSpell, Verbosity

from indexer.store import ArticleStore

#: a word of the vocabulary: letters only (digits and apostrophes split words)
_WORD = re.compile(r"[^\W\d_]+")
#: a word of the query: letters and digits, so that "g20" or "covid19" are left alone
_QUERY_WORD = re.compile(r"\w+")


class Suggester:
    """Spelling corrections over a vocabulary of ``{word: document frequency}``."""

    def __init__(
        self,
        doc_freq: Mapping[str, int],
        names: Iterable[str] = (),
        *,
        rare_factor: float = 100.0,
        min_count: int = 2,
        min_letters: int = 4,
        long_word: int = 6,
        names_any_case: bool = True,
        english: Iterable[str] | None = None,
    ) -> None:
        self.doc_freq = {w.lower(): int(n) for w, n in doc_freq.items()}
        self.names = {n.lower() for n in names}
        self.rare_factor, self.min_count = rare_factor, min_count
        self.min_letters, self.long_word = min_letters, long_word
        self.names_any_case = names_any_case
        #: real words, never taken for typos when known to the index (default: the list)
        self.english = english_words() if english is None else frozenset(english)
        self._max_count = max(self.doc_freq.values(), default=0)
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, n in self.doc_freq.items():
            if n >= min_count and len(word) >= min_letters - 1:
                self._symspell.create_dictionary_entry(word, n)

    @classmethod
    def from_texts(cls, texts: Iterable[str], names: Iterable[str] = (), **settings) -> Suggester:
        """A suggester over ``texts`` (one per article); names: the words written
        capitalised in more than half of their occurrences, and those of ``names``."""
        doc_freq: Counter = Counter()
        cased: Counter = Counter()
        for text in texts:
            words = _WORD.findall(text)
            cased.update(words)
            doc_freq.update({w.lower() for w in words})
        total: Counter = Counter()
        capital: Counter = Counter()
        for word, n in cased.items():
            total[word.lower()] += n
            if word[0].isupper():
                capital[word.lower()] += n
        named = {w for w, n in capital.items() if 2 * n > total[w]}
        named.update(w.lower() for name in names for w in _WORD.findall(name) if w[0].isupper())
        return cls(doc_freq, named, **settings)

    @classmethod
    def from_store(cls, store: ArticleStore, **settings) -> Suggester:
        """A suggester over the store's titles and texts; its entities are names."""
        entities = (text for _, text in store.entity_groups().by_variant)
        texts = (f"{title}\n{text}" for title, text in store.iter_texts())
        return cls.from_texts(texts, entities, **settings)

    def __len__(self) -> int:
        return len(self.doc_freq)

    def correct(self, word: str) -> str | None:
        """The correction of one query word as written, or None to leave it."""
        if len(word) < self.min_letters or not word.isalpha():
            return None
        lower = word.lower()
        if lower in self.names and (self.names_any_case or word[0].isupper()):
            return None
        count = self.doc_freq.get(lower, 0)
        if count:
            if count * self.rare_factor > self._max_count or lower in self.english:
                return None  # a real word, or no word is frequent enough to beat it
            found = self._symspell.lookup(lower, Verbosity.ALL, max_edit_distance=1)
            better = [s for s in found if s.distance == 1 and s.count >= count * self.rare_factor]
        else:
            distance = 2 if len(lower) >= self.long_word else 1
            better = [
                s
                for s in self._symspell.lookup(lower, Verbosity.ALL, max_edit_distance=distance)
                if s.distance > 0
            ]
        if not better:
            return None
        best = min(better, key=lambda s: (s.distance, -s.count, s.term)).term
        return _same_case(best, word)

    def suggest(self, query: str) -> str | None:
        """The query with its misspelled words corrected, or None when none is."""
        out, last, changed = [], 0, False
        for match in _QUERY_WORD.finditer(query):
            fixed = self.correct(match.group())
            if fixed is not None and fixed != match.group():
                out += [query[last : match.start()], fixed]
                last, changed = match.end(), True
        return "".join([*out, query[last:]]) if changed else None


def _same_case(word: str, like: str) -> str:
    """``word`` written in the case pattern of ``like`` (lower, Capitalised, UPPER)."""
    if like.isupper() and len(like) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


@cache
def english_words() -> frozenset[str]:
    """The words of symspellpy's English frequency dictionary (empty if it is missing)."""
    try:
        path = resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
        text = path.read_text(encoding="utf-8")
    except OSError:
        return frozenset()
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def ready_suggester(store: ArticleStore) -> Suggester | None:
    """The suggester of an open store if one has been built, else None (never builds)."""
    with _CACHE_LOCK:
        return _CACHE.get(store)


def suggester_for(store: ArticleStore) -> Suggester:
    """The suggester of an open store, built on first use and shared by every
    searcher over it."""
    with _CACHE_LOCK:
        found = _CACHE.get(store)
        if found is None:
            found = _CACHE[store] = Suggester.from_store(store)
        return found
