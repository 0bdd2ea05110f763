"""CoNLL-2003 files: one ``token POS chunk NER`` line per word, blank lines between
sentences, ``-DOCSTART-`` lines between documents (IOB2 tags in the last column).

>>> import io
>>> text = "-DOCSTART- -X- -X- O\\n\\nEU NNP B-NP B-ORG\\nrejects VBZ B-VP O\\n"
>>> read_conll_lines(io.StringIO(text))
[(['EU', 'rejects'], ['B-ORG', 'O'])]
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

Sentence = tuple[list[str], list[str]]  # words, tags
ENTITY_TYPES = ["PER", "ORG", "LOC", "MISC"]


def read_conll_lines(lines: Iterable[str]) -> list[Sentence]:
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
