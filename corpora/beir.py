"""BEIR-format test collections: read them and write them.

A BEIR collection is a directory holding ``corpus.jsonl`` (or ``corpus.jsonl.gz``;
``{"_id", "title", "text"}`` per line), ``queries.jsonl`` (``{"_id", "text"}``) and
``qrels/<split>.tsv`` (``query-id  corpus-id  score``, header line optional).

:func:`read_beir` also reads a directory holding a classic SMART collection
(:func:`is_smart`; parsed by :func:`corpora.smart.read_smart`), so one command
evaluates everything.

>>> import tempfile
>>> c = Collection("toy", {"d1": ("", "oil prices fall")}, {"q1": "oil"}, {"q1": {"d1": 1}})
>>> out = write_beir(c, tempfile.mkdtemp())
>>> read_beir(out).qrels
{'q1': {'d1': 1}}
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

CORPUS_FILES = ("corpus.jsonl", "corpus.jsonl.gz")


@dataclass
class Collection:
    """A test collection in memory: ``corpus`` maps doc id -> (title, text).

    >>> Collection("toy", {}, {"q1": "a", "q2": "b"}, {"q2": {"d": 1}, "q1": {"d": 0}}).judged
    ['q2']
    """

    name: str
    corpus: dict[str, tuple[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    @property
    def judged(self) -> list[str]:
        """Query ids with a text and at least one relevant document, in file order."""
        return [q for q in self.queries if any(v > 0 for v in self.qrels.get(q, {}).values())]


def corpus_file(directory: str | Path) -> Path:
    """The corpus file of a BEIR directory, or a clear error."""
    d = Path(directory)
    for name in CORPUS_FILES:
        if (d / name).is_file():
            return d / name
    raise FileNotFoundError(f"{d} holds no corpus.jsonl or corpus.jsonl.gz (not a BEIR collection)")


def _jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """A BEIR/TREC-style qrels TSV (3 columns, or TREC's 4 with an iteration column).

    Every judgment is kept, scores of 0 (judged not relevant) included, in file order.
    """
    qrels: dict[str, dict[str, int]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        f = line.split()
        if len(f) == 4:
            f = [f[0], f[2], f[3]]
        if len(f) != 3 or f[0] == "query-id":
            continue
        try:
            qrels.setdefault(f[0], {})[f[1]] = int(float(f[2]))
        except ValueError:
            continue  # a header with other names
    return qrels


def read_beir(directory: str | Path, split: str = "test") -> Collection:
    """Load a BEIR directory (corpus, queries, ``qrels/<split>.tsv``), or a SMART one.

    Documents and queries keep their file order; a missing title or text reads as "".
    """
    d = Path(directory)
    if is_smart(d):
        from corpora.smart import read_smart  # corpora.smart builds on this module

        return read_smart(d)
    qrels_path = d / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise FileNotFoundError(f"{qrels_path} is missing")
    corpus = {
        str(r["_id"]): (r.get("title") or "", r.get("text") or "") for r in _jsonl(corpus_file(d))
    }
    queries = {str(r["_id"]): r["text"] for r in _jsonl(d / "queries.jsonl")}
    return Collection(d.name, corpus, queries, read_qrels(qrels_path))


def write_beir(c: Collection, out: str | Path, split: str = "test") -> Path:
    """Write ``c`` as a BEIR directory; returns the directory."""
    out = Path(out)
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as f:
        for doc_id, (title, text) in c.corpus.items():
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with open(out / "queries.jsonl", "w", encoding="utf-8") as f:
        for qid, text in c.queries.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    with open(out / "qrels" / f"{split}.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for qid, docs in c.qrels.items():
            for doc_id, score in docs.items():
                f.write(f"{qid}\t{doc_id}\t{score}\n")
    return out


def is_smart(directory: str | Path) -> bool:
    """True for a directory holding a SMART collection rather than a BEIR one."""
    d = Path(directory)
    if not d.is_dir() or any((d / n).is_file() for n in CORPUS_FILES):
        return False
    return any(p.name.upper().endswith((".ALL", ".ALL.1400")) for p in d.iterdir())
