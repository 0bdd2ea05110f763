"""Shared plumbing of the inference classes: loading once, batching, thread safety,
and the input hygiene every head applies (:func:`clean_texts`, :func:`truncate_tokens`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from heads.loading import load_head
from heads.onnx_backend import Int8Graph
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
    #: the model output an int8 ONNX graph returns ("logits"); None: torch only, where
    #: "int8" means what "auto" means for torch (newsrank.precision)
    int8_output: str | None = None
    #: the batch size the int8 calibration times (a rerank of 10 passages)
    calibration_batch = 10

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
        self.batch_size = batch_size
        self.max_length = max_length or self.spec.max_length
        self.model_name_or_path = model_name_or_path
        self._tok_lock = threading.Lock()
        self.check_spec()
        #: the int8 graph of :attr:`model` (opened only where precision resolves to int8)
        self.int8 = Int8Graph(self.open_int8)
        #: "fp32", "bf16" or (a class with :attr:`int8_output`) "int8": ``precision``
        #: resolved for the device and model (newsrank.precision)
        self.precision = self.resolve(precision)

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
        bfloat16 (see :attr:`precision`), so callers convert with ``.float()``.
        At int8 the ONNX graph runs instead, returning the same output field."""
        if self.precision == "int8":
            from types import SimpleNamespace

            return SimpleNamespace(**{self.int8_output: torch.from_numpy(self.int8.run(enc))})
        keys = ("input_ids", "attention_mask", "token_type_ids")
        inputs = {k: enc[k].to(self.device) for k in keys if k in enc}
        with torch.inference_mode(), self.autocast():
            return self.model(**inputs)

    def resolve(self, precision: str) -> str:
        """``precision`` for this head: torch only (:func:`resolve_precision`) unless the
        class has an int8 path, where ``auto`` is calibrated on this CPU
        (:func:`newsrank.precision.resolve_with_int8`)."""
        if self.int8_output is None:
            return resolve_precision(precision, self.device.type)
        from heads.onnx_backend import model_shape

        shape = model_shape(self.model, self.max_length, self.calibration_batch)
        return self.int8.resolve(precision, self.device.type, self.task, shape, self.calibrate)

    def int8_sample(self) -> dict[str, torch.Tensor]:
        """One tokenized batch, with padding, to trace the export (subclasses)."""
        raise NotImplementedError

    def calibration_runs(self) -> dict[str, Any]:
        """``{"torch": fn(precision), "int8": fn()}`` timing one typical batch (subclasses)."""
        raise NotImplementedError

    def open_int8(self) -> Any:
        """The int8 ONNX graph of this head's model (exported on first use)."""
        from heads.onnx_backend import default_spec, load_int8

        spec = default_spec(self.task, str(self.int8_output), self.max_length)
        return load_int8(self.model, spec, self.int8_sample())

    def calibrate(self, candidates: list[str]) -> dict[str, float]:
        """Seconds of one typical batch with each candidate precision."""
        from heads.onnx_backend import time_candidates

        runs = self.calibration_runs()
        timed = {p: (lambda p=p: runs["torch"](p)) for p in candidates if p != "int8"}
        timed["int8"] = runs["int8"]
        return time_candidates(timed)


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
