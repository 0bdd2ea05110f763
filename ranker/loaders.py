"""Load the fine-tuned heads named in :class:`HeadsConfig`, once per process.

A shipped head (``reranker``, ``reader``, ``tagger``, ``topic-agnews``,
``topic-bbc``) that is not present in ``models/`` is switched off with a warning, so
the search engine still works (retrieval and fusion only); any other name or path
that fails to load is an error naming it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsrank.config import HeadsConfig

log = logging.getLogger(__name__)

ROLES = ("reranker", "reader", "tagger", "topic")


@dataclass
class Heads:
    """The loaded heads; a head that is off is None."""

    reranker: Any = None
    reader: Any = None
    tagger: Any = None
    topic: Any = None
    names: dict[str, str | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _head_class(role: str) -> type:
    if role == "reranker":
        from ranker.heads.cross_encoder import CrossEncoder

        return CrossEncoder
    if role == "reader":
        from ranker.heads.reader import Reader

        return Reader
    if role == "tagger":
        from ranker.heads.tagger import EntityTagger

        return EntityTagger
    from ranker.heads.classifier import TextClassifier

    return TextClassifier


def load_heads(config: HeadsConfig, roles: Collection[str] = ROLES) -> Heads:
    from ranker.heads.registry import SHIPPED, resolve_head

    heads = Heads()
    for role in roles:
        name = getattr(config, role)
        heads.names[role] = name
        if name is None:
            continue
        if name in SHIPPED and not Path(resolve_head(name)).is_dir():
            message = f"{role} head {name!r} is not in models/ (run `make models`); {role} is off"
            log.warning(message)
            heads.warnings.append(message)
            heads.names[role] = None
            continue
        cls = _head_class(role)
        setattr(
            heads,
            role,
            cls(
                name,
                device=config.device,
                batch_size=config.batch_size,
                precision=config.precision,
            ),
        )
    return heads
