"""Text-pair scoring: the reranker cross-encoder (one relevance score per pair).

>>> ce = CrossEncoder("reranker")
>>> docs = ["Arsenal won the cup final on Saturday.", "Oil prices rose 3% as OPEC cut output."]
>>> [d.index for d in ce.rank("oil prices", docs)]
[1, 0]

The head has one output, trained with binary cross-entropy on relevant and
sampled non-relevant passages; ``predict`` returns its sigmoid, a relevance in (0, 1).
At ``precision="int8"`` the same tokenized pairs run through an int8 ONNX Runtime graph
exported from this very model (:mod:`heads.onnx_backend`); the sigmoid is the same.

A pair longer than ``max_length`` tokens is cut. The query is first cut to
:meth:`CrossEncoder.query_token_limit` tokens (what the window holds besides the 3
special tokens: 125 for the shipped reranker), which bounds the work a 10,000-character
query costs; then the longer of the two is cut first (``longest_first``), so however
long the query, the passage keeps all its tokens or at least half of the room (62).
A query within the limit (SciFact, TIME and MED queries have at most 100 tokens) is
tokenized exactly as before, so scores do not move. Lone surrogates are read as U+FFFD
(:func:`heads.base.clean_texts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from heads.base import HeadModel, batches, clean_texts, truncate_each
from newsrank.precision import autocast


@dataclass(frozen=True)
class RankedDoc:
    """A document of :meth:`CrossEncoder.rank`: its index in the input and its score."""

    index: int
    score: float


class CrossEncoder(HeadModel):
    """A fine-tuned cross-encoder: ``[CLS] query [SEP] passage [SEP]`` -> score."""

    task = "cross-encoder"
    default_model = "reranker"
    int8_output = "logits"

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
            logits = self.forward(self.encode(chunk)).logits.float()
            out.append(torch.sigmoid(logits[:, 0]).cpu().numpy())
        if not out:
            return np.zeros((0,), dtype=np.float32)
        return np.concatenate(out)

    def int8_sample(self) -> dict[str, torch.Tensor]:
        return self.encode([("a query", "a passage"), ("a longer query", "a passage, longer")])

    def calibration_runs(self) -> dict[str, Any]:
        """One rerank batch (:attr:`calibration_batch` pairs of a query and a passage that
        fills the window) in torch at a given precision, and in int8."""
        from heads.onnx_backend import synthetic_texts

        texts = synthetic_texts(self.calibration_batch, self.max_length)
        enc = self.encode([("oil prices after the sanctions talks", t) for t in texts])
        inputs = {k: v.to(self.device) for k, v in enc.items()}

        def torch_run(precision: str) -> None:
            with torch.inference_mode(), autocast(precision, self.device.type):
                self.model(**inputs)

        return {"torch": torch_run, "int8": lambda: self.int8.run(enc)}

    def query_token_limit(self) -> int:
        """The most tokens of a query a pair keeps (see the module docstring)."""
        return self.max_length - 3

    def passage_token_floor(self) -> int:
        """The fewest tokens of a passage a pair keeps, unless it has fewer itself."""
        return (self.max_length - 3) // 2

    def encode(self, pairs: Sequence[tuple[str, str]]) -> dict[str, torch.Tensor]:
        """One batch of pairs as the model reads it: queries cut to
        :meth:`query_token_limit` tokens, then ``longest_first`` truncation."""
        limit = self.query_token_limit()
        queries = clean_texts([a for a, _ in pairs])
        with self._tok_lock:
            return self.tokenizer(
                truncate_each(self.tokenizer, queries, limit),
                clean_texts([b for _, b in pairs]),
                truncation="longest_first",
                max_length=self.max_length,
                padding=True,
                return_tensors="pt",
            )

    def rank(self, query: str, docs: Sequence[str], top_k: int | None = None) -> list[RankedDoc]:
        """``docs`` sorted by relevance to ``query`` (the first ``top_k``)."""
        scores = self.predict([(query, d) for d in docs])
        order = np.argsort(-scores, kind="stable")[: top_k or len(docs)]
        return [RankedDoc(int(i), float(scores[i])) for i in order]
