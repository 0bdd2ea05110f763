"""Single-text classification ([CLS] -> label distribution), e.g. news topics.

A text longer than ``max_length`` tokens is classified on its first ``max_length``
tokens; any string gets a distribution, the empty one included (the model's prior);
lone surrogates are read as U+FFFD (:func:`heads.base.clean_texts`).

>>> clf = TextClassifier("topic-bbc")
>>> clf.predict(["Arsenal beat Chelsea 2-0 at the Emirates in the Premiership"])[0][0].label
'sports'
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from heads.base import HeadModel, batches, clean_texts
from newsrank.types import LabelScore


class TextClassifier(HeadModel):
    """A fine-tuned text classifier head (topic-agnews, topic-bbc or any directory)."""

    task = "classifier"
    default_model = "topic-bbc"

    def predict_proba(self, texts: Sequence[str]) -> torch.Tensor:
        """Label probabilities, shape (len(texts), len(labels)), columns in label order."""
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not one string: wrap it in [...]")
        out = []
        for _, chunk in batches(clean_texts(texts), self.batch_size):
            enc = self.tokenize(
                list(chunk),
                truncation=True,
                max_length=self.max_length,
                padding=True,
                return_tensors="pt",
            )
            out.append(torch.softmax(self.forward(enc).logits.float(), dim=-1).cpu())
        return torch.cat(out) if out else torch.zeros(0, len(self.labels))

    def predict(self, texts: Sequence[str]) -> list[list[LabelScore]]:
        """For each text, every label with its probability, most likely first."""
        labels = self.labels
        result = []
        for row in self.predict_proba(texts).tolist():
            pairs = sorted(zip(labels, row, strict=True), key=lambda x: -x[1])
            result.append([LabelScore(lab, float(p)) for lab, p in pairs])
        return result
