"""Shared plumbing of the inference classes: loading once, batching, thread safety,
and the input hygiene every head applies (:func:`clean_texts`, :func:`truncate_tokens`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from heads.loading import load_head
from newsrank.precision import autocast, resolve_precision
from newsrank.text import replace_surrogates


class HeadModel:
    """Base of the inference classes (modelled on sentence-transformers' CrossEncoder).

    The model loads once in the constructor. ``predict``-style methods are safe to call
    from several threads: the (stateful) fast tokenizer is guarded by a lock, forward
    passes run under ``torch.inference_mode()`` on a model that never changes.
    """

    task = ""
    #: the shipped head loaded when no ``model_name_or_path`` is given
    default_model = ""

    def __init__(
        self,
        model_name_or_path: str | None = None,
        device: str | None = None,
        batch_size: int = 32,
        max_length: int | None = None,
        precision: str = "auto",
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size} must be at least 1")
        if max_length is not None and not 8 <= max_length <= 512:
            raise ValueError(f"max_length={max_length} must be between 8 and 512")
        model_name_or_path = model_name_or_path or self.default_model
        self.model, self.tokenizer, self.spec = load_head(model_name_or_path, self.task, device)
        self.device = next(self.model.parameters()).device
        #: "fp32" or "bf16": ``precision`` resolved for the device (newsrank.precision)
        self.precision = resolve_precision(precision, self.device.type)
        self.batch_size = batch_size
        self.max_length = max_length or self.spec.max_length
        self.model_name_or_path = model_name_or_path
        self._tok_lock = threading.Lock()
        self.check_spec()

    def check_spec(self) -> None:
        """Raise ValueError when the loaded head cannot serve this class (subclasses)."""

    @property
    def labels(self) -> list[str]:
        """The label names, in id order."""
        return list(self.spec.labels)

    def tokenize(self, *args: Any, **kwargs: Any) -> Any:
        with self._tok_lock:
            return self.tokenizer(*args, **kwargs)

    def truncate(self, text: str, max_tokens: int) -> str:
        """:func:`truncate_tokens` with this head's tokenizer (thread safe)."""
        with self._tok_lock:
            return truncate_tokens(self.tokenizer, text, max_tokens)

    def autocast(self) -> Any:
        """The context forward passes run in: bfloat16 autocast or nothing."""
        return autocast(self.precision, self.device.type)

    def forward(self, enc: dict[str, torch.Tensor]) -> Any:
        """One batch through the model (inputs moved to its device); logits may be
        bfloat16 (see :attr:`precision`), so callers convert with ``.float()``."""
        keys = ("input_ids", "attention_mask", "token_type_ids")
        inputs = {k: enc[k].to(self.device) for k in keys if k in enc}
        with torch.inference_mode(), self.autocast():
            return self.model(**inputs)


def batches(items: Sequence[Any], size: int) -> Iterator[tuple[int, Sequence[Any]]]:
    """``(offset, chunk)`` pairs of consecutive chunks of ``items``."""
    for i in range(0, len(items), size):
        yield i, items[i : i + size]


def clean_texts(texts: Sequence[str]) -> list[str]:
    """The texts as a head tokenizes them: lone surrogates replaced, lengths kept.

    A fast tokenizer raises on a surrogate (``newsrank.text``); replacing each with
    U+FFFD, which the tokenizer then drops like a control character, keeps every
    character offset pointing at the same place of the caller's text.
    """
    out = []
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"texts must be strings, got {type(t).__name__}: {t!r:.60}")
        out.append(replace_surrogates(t))
    return out


def truncate_tokens(tokenizer: Any, text: str, max_tokens: int) -> str:
    """The longest prefix of ``text`` holding at most ``max_tokens`` tokens (no special
    tokens), cut after a whole token; ``text`` itself when it fits.

    A text that fits is returned unchanged, so it is tokenized exactly as before.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens={max_tokens} must be at least 1")
    enc = tokenizer(
        text,
        add_special_tokens=False,
        return_offsets_mapping=True,
        truncation=True,
        max_length=max_tokens + 1,
    )
    offsets = enc["offset_mapping"]
    if len(offsets) <= max_tokens:
        return text
    return text[: offsets[max_tokens - 1][1]]


def truncate_each(tokenizer: Any, texts: Sequence[str], max_tokens: int) -> list[str]:
    """:func:`truncate_tokens` of every text, each distinct text cut once (a batch of
    pairs usually repeats one query or question for every passage)."""
    cut = {t: truncate_tokens(tokenizer, t, max_tokens) for t in set(texts)}
    return [cut[t] for t in texts]
