"""Shipped head names -> directories under the repository's ``models/``.

>>> resolve_head("/tmp/my-head")
'/tmp/my-head'
>>> resolve_head("reader").endswith("models/reader")
True
"""

from __future__ import annotations

from pathlib import Path

SHIPPED = ("reranker", "reader", "tagger", "topic-agnews", "topic-bbc")
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def resolve_head(name_or_path: str) -> str:
    """The directory of a shipped head name, else ``name_or_path`` unchanged."""
    if name_or_path in SHIPPED:
        return str(MODELS_DIR / name_or_path)
    return name_or_path
