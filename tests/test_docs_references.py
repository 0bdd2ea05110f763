"""The README and docs/ name code that exists: every backticked dotted name under a
project package (``ranker.shard_search.ShardSearcher``) imports and resolves, and every
backticked path inside the checkout (``evaluation/report.py``) is there. Modules move;
the prose that points at them must move with them."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("newsrank", "corpora", "heads", "indexer", "ranker", "web", "training", "evaluation")
FOLDERS = (*PACKAGES, "benchmarks", "tests", "docs")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOKEN = re.compile(r"`([A-Za-z_][\w./]*)`")


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def _references() -> list[tuple[str, str]]:
    out = []
    for doc in DOCS:
        for token in TOKEN.findall(doc.read_text(encoding="utf-8")):
            head = re.split(r"[./]", token)[0]
            if head in FOLDERS and ("/" in token or "." in token):
                out.append((doc.name, token.rstrip(".")))
    return out


def test_the_docs_name_code_and_files_that_exist():
    refs = _references()
    assert len(refs) > 100  # the scan sees the docs
    missing = []
    for doc, token in refs:
        if "/" in token or token.endswith((".py", ".md", ".json", ".txt", ".svg")):
            ok = (ROOT / token).exists()
        else:
            ok = _resolves(token)
        if not ok:
            missing.append(f"{doc}: {token}")
    assert not missing, missing


def test_relative_links_in_the_docs_point_at_files_that_exist():
    links = [
        (doc, target.split("#")[0])
        for doc in DOCS
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8"))
        if not target.startswith(("http://", "https://", "mailto:", "#"))
    ]
    assert len(links) > 50
    missing = [f"{doc.name}: {t}" for doc, t in links if not (doc.parent / t).exists()]
    assert not missing, missing
