"""Text-pair scoring: the reranker cross-encoder (one relevance score per pair).

>>> ce = CrossEncoder("reranker")
>>> docs = ["Arsenal won the cup final on Saturday.", "Oil prices rose 3% as OPEC cut output."]
>>> [d.index for d in ce.rank("oil prices", docs)]
[1, 0]

The head has one output, trained with binary cross-entropy on relevant and
sampled non-relevant passages; ``predict`` returns its sigmoid, a relevance in (0, 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from heads.base import HeadModel, batches


@dataclass(frozen=True)
class RankedDoc:
    """A document of :meth:`CrossEncoder.rank`: its index in the input and its score."""

    index: int
    score: float


class CrossEncoder(HeadModel):
    """A fine-tuned cross-encoder: ``[CLS] query [SEP] passage [SEP]`` -> score."""

    task = "cross-encoder"
    default_model = "reranker"

    def check_spec(self) -> None:
        if len(self.spec.labels) > 1:
            raise ValueError(
                f"{self.model_name_or_path!r} has {len(self.spec.labels)} labels; a reranker "
                "head has one relevance output (train one with `newsrank train reranker`)"
            )

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Relevance of each ``(query, passage)`` pair, shape (n,), in batches."""
        pairs = list(pairs)
        if pairs and (not isinstance(pairs[0], (tuple, list)) or len(pairs[0]) != 2):
            raise TypeError(f"pairs must be (query, passage) tuples, got {pairs[0]!r}")
        out = []
        for _, chunk in batches(pairs, self.batch_size):
            enc = self.tokenize(
                [a for a, _ in chunk],
                [b for _, b in chunk],
                truncation="longest_first",
                max_length=self.max_length,
                padding=True,
                return_tensors="pt",
            )
            logits = self.forward(enc).logits.float()
            out.append(torch.sigmoid(logits[:, 0]).cpu().numpy())
        if not out:
            return np.zeros((0,), dtype=np.float32)
        return np.concatenate(out)

    def rank(self, query: str, docs: Sequence[str], top_k: int | None = None) -> list[RankedDoc]:
        """``docs`` sorted by relevance to ``query`` (the first ``top_k``)."""
        scores = self.predict([(query, d) for d in docs])
        order = np.argsort(-scores, kind="stable")[: top_k or len(docs)]
        return [RankedDoc(int(i), float(scores[i])) for i in order]
