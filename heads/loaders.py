"""Load the fine-tuned heads named in :class:`HeadsConfig`, once per process.

A shipped head (``reranker``, ``reader``, ``tagger``, ``topic-agnews``,
``topic-bbc``) whose files are missing (deleted by hand, or a stripped install) is
switched off with a warning, so the search engine still works (retrieval and fusion
only), unless ``missing="error"``; any other name or path that fails to load is an
error naming it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from heads.classifier import TextClassifier
from heads.cross_encoder import CrossEncoder
from heads.reader import Reader
from heads.registry import SHIPPED, is_available, shipped_dir
from heads.tagger import EntityTagger
from newsrank.config import HeadsConfig
from newsrank.errors import NewsrankError

log = logging.getLogger(__name__)

ROLES = ("reranker", "reader", "tagger", "topic")
CLASSES = {
    "reranker": CrossEncoder,
    "reader": Reader,
    "tagger": EntityTagger,
    "topic": TextClassifier,
}


@dataclass
class Heads:
    """The loaded heads; a head that is off is None."""

    reranker: CrossEncoder | None = None
    reader: Reader | None = None
    tagger: EntityTagger | None = None
    topic: TextClassifier | None = None
    names: dict[str, str | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def load_heads(
    config: HeadsConfig,
    roles: Collection[str] = ROLES,
    missing: Literal["warn", "error"] = "warn",
) -> Heads:
    """Every head of ``roles`` that ``config`` names (None: off)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown head roles {sorted(unknown)}: choose from {', '.join(ROLES)}")
    heads = Heads()
    for role in roles:
        name = getattr(config, role)
        heads.names[role] = name
        if name is None:
            continue
        if name in SHIPPED and not is_available(name):
            message = (
                f"{role} head {name!r} is not in {shipped_dir()} (reinstall newsrank, or "
                f"retrain it with `make models`); {role} is off"
            )
            if missing == "error":
                raise NewsrankError(message.replace(f"; {role} is off", ""))
            log.warning(message)
            heads.warnings.append(message)
            heads.names[role] = None
            continue
        head = CLASSES[role](
            name, device=config.device, batch_size=config.batch_size, precision=config.precision
        )
        setattr(heads, role, head)
    return heads
