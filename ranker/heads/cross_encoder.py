"""Text-pair scoring: the reranker cross-encoder (one relevance score per pair).

>>> ce = CrossEncoder("reranker")  # doctest: +SKIP
>>> ce.rank("oil prices", ["Crude rose 3% ...", "Arsenal won ..."], top_k=1)  # doctest: +SKIP
[RankedDoc(index=0, score=0.97)]

A head trained with one output (relevance, BCE) scores with a sigmoid (0-1); a
regression head (STS-style) returns its raw value; a head with several labels (NLI)
returns the probability of each label (``predict`` gives an array of shape (n, labels)).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ranker.heads.base import HeadModel, batches
from ranker.heads.types import RankedDoc


class CrossEncoder(HeadModel):
    """A fine-tuned cross-encoder: ``[CLS] query [SEP] passage [SEP]`` -> score."""

    task = "cross-encoder"

    def __init__(
        self,
        model_name_or_path: str = "reranker",
        device: str | None = None,
        batch_size: int = 32,
        max_length: int | None = None,
        precision: str = "auto",
    ) -> None:
        super().__init__(model_name_or_path, device, batch_size, max_length, precision)
        self.objective = self.spec.options.get("objective", "relevance")

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Scores of ``(query, passage)`` pairs: shape (n,), or (n, labels) for NLI heads."""
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
            if logits.shape[-1] > 1:
                out.append(torch.softmax(logits, dim=-1).cpu().numpy())
            elif self.objective == "regression":
                out.append(logits[:, 0].cpu().numpy())
            else:
                out.append(torch.sigmoid(logits[:, 0]).cpu().numpy())
        if not out:
            return np.zeros((0,), dtype=np.float32)
        return np.concatenate(out)

    def rank(self, query: str, docs: Sequence[str], top_k: int | None = None) -> list[RankedDoc]:
        """``docs`` sorted by relevance to ``query`` (the first ``top_k``)."""
        scores = self.predict([(query, d) for d in docs])
        if scores.ndim > 1:
            raise ValueError("rank() needs a one-score head; this one predicts several labels")
        order = np.argsort(-scores, kind="stable")[: top_k or len(docs)]
        return [RankedDoc(int(i), float(scores[i])) for i in order]
