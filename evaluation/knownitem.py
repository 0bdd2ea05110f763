"""A news known-item benchmark: find the article from its headline.

The chapter's exercise: each query is an article's headline, the article itself (with
its headline removed from the indexed text) is the single relevant document. Built
from the demo news corpus (:func:`indexer.demo.read_demo_news`, about 6,000 articles)
and written in BEIR format, so ``newsrank eval retrieval`` measures it like any other
collection.

Held-out split (fixed, independent of any seed, so training code can apply it too)::

    test article  <=>  int(hashlib.sha1(article_id.encode("utf-8")).hexdigest(), 16) % 10 < 2

Queries come only from test articles; the reranker must train on the others
(:func:`indexer.demo.is_heldout` is the rule, defined once there). Among test articles
whose headline is unique and at least 3 words long, ``max_queries`` are drawn with
``random.Random(seed)``.
The corpus holds every demo article (train and test), headline removed; the
evaluation's indexer gives an untitled document its first 12 words as title.

>>> is_heldout("tmt-6"), is_heldout("tmt-7")
(True, False)
>>> sum(is_heldout(f"a{i}") for i in range(1000))  # about 20%
206
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from corpora.beir import Collection, write_beir
from indexer.article import Article
from indexer.demo import HELDOUT_TENTHS, is_heldout


def strip_headline(title: str, text: str) -> str:
    """The text without a leading copy of the headline.

    >>> strip_headline("Oil falls", "Oil falls\\nPrices dropped.")
    'Prices dropped.'
    """
    body = text.strip()
    if title and body.lower().startswith(title.strip().lower()):
        body = body[len(title.strip()) :].lstrip(" \n\t.:-")
    return body


def knownitem_collection(
    articles: list[Article],
    test_share: int = HELDOUT_TENTHS,
    seed: int = 13,
    max_queries: int | None = 500,
) -> Collection:
    """Headline queries of held-out articles; corpus = every article, headline removed."""
    titles = Counter(" ".join(a.title.lower().split()) for a in articles)
    corpus: dict[str, tuple[str, str]] = {}
    candidates = []
    for a in articles:
        body = strip_headline(a.title, a.text)
        if not body:
            continue
        corpus[a.id] = ("", body)
        headline = " ".join(a.title.split())
        unique = titles[headline.lower()] == 1
        if is_heldout(a.id, test_share) and unique and len(headline.split()) >= 3:
            candidates.append((a.id, headline))
    candidates.sort()
    random.Random(seed).shuffle(candidates)
    if max_queries:
        candidates = candidates[:max_queries]
    queries = {f"h-{doc_id}": headline for doc_id, headline in candidates}
    qrels = {f"h-{doc_id}": {doc_id: 1} for doc_id, _ in candidates}
    return Collection("news-knownitem", corpus, queries, qrels)


def build_knownitem(
    out: str | Path,
    test_share: int = HELDOUT_TENTHS,
    seed: int = 13,
    max_queries: int | None = 500,
    articles: list[Article] | None = None,
) -> dict:
    """Write the benchmark as a BEIR directory plus ``split.json``; returns its summary."""
    if articles is None:
        from indexer.demo import read_demo_news

        articles = read_demo_news().articles
    c = knownitem_collection(articles, test_share, seed, max_queries)
    out = write_beir(c, out)
    test_ids = sorted(a.id for a in articles if is_heldout(a.id, test_share))
    info = {
        "rule": f"int(sha1(article_id).hexdigest(), 16) % 10 < {test_share} -> test",
        "seed": seed,
        "articles": len(c.corpus),
        "test_articles": len(test_ids),
        "queries": len(c.queries),
    }
    (out / "split.json").write_text(json.dumps({**info, "test_ids": test_ids}, indent=1) + "\n")
    return {"out": str(out), **info}
