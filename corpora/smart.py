"""The classic SMART test collections (TIME, MED, CRAN, CISI) of ../shared/data/classic_ir.

Documents and queries come as ``.I n`` / ``.W`` records (MED, CRAN, CISI) or TIME's
``*TEXT nnn`` / ``*FIND n`` records; judgments as ``q 0 d 1`` lines (MED), ``q d`` lines
(CRAN, CISI) or TIME's ``q d d d ...`` lists. Ids are returned as strings without
leading zeros. :func:`read_smart` returns a :class:`corpora.beir.Collection` (untitled
documents) and :func:`convert_smart` writes it as a BEIR directory.

Numbering rules:

- TIME.REL numbers documents by their position in TIME.ALL (1 = the first,
  ``*TEXT 017``), not by their ``*TEXT`` number, so :func:`parse_records` numbers TIME
  records by position too;
- CRAN's files are named ``cran.all.1400`` / ``cran.qry`` / ``cranqrel``, and its queries
  are numbered ``001, 002, 004, 008, ...`` while ``cranqrel`` numbers them 1..225 in file
  order, so CRAN queries are renumbered by position.

Every judged pair counts as relevant (score 1); CRAN's graded codes (1-4, -1) are not
used.

>>> parse_records(".I 1\\n.W\\nhello world\\n.I 2\\n.W\\nbye\\n")
{'1': 'hello world', '2': 'bye'}
>>> parse_records("*TEXT 017 01/04/63\\nFIRST .\\n*TEXT 020 01/04/63\\nSECOND .\\n*STOP\\n")
{'1': 'FIRST .', '2': 'SECOND .'}
"""

from __future__ import annotations

import re
from pathlib import Path

from corpora.beir import Collection, write_beir


def parse_records(text: str) -> dict[str, str]:
    """``.I``/``.W`` or TIME-style ``*TEXT``/``*FIND`` records -> {id: text}.

    TIME records are numbered by position (1, 2, ...): ``TIME.REL`` refers to documents
    by their position in ``TIME.ALL``, not by their ``*TEXT`` number.
    """
    out: dict[str, str] = {}
    if text.lstrip().startswith("*"):
        parts = re.split(r"^\*(?:TEXT|FIND)\s+(\d+).*$", text, flags=re.M)
        for k, i in enumerate(range(1, len(parts) - 1, 2), start=1):
            body = parts[i + 1].split("*STOP")[0]
            out[str(k)] = " ".join(body.split())
        return out
    for rec in re.split(r"^\.I\s+", text, flags=re.M)[1:]:
        rid, _, rest = rec.partition("\n")
        fields = re.split(r"^\.([A-Z])\s*$", rest, flags=re.M)
        body = [fields[j + 1] for j in range(1, len(fields) - 1, 2) if fields[j] in ("T", "W")]
        out[str(int(rid.split()[0]))] = " ".join(" ".join(body).split())
    return out


def parse_qrels(text: str, lists: bool = False) -> dict[str, dict[str, int]]:
    """Judgment lines -> {query id: {doc id: 1}}; ``lists``: TIME's ``q d d d ...``.

    >>> parse_qrels("1 0 13 1\\n2 0 7 1\\n")
    {'1': {'13': 1}, '2': {'7': 1}}
    """
    qrels: dict[str, dict[str, int]] = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 2 or not f[0].isdigit():
            continue
        if lists:
            docs = f[1:]
        elif len(f) == 4 and f[1] == "0":
            docs = [f[2]]
        else:
            docs = [f[1]]
        for d in docs:
            if d.isdigit():
                qrels.setdefault(str(int(f[0])), {})[str(int(d))] = 1
    return qrels


def _find(root: Path, *suffixes: str) -> Path:
    for s in suffixes:
        hits = [p for p in root.iterdir() if p.name.upper().endswith(s)]
        if hits:
            return hits[0]
    raise FileNotFoundError(f"no file ending with {suffixes} in {root}")


def _read(path: Path) -> str:
    return path.read_text(encoding="latin-1")


def read_smart(root: str | Path) -> Collection:
    """A SMART collection directory (e.g. ``../shared/data/classic_ir/time``).

    The name is the directory's, lower case (``cran`` for CRAN); documents have no title.
    """
    r = Path(root)
    if not r.is_dir():
        raise FileNotFoundError(f"{r} is not a directory holding a SMART collection")
    if (r / "cran.all.1400").is_file():
        corpus = parse_records(_read(r / "cran.all.1400"))
        numbered = parse_records(_read(r / "cran.qry"))
        queries = {str(i): text for i, text in enumerate(numbered.values(), start=1)}
        qrels = parse_qrels(_read(r / "cranqrel"))
        qrels = {q: docs for q, docs in qrels.items() if q in queries}
        name = "cran"
    else:
        corpus = parse_records(_read(_find(r, ".ALL")))
        queries = parse_records(_read(_find(r, ".QUE", ".QRY")))
        rel = _find(r, ".REL", "QRELS")
        qrels = parse_qrels(_read(rel), lists=rel.name.upper() == "TIME.REL")
        # judgments of documents the collection does not hold (TIME.REL names one) count nothing
        qrels = {q: {doc: v for doc, v in d.items() if doc in corpus} for q, d in qrels.items()}
        qrels = {q: d for q, d in qrels.items() if q in queries and d}
        name = r.name.lower()
    return Collection(name, {k: ("", v) for k, v in corpus.items()}, queries, qrels)


def convert_smart(directory: str | Path, out: str | Path) -> Path:
    """Convert a SMART collection directory to a BEIR directory ``out``."""
    return write_beir(read_smart(directory), out)
