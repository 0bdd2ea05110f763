"""Extractive question answering: the best answer span in a set of passages.

>>> reader = Reader("reader")
>>> reader.answer("Who wrote Hamlet?", ["Hamlet is a tragedy by William Shakespeare."])[0].text
'William Shakespeare'

Long passages are read in overlapping windows (``stride`` tokens shared); a span never
touches the question, special tokens or padding; character offsets map back into the
given passage. Confidence: see :class:`newsrank.types.Answer`.

Any input is read, never refused with a tokenizer error: a question longer than
:func:`question_token_limit` (a quarter of ``max_length``: 64 tokens for the shipped
reader, whose SQuAD test questions have at most 38) keeps its first that many tokens,
so every window still holds more than ``stride`` tokens of the passage; a question
with no tokens at all (only control or zero-width characters) gets no answer (an
empty list); lone surrogates are read as U+FFFD (:func:`heads.base.clean_texts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from heads.base import HeadModel, clean_texts, truncate_each
from heads.decoding import softmax, top_spans
from newsrank.types import Answer


def question_token_limit(max_length: int, stride: int) -> int:
    """The most tokens of a question the reader keeps: a quarter of ``max_length``,
    and fewer if needed so that a window has room for more than ``stride`` tokens of
    the passage besides the question and 3 special tokens (the tokenizer refuses to
    cut windows otherwise).

    >>> question_token_limit(256, 64), question_token_limit(8, 3)
    (64, 1)
    """
    return max(1, min(max_length // 4, max_length - stride - 4))


def encode_windows(
    tokenizer: Any,
    questions: Sequence[str],
    contexts: Sequence[str],
    max_length: int = 256,
    stride: int = 64,
) -> Any:
    """Tokenize (question, context) pairs into windows over the context.

    The result has ``overflow_to_sample_mapping`` (window -> pair) and
    ``offset_mapping`` (token -> characters of the context); ``sequence_ids(w)`` tells
    the context's tokens (1) from the question's (0) and special tokens (None).
    Questions are stripped and cut to :func:`question_token_limit` tokens; lone
    surrogates are replaced one for one, so context offsets stay valid.
    """
    if len(questions) != len(contexts):
        raise ValueError(f"{len(questions)} questions but {len(contexts)} contexts")
    if stride >= max_length // 2:
        raise ValueError(f"stride={stride} must be under half of max_length={max_length}")
    limit = question_token_limit(max_length, stride)
    questions = [q.strip() for q in clean_texts(questions)]
    return tokenizer(
        truncate_each(tokenizer, questions, limit),
        clean_texts(contexts),
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="longest",
        return_tensors="pt",
    )


def window_logits(
    model: torch.nn.Module, enc: Any, batch_size: int, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end logits of every window, shape (windows, tokens)."""
    starts, ends = [], []
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    with torch.inference_mode():
        for i in range(0, enc["input_ids"].shape[0], batch_size):
            out = model(**{k: enc[k][i : i + batch_size].to(device) for k in keys})
            starts.append(out.start_logits.float().cpu().numpy())
            ends.append(out.end_logits.float().cpu().numpy())
    return np.concatenate(starts), np.concatenate(ends)


def decode_windows(
    enc: Any,
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    contexts: Sequence[str],
    top_k: int = 1,
    max_answer_len: int = 30,
) -> list[list[Answer]]:
    """The ``top_k`` answers of every (question, context) pair, best first.

    ``context_index`` of each answer is the pair's index. The score is
    ``p_start * p_end`` with softmaxes over the window's context tokens and [CLS].
    """
    found: list[list[Answer]] = [[] for _ in contexts]
    mapping = enc["overflow_to_sample_mapping"].tolist()
    offsets = enc["offset_mapping"].tolist()
    for w, pair in enumerate(mapping):
        seq = enc.sequence_ids(w)
        if 0 not in seq:
            continue  # a question with no tokens asks nothing: no answer
        allowed = np.array([s == 1 for s in seq])
        scored = allowed.copy()
        scored[0] = True  # [CLS]: the "no answer here" option of the softmaxes
        ps = np.zeros(len(seq))
        pe = np.zeros(len(seq))
        ps[scored] = softmax(start_logits[w][scored])
        pe[scored] = softmax(end_logits[w][scored])
        for span in top_spans(start_logits[w], end_logits[w], allowed, max_answer_len, top_k):
            a, b = offsets[w][span.start][0], offsets[w][span.end][1]
            text = contexts[pair][a:b]
            found[pair].append(Answer(text, float(ps[span.start] * pe[span.end]), a, b, pair))
    out = []
    for answers in found:
        best: dict[tuple[int, int], Answer] = {}
        for ans in answers:
            key = (ans.start, ans.end)
            if key not in best or ans.score > best[key].score:
                best[key] = ans
        out.append(sorted(best.values(), key=lambda x: -x.score)[:top_k])
    return out


class Reader(HeadModel):
    """A fine-tuned extractive QA head."""

    task = "reader"
    default_model = "reader"

    def __init__(
        self,
        model_name_or_path: str | None = None,
        device: str | None = None,
        batch_size: int = 32,
        max_length: int | None = None,
        precision: str = "auto",
        stride: int | None = None,
    ) -> None:
        super().__init__(model_name_or_path, device, batch_size, max_length, precision)
        self.stride = stride or int(self.spec.options.get("stride", 64))

    def _read(
        self, questions: Sequence[str], contexts: Sequence[str], top_k: int, max_answer_len: int
    ) -> list[list[Answer]]:
        if not contexts:
            return []
        enc = self.tokenize_windows(questions, contexts)
        with self.autocast():
            s, e = window_logits(self.model, enc, self.batch_size, self.device)
        return decode_windows(enc, s, e, contexts, top_k, max_answer_len)

    def tokenize_windows(self, questions: Sequence[str], contexts: Sequence[str]) -> Any:
        with self._tok_lock:
            return encode_windows(self.tokenizer, questions, contexts, self.max_length, self.stride)

    def answer(
        self,
        question: str,
        contexts: list[str],
        top_k: int = 1,
        max_answer_len: int = 30,
    ) -> list[Answer]:
        """The ``top_k`` best answers to ``question`` over all ``contexts``, best first;
        an empty list when there is nothing to read (no context or passage tokens, a
        question without tokens). An empty or blank question is a ValueError."""
        if not question.strip():
            raise ValueError("question is empty: give a question to answer")
        per = self._read([question] * len(contexts), contexts, top_k, max_answer_len)
        return sorted((a for answers in per for a in answers), key=lambda a: -a.score)[:top_k]

    def answer_pairs(
        self, questions: Sequence[str], contexts: Sequence[str], max_answer_len: int = 30
    ) -> list[Answer | None]:
        """The best answer of each (question, context) pair, batched (for evaluation)."""
        out: list[Answer | None] = []
        step = max(self.batch_size, 1)
        for i in range(0, len(questions), step):
            per = self._read(questions[i : i + step], contexts[i : i + step], 1, max_answer_len)
            out += [answers[0] if answers else None for answers in per]
        return out
