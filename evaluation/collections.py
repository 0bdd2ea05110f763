"""BEIR-format test collections: read them, write them, and convert the SMART ones.

A BEIR collection is a directory holding ``corpus.jsonl`` (or ``corpus.jsonl.gz``;
``{"_id", "title", "text"}`` per line), ``queries.jsonl`` (``{"_id", "text"}``) and
``qrels/<split>.tsv`` (``query-id  corpus-id  score``, header line optional).

The classic SMART collections of ``../shared/data/classic_ir`` (TIME, MED, CRAN,
CISI) are parsed with :mod:`evaluation.smart` and written in the same format, so one
command evaluates everything. CRAN needs two fixes: its files are named
``cran.all.1400`` / ``cran.qry`` / ``cranqrel``, and its queries are numbered
``001, 002, 004, 008, ...`` while ``cranqrel`` numbers them 1..225 in file order, so
queries are renumbered by position. TIME.REL numbers documents by their position in
TIME.ALL (1 = the first, ``*TEXT 017``), not by their ``*TEXT`` number, so
:func:`evaluation.smart.parse_records` numbers TIME documents by position too (one
place, shared with the reranker evaluation). Every judged pair counts as relevant (score 1);
CRAN's graded codes (1-4, -1) are not used.

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

from evaluation import smart

CORPUS_FILES = ("corpus.jsonl", "corpus.jsonl.gz")


@dataclass
class Collection:
    """A test collection in memory: ``corpus`` maps doc id -> (title, text)."""

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
    """A BEIR/TREC-style qrels TSV (3 columns, or TREC's 4 with an iteration column)."""
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
    """Load a BEIR directory (corpus, queries, ``qrels/<split>.tsv``)."""
    d = Path(directory)
    if is_smart(d):
        return read_smart_collection(d)
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


def read_smart_collection(directory: str | Path) -> Collection:
    """TIME, MED, CISI (via :func:`evaluation.smart.read_smart`) or CRAN, as a Collection."""
    d = Path(directory)
    if (d / "cran.all.1400").is_file():
        corpus = smart.parse_records((d / "cran.all.1400").read_text(encoding="latin-1"))
        numbered = smart.parse_records((d / "cran.qry").read_text(encoding="latin-1"))
        queries = {str(i): text for i, text in enumerate(numbered.values(), start=1)}
        qrels = smart.parse_qrels((d / "cranqrel").read_text(encoding="latin-1"))
        qrels = {q: docs for q, docs in qrels.items() if q in queries}
        name = "cran"
    else:
        s = smart.read_smart(d)
        corpus, queries, qrels, name = s.corpus, s.queries, s.qrels, s.name
    return Collection(name, {k: ("", v) for k, v in corpus.items()}, queries, qrels)


def convert_smart(directory: str | Path, out: str | Path) -> Path:
    """Convert a SMART collection directory to a BEIR directory ``out``."""
    return write_beir(read_smart_collection(directory), out)
