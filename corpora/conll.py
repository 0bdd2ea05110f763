"""CoNLL-2003 named entities: the files, and the entity-level scores (seqeval).

A file holds one ``token POS chunk NER`` line per word, blank lines between
sentences, ``-DOCSTART-`` lines between documents (IOB2 tags in the last column).

>>> import io
>>> text = "-DOCSTART- -X- -X- O\\n\\nEU NNP B-NP B-ORG\\nrejects VBZ B-VP O\\n"
>>> read_conll_lines(io.StringIO(text))
[(['EU', 'rejects'], ['B-ORG', 'O'])]
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

Sentence = tuple[list[str], list[str]]  # words, tags
ENTITY_TYPES = ["PER", "ORG", "LOC", "MISC"]


def read_conll_lines(lines: Iterable[str]) -> list[Sentence]:
    """Sentences of CoNLL-2003 lines (document markers and blank lines split them)."""
    out: list[Sentence] = []
    words: list[str] = []
    tags: list[str] = []
    for line in lines:
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if words:
                out.append((words, tags))
            words, tags = [], []
            continue
        words.append(parts[0])
        tags.append(parts[-1])
    if words:
        out.append((words, tags))
    return out


def read_conll(path: str | Path) -> list[Sentence]:
    """Sentences of a CoNLL-2003 file."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p} not found; pass a CoNLL-2003 file (e.g. train.txt)")
    with open(p, encoding="utf-8") as fh:
        return read_conll_lines(fh)


def seqeval_scores(gold: list[list[str]], pred: list[list[str]]) -> dict[str, Any]:
    """Entity-level precision, recall, F1 (seqeval, IOB2) and per-type scores.

    An entity counts only when its type and both ends match. Needs ``seqeval``
    (``pip install 'newsrank[train]'`` or ``[eval]``).
    """
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    per_type = {
        k: {m: round(float(v[m]), 4) for m in ("precision", "recall", "f1-score", "support")}
        for k, v in report.items()
        if "avg" not in k
    }
    return {
        "f1": float(f1_score(gold, pred)),
        "precision": float(precision_score(gold, pred)),
        "recall": float(recall_score(gold, pred)),
        "per_type": per_type,
        "n": len(gold),
    }
