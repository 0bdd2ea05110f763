"""Tiny stand-ins for the fine-tuned heads, with the same call signatures.

They make the pipeline's behaviour (ordering, thresholds, offsets, facets) testable
without a trained model; tests with the real shipped heads live beside them.
"""

from __future__ import annotations

import re

import numpy as np

from newsrank.types import Answer, Entity, LabelScore

KNOWN = {"OPEC": "ORG", "Russia": "LOC", "Liverpool": "ORG", "Brazil": "LOC", "FIFA": "ORG"}


class FakeReranker:
    """Scores a pair by how often ``favourite`` occurs in the passage."""

    def __init__(self, favourite: str) -> None:
        self.favourite = favourite.lower()
        self.calls = 0
        self.pairs = 0  # pairs scored by the latest call

    def predict(self, pairs):
        self.calls += 1
        self.pairs = len(pairs)
        return np.array([p.lower().count(self.favourite) for _, p in pairs], dtype=float)


class FakeReader:
    """Finds "mask makers" with confidence 0.9; otherwise offers its first word at 0.05."""

    def answer(self, question, contexts, top_k=1):
        out = []
        for i, context in enumerate(contexts):
            at = context.find("mask makers")
            if at >= 0:
                out.append(Answer("mask makers", 0.9, at, at + 11, i))
            elif context:
                word = context.split()[0]
                out.append(Answer(word, 0.05, 0, len(word), i))
        return sorted(out, key=lambda a: -a.score)[:top_k]


class FakeClassifier:
    labels = ["Business", "Sports", "World"]

    def predict(self, texts):
        out = []
        for text in texts:
            t = text.lower()
            best = (
                "Business"
                if "oil" in t or "bank" in t
                else "Sports"
                if any(w in t for w in ("league", "cup", "olympic", "wimbledon"))
                else "World"
            )
            rest = [x for x in self.labels if x != best]
            out.append([LabelScore(best, 0.8)] + [LabelScore(x, 0.1) for x in rest])
        return out


class FakeTagger:
    def tag(self, texts):
        out = []
        for text in texts:
            found = [
                Entity(KNOWN[m.group()], m.group(), m.start(), m.end(), 0.99)
                for m in re.finditer("|".join(KNOWN), text)
            ]
            out.append(found)
        return out


def build_fake_enriched(out, articles, embedder, lead_words=None):
    """An index of ``articles`` labelled by the fake classifier and tagger."""
    from indexer.build import build_index
    from newsrank.config import IndexConfig

    config = IndexConfig() if lead_words is None else IndexConfig(lead_words=lead_words)
    build_index(
        articles,
        out,
        config,
        embedder=embedder,
        classifier=FakeClassifier(),
        tagger=FakeTagger(),
        enrichment={"topic": "fake", "tagger": "fake"},
        progress=False,
    )
    return out
