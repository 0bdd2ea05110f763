"""Read the classic SMART test collections (TIME, MED, CRAN, CISI) of ../shared/data.

Documents and queries come as ``.I n`` / ``.W`` records (MED, CRAN, CISI) or TIME's
``*TEXT nnn`` / ``*FIND n`` records; judgments as ``q 0 d 1`` lines (MED), ``q d`` lines
(CRAN, CISI) or TIME's ``q d d d ...`` lists. Ids are returned as strings without
leading zeros.

>>> parse_records(".I 1\\n.W\\nhello world\\n.I 2\\n.W\\nbye\\n")
{'1': 'hello world', '2': 'bye'}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Collection:
    name: str
    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


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
    """Judgment lines -> {query id: {doc id: 1}}."""
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


def read_smart(root: str | Path) -> Collection:
    """A SMART collection directory (e.g. ``../shared/data/classic_ir/time``)."""
    r = Path(root)
    if not r.is_dir():
        raise FileNotFoundError(f"{r} is not a directory holding a SMART collection")
    read = lambda p: p.read_text(encoding="latin-1")  # noqa: E731
    corpus = parse_records(read(_find(r, ".ALL")))
    queries = parse_records(read(_find(r, ".QUE", ".QRY")))
    rel = _find(r, ".REL", "QRELS")
    qrels = parse_qrels(read(rel), lists=rel.name.upper() == "TIME.REL")
    # judgments of documents the collection does not hold (TIME.REL names one) count nothing
    qrels = {q: {doc: r for doc, r in d.items() if doc in corpus} for q, d in qrels.items()}
    qrels = {q: d for q, d in qrels.items() if q in queries and d}
    return Collection(r.name.lower(), corpus, queries, qrels)
