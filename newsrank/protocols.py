"""What the pipeline needs of each head: ``Protocol``s, so any object with the method fits.

The fine-tuned heads (:mod:`heads`) implement them; tests pass small fakes with the
same methods. Indexing and search are typed against these, never against the head
classes, so neither layer needs torch to be imported to type-check or to test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from newsrank.types import Answer, Entity, LabelScore


class PairScorer(Protocol):
    """A cross-encoder: one relevance score per ``(query, passage)`` pair."""

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray: ...


class QuestionAnswerer(Protocol):
    """A reader: the ``top_k`` best answer spans to ``question`` in ``contexts``."""

    def answer(self, question: str, contexts: list[str], top_k: int = 1) -> list[Answer]: ...


class TopicClassifier(Protocol):
    """A single-text classifier: every label with its probability, best first."""

    def predict(self, texts: Sequence[str]) -> list[list[LabelScore]]: ...


class Tagger(Protocol):
    """A token tagger: the entities of each text, offsets into that text."""

    def tag(self, texts: Sequence[str]) -> list[list[Entity]]: ...
