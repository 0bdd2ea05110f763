"""The shipped heads: names -> directories inside this package (``heads/shipped/``).

They are package data, found with :mod:`importlib.resources`, so an installed wheel
carries them as a source checkout does (``make models`` rewrites them in place).

>>> resolve_head("/tmp/my-head")
'/tmp/my-head'
>>> resolve_head("reader").endswith("shipped/reader")
True
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SHIPPED = ("reranker", "reader", "tagger", "topic-agnews", "topic-bbc")


def shipped_dir() -> Path:
    """The directory holding the shipped heads (inside the installed ``heads`` package)."""
    return Path(str(resources.files("heads") / "shipped"))


def resolve_head(name_or_path: str) -> str:
    """The directory of a shipped head name, else ``name_or_path`` unchanged."""
    if name_or_path in SHIPPED:
        return str(shipped_dir() / name_or_path)
    return name_or_path


def is_available(name: str) -> bool:
    """Whether a shipped head's files are present (they are, unless deleted by hand)."""
    return (shipped_dir() / name / "head.json").is_file()
