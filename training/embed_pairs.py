"""Training pairs for the news embedder: (query-like text, passage) with a hard negative.

Every pair imitates a way a person looks for a story (issue #14):

- ``headline``: a headline -> the article's first passage *without* the headline (a
  short paraphrase-like summary finding the text that tells it);
- ``ict``: inverse cloze task, one sentence of an article -> the passage it came from,
  the sentence cut out (a remembered detail finding its story);
- ``lead``: the first sentence -> the rest of the article's first passage;
- ``question``: a SQuAD question -> its paragraph (training articles only);
- ``claim``: a SciFact *train* claim -> its abstract (never the test qrels, and not the
  60 queries the reranker holds out, :func:`corpora.splits.reranker_validation`).

Passages are built like the index's (:func:`indexer.passages.split_passages` windows,
the title in front, :func:`indexer.passages.retrieval_text`), except where the pair
kind hides the title, but 120 words long instead of 200: a training step costs about
the square of the length, and on a 2-core CPU 200-word windows would triple the
training time (measured: 32 passages of 256 tokens take 10-12 s forward and backward
there). News comes only from articles the benchmarks do not ask
about (:func:`indexer.demo.is_heldout` is false), Reuters-21578, and AG News *train*
rows (index not divisible by 5).

Hard negatives: the best BM25 (bm25s) hits of the query among passages of the same kind
that are not from the positive's article and are not near-copies of it
(:func:`near_copy`).

>>> sentences("Oil fell. Prices dropped 3% on Monday! Why? Nobody knows.")
['Oil fell.', 'Prices dropped 3% on Monday!', 'Why?', 'Nobody knows.']
>>> near_copy("the cat sat on the mat", "the cat sat on a mat")
True
>>> cut_sentence("A b c. D e f. G h i.", "D e f.")
'A b c. G h i.'
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from indexer.passages import retrieval_text, split_passages
from training.prepared import read_record, write_record
from training.rerank_groups import bm25_top

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z0-9(])")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class EmbedPair:
    """One training example: ``query`` should embed near ``positive`` and away from
    ``negative`` (a hard negative; ``""`` when none was found)."""

    query: str
    positive: str
    negative: str
    kind: str
    source: str


@dataclass(frozen=True)
class Candidate:
    """A query with its positive passage, before negatives are mined; ``group`` names
    the article (negatives never come from the same group)."""

    query: str
    positive: str
    group: str


def sentences(text: str) -> list[str]:
    """Split ``text`` into sentences at ``.``, ``!`` or ``?`` followed by a capital,
    digit, quote or bracket."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def cut_sentence(passage: str, sentence: str) -> str:
    """``passage`` with the first occurrence of ``sentence`` removed, single-spaced."""
    return " ".join(passage.replace(sentence, " ", 1).split())


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def near_copy(a: str, b: str, threshold: float = 0.6) -> bool:
    """Whether two texts share at least ``threshold`` of their word sets (Jaccard): a
    copy of the positive (BBC holds the same story under several ids) is no negative."""
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return False
    return len(wa & wb) / len(wa | wb) >= threshold


def first_window(text: str, n_words: int = 120) -> str:
    """The first passage window of ``text`` (what the index's first passage holds)."""
    start, end = split_passages(text, words=n_words, overlap=0)[0]
    return text[start:end]


def news_candidates(
    articles: Iterable[tuple[str, str, str]], rng: random.Random, n_words: int = 120
) -> dict[str, list[Candidate]]:
    """``headline``, ``ict`` and ``lead`` candidates of ``(id, title, body)`` articles.

    Articles with bodies under 60 words are skipped; the ICT sentence has 8-60 words and
    is drawn from the article's first three windows (its passage is that window)."""
    out: dict[str, list[Candidate]] = {"headline": [], "ict": [], "lead": []}
    for art_id, title, body in articles:
        title, body = " ".join(title.split()), body.strip()
        if not title or len(body.split()) < 60:
            continue
        first = first_window(body, n_words)
        out["headline"].append(Candidate(title, first, art_id))
        sents = sentences(first)
        if len(sents) >= 3 and 6 <= len(sents[0].split()) <= 60:
            rest = cut_sentence(first, sents[0])
            out["lead"].append(Candidate(sents[0], retrieval_text(title, rest), art_id))
        spans = split_passages(body, words=n_words, overlap=n_words // 4)[:3]
        window_text = body[slice(*rng.choice(spans))]
        choices = [s for s in sentences(window_text) if 8 <= len(s.split()) <= 60]
        if len(choices) >= 2:
            s = rng.choice(choices)
            passage = retrieval_text(title, cut_sentence(window_text, s))
            out["ict"].append(Candidate(s, passage, art_id))
    return out


def mine_negatives(
    candidates: Sequence[Candidate], pool: Sequence[tuple[str, str]], depth: int = 10, seed: int = 0
) -> list[str]:
    """A hard negative for each candidate: one of the top-``depth`` BM25 hits of its
    query in ``pool`` (``(group, text)`` pairs), drawn at random among those from another
    group that are not near-copies of the positive; ``""`` where none qualifies."""
    rng = random.Random(seed)
    texts = [t for _, t in pool]
    hits = bm25_top(texts, [c.query for c in candidates], depth + 5)
    out = []
    for c, row in zip(candidates, hits):
        ok = [
            texts[i] for i in row if pool[i][0] != c.group and not near_copy(texts[i], c.positive)
        ][:depth]
        out.append(rng.choice(ok) if ok else "")
    return out


def with_negatives(
    kind: str,
    source: str,
    candidates: Sequence[Candidate],
    limit: int | None,
    seed: int,
    pool: Sequence[tuple[str, str]] | None = None,
) -> list[EmbedPair]:
    """Up to ``limit`` candidates (a seeded sample; None: all of them), each with a mined
    hard negative from ``pool`` (default: the positives of all ``candidates``)."""
    rng = random.Random(seed)
    chosen = list(candidates)
    rng.shuffle(chosen)
    chosen = chosen if limit is None else chosen[:limit]
    pool = pool if pool is not None else [(c.group, c.positive) for c in candidates]
    negatives = mine_negatives(chosen, pool, seed=seed)
    return [EmbedPair(c.query, c.positive, n, kind, source) for c, n in zip(chosen, negatives)]


def dedupe_positives(pairs: Sequence[EmbedPair]) -> list[EmbedPair]:
    """Keep the first pair of each positive text: two pairs with one positive in a batch
    would be each other's false in-batch negatives.

    >>> p = [EmbedPair("a", "x", "", "k", "s"), EmbedPair("b", "x", "", "k", "s")]
    >>> [e.query for e in dedupe_positives(p)]
    ['a']
    """
    seen: set[str] = set()
    out = []
    for p in pairs:
        if p.positive not in seen:
            seen.add(p.positive)
            out.append(p)
    return out


#: The format tag of a prepared pair file (:func:`write_prepared`).
PREPARED_FORMAT = "newsrank-embed-pairs/1"
#: how to write a prepared file, for the error of one that cannot be read
PREPARED_FIX = "write one with newsrank train embedder --write-data FILE"


def write_prepared(
    path: str | Path,
    pairs: Sequence[EmbedPair],
    validation: tuple[list[str], list[str], list[int]],
    command: str = "",
) -> Path:
    """Write ``pairs`` and the early-stopping ``validation`` set (queries, pool, target
    rows) to one file (:mod:`training.prepared`), so that a machine without the corpora
    (a borrowed GPU) trains on exactly these triples: ``--data prepared:FILE``."""
    queries, pool, target = validation
    return write_record(
        path,
        PREPARED_FORMAT,
        {
            "command": command,
            "pairs": [asdict(p) for p in pairs],
            "validation": {"queries": queries, "pool": pool, "target": target},
        },
    )


def read_prepared(
    path: str | Path,
) -> tuple[list[EmbedPair], tuple[list[str], list[str], list[int]]]:
    """The pairs and validation set of a file :func:`write_prepared` wrote."""
    record = read_record(path, PREPARED_FORMAT, PREPARED_FIX)
    pairs = [EmbedPair(**p) for p in record["pairs"]]
    v = record["validation"]
    return pairs, (list(v["queries"]), list(v["pool"]), [int(t) for t in v["target"]])
