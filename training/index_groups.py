"""Reranker training groups mined from the product's own index (issue #14).

Source ``ict:INDEX_DIR`` of ``newsrank train reranker``: inverse-cloze queries over the
articles of a newsrank index (``newsrank index build``), each group's hard negatives
taken from the product's own *hybrid* ranking of the query (BM25 and dense, fused as
the search fuses them), read as the cross-encoder reads them at search time
(:func:`indexer.passages.rerank_text` of the article's best passage).

Why these pairs: a reader re-finding a story remembers its gist and one detail of the
body, and the articles the product then confuses it with are other outlets' reports of
the same event. A sentence cut out of an article (inverse cloze) is such a remembered
detail, and the hybrid ranking of that sentence holds exactly those other reports.

- **Queries**: one sentence (8-60 words) of one of an article's first three passages;
  the positive is ``"title. passage"`` with that sentence cut out. With ``terse > 0``
  that share of the queries (a seeded draw each) is shown in a reader's words instead,
  :func:`remembered`: a few of the sentence's content words, at most one of the
  headline's, names and numbers first (the hand-written re-finding queries are short and
  keep at most one headline word; docs/results/terse/PLAN.md).
- **Negatives**: the best-ranked other articles of the query's hybrid ranking that are
  neither near-copies of the positive (:func:`training.embed_pairs.near_copy`) nor
  hold the sentence itself; random articles besides.
- **Never used**: articles a benchmark asks about (``exclude``, by default
  :func:`indexer.demo.is_heldout`) and every article in a near-duplicate group with one
  of them (the BBC set holds some stories under several ids), as queries, positives or
  negatives.
- **Validation** (early stopping): the same kind of query over a seeded ``n_val``
  articles never trained on, each against its positive and 14 hybrid negatives.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.analysis import STOPWORDS, Tokenizer
from indexer.passages import rerank_text
from newsrank.errors import TrainingInputError
from training.embed_pairs import cut_sentence, near_copy, sentences
from training.rerank_groups import Group

#: Quotation marks stripped from the ends of a query sentence (a reader does not type them).
_QUOTES = "\"'\u201c\u201d\u2018\u2019 "

#: Currency signs a figure may start with.
_CURRENCY = "\u00a3$\u20ac"
#: A word as a reader keeps it: a name or word (inner ' and - kept) or a figure with its
#: currency, thousands, decimals, per cent or unit ("\u00a3500m", "7,000", "0.8%").
_WORD = re.compile(rf"[{_CURRENCY}]?\d(?:[\d,.]*\d)?%?[a-z]*|[^\W\d_](?:[\w'\u2019-]*\w)?")

#: Words a reader leaves out of a remembered detail, besides the index's stopwords:
#: reporting verbs, pronouns, auxiliaries and other function words of news prose.
_FILLER = frozenset(
    """said says say saying told also would could should will may might can must has have
    had having been being do does did its it's his her hers him he she they them their
    theirs we us our you your i me my who whom whose which what when where while after
    before over from about than more most some any all other others very just only up
    out into within without because since though although however whether according new
    year years week last first time mr mrs ms""".split()
)


@dataclass(frozen=True)
class IctQuery:
    """One inverse-cloze query: ``sentence`` was cut out of article ``article``'s passage
    and is shown as ``query`` (itself, or :func:`remembered` of it); ``positive`` is that
    passage as the reranker reads it, the sentence removed."""

    query: str
    positive: str
    article: int
    sentence: str


@dataclass(frozen=True)
class IndexGroups:
    """Training groups and validation candidates ``(query, texts, positive indices)``."""

    groups: list[Group]
    validation: list[tuple[str, list[str], set[int]]]


def pick_query(
    title: str,
    passages: list[str],
    rng: random.Random,
    render: Callable[[str, str], str] = rerank_text,
) -> tuple[str, str] | None:
    """A ``(sentence, render(title, passage without it))`` from one of the first three
    passages, or ``None`` when none has two sentences of 8-60 words (the query must leave
    context).

    >>> pick_query("T", ["One two three four five six seven eight. Nine ten eleven twelve "
    ...     "thirteen fourteen fifteen sixteen."], random.Random(0))[1]
    'T. One two three four five six seven eight.'
    """
    order = list(range(min(3, len(passages))))
    rng.shuffle(order)
    for i in order:
        choices = [s for s in sentences(passages[i]) if 8 <= len(s.split()) <= 60]
        if len(choices) >= 2:
            s = rng.choice(choices)
            return s.strip(_QUOTES), render(title, cut_sentence(passages[i], s))
    return None


def remembered(
    sentence: str, title: str, rng: random.Random, *, low: int = 3, high: int = 7
) -> str | None:
    """``sentence`` as a reader remembers it, or ``None`` when it has fewer than ``low``
    content words: ``low``-``high`` of its content words (no stopwords, no news filler,
    no repeats) in the sentence's order, at most one of them a headline word (stem match,
    kept half the time), names and figures before other words.

    >>> rng = random.Random(0)
    >>> remembered("Qantas said it would move 7,000 jobs abroad to cut costs.",
    ...     "Qantas to cut jobs", rng)  # "cut" is the one headline word kept
    'move 7,000 abroad cut costs'
    >>> remembered("It was said to be so.", "T", rng) is None
    True
    """
    stem = Tokenizer()
    in_title = set(stem(title))
    seen: set[str] = set()
    heads: list[tuple[int, str]] = []
    salient: list[tuple[int, str]] = []
    plain: list[tuple[int, str]] = []
    for i, word in enumerate(_WORD.findall(sentence)):
        low_word = word.lower()
        if low_word in STOPWORDS or low_word in _FILLER or low_word in seen:
            continue
        seen.add(low_word)
        if set(stem(word)) & in_title:
            heads.append((i, word))
        elif word[0].isdigit() or word[0] in _CURRENCY or (i and word[0].isupper()):
            salient.append((i, word))
        else:
            plain.append((i, word))
    rng.shuffle(salient)
    rng.shuffle(plain)
    kept = [rng.choice(heads)] if heads and rng.random() < 0.5 else []
    kept = (kept + salient + plain)[: rng.randint(low, high)]
    if len(kept) < low:
        return None
    return " ".join(word for _, word in sorted(kept))


def hard_negatives(
    query: str,
    positive: str,
    ranked: list[tuple[int, str]],
    positive_article: int,
    banned: set[int],
    n: int,
) -> list[tuple[int, str]]:
    """The first ``n`` of ``ranked`` (``(article, reranker text)`` in ranking order) that
    are not the positive's article, not banned, hold no copy of the query sentence and
    are no near-copy of the positive.

    >>> hard_negatives("q s", "T. a b c", [(1, "T. q s here"), (2, "U. other"), (3, "V. x")],
    ...     positive_article=0, banned={3}, n=2)
    [(2, 'U. other')]
    """
    out = []
    for art, text in ranked:
        if art == positive_article or art in banned or query in text:
            continue
        if near_copy(text, positive):
            continue
        out.append((art, text))
        if len(out) == n:
            break
    return out


def index_groups(
    index_dir: str | Path,
    *,
    n_queries: int,
    n_val: int = 60,
    n_hard: int = 3,
    n_random: int = 1,
    seed: int = 13,
    exclude: Callable[[str], bool] | None = None,
    depth: int = 30,
    render: Callable[[str, str], str] = rerank_text,
    terse: float = 0.0,
) -> IndexGroups:
    """Groups of ``n_queries`` articles and validation candidates of ``n_val`` others
    (see the module docstring). Opens the index read-only with its own embedder.
    ``terse``: the share of queries shown as :func:`remembered` (0: all sentences, and
    the same groups as before the option existed).
    ``render(title, passage)``: the text a model reads (the reranker's by default; the
    embedder's is :func:`indexer.passages.retrieval_text`)."""
    from indexer.demo import is_heldout
    from ranker.request import SearchRequest
    from ranker.search import Searcher

    if not 0.0 <= terse <= 1.0:
        raise TrainingInputError(f"terse={terse!r}: a share of the queries, from 0 to 1")
    exclude = exclude or is_heldout
    searcher = Searcher.open(index_dir)
    store = searcher.store
    n_articles = len(store.live)
    live = np.flatnonzero(store.live).tolist()
    ids = store.ids(live)
    groups = searcher.index.duplicates(wait=True)
    banned = {n for n in live if exclude(ids[n])}
    for n in list(banned):
        banned.update(groups.group(n))
    eligible = [n for n in live if n not in banned]
    rng = random.Random(seed)
    rng.shuffle(eligible)
    starts = np.searchsorted(store.passage_article, np.arange(n_articles + 1))

    def passages_of(num: int) -> list[str]:
        return [store.passage_text(p) for p in range(int(starts[num]), int(starts[num + 1]))]

    queries: list[IctQuery] = []
    wanted = n_val + n_queries
    for num in eligible:
        if len(queries) == wanted:
            break
        art = store.articles([num])[num]
        picked = pick_query(art.title, passages_of(num), rng, render)
        if picked is not None:
            sentence, positive = picked
            shown = sentence
            if terse and rng.random() < terse:
                shown = remembered(sentence, art.title, rng) or sentence
            queries.append(IctQuery(shown, positive, num, sentence))
    rankings = searcher.rank_many([SearchRequest(q.query, k=depth) for q in queries])
    val, train = [], []
    for i, (q, ranking) in enumerate(zip(queries, rankings, strict=True)):
        top = [a for a in ranking.articles[: depth + 5] if a.article != q.article]
        stored = store.articles([a.article for a in top])
        ranked = [
            (a.article, render(stored[a.article].title, store.passage_text(a.best_passage)))
            for a in top
        ]
        if i < n_val:
            negs = hard_negatives(q.sentence, q.positive, ranked, q.article, banned, 14)
            val.append((q.query, [q.positive] + [t for _, t in negs], {0}))
            continue
        negs = hard_negatives(q.sentence, q.positive, ranked, q.article, banned, n_hard)
        taken = {a for a, _ in negs} | {q.article}
        rand: list[str] = []
        while len(rand) < n_random and len(eligible) > len(taken) + n_random:
            num = rng.choice(eligible)
            if num not in taken:
                taken.add(num)
                first = passages_of(num)[0]
                rand.append(render(store.articles([num])[num].title, first))
        if len(negs) == n_hard:
            train.append(Group(q.query, q.positive, [t for _, t in negs] + rand))
    return IndexGroups(train, val)
