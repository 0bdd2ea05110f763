"""Token tagging: named entities (CoNLL-2003 PER/ORG/LOC/MISC) with character offsets.

>>> tagger = EntityTagger("tagger")
>>> [(e.type, e.text) for e in tagger.tag(["Angela Merkel visited Paris."])[0]]
[('PER', 'Angela Merkel'), ('LOC', 'Paris')]

Text is split into words (runs of letters/digits, or single punctuation marks); each
word's first sub-token carries its tag, as in training. Long texts are read in windows
of :attr:`EntityTagger.words_per_window` words; words past ``max_length`` tokens in a
window, and words the tokenizer drops (control and zero-width characters), are tagged
``O``. Lone surrogates are read as U+FFFD (:func:`heads.base.clean_texts`); entity
offsets and texts always refer to the text as given.

The packaged backbone is *uncased*: its tokenizer lowercases, so "Apple" and "apple"
look alike. A head trained with the ``case_segment`` option gets the lost signal back
through the segment (token type) embedding, unused in single-text tagging: every
sub-token of a capitalised word has segment 1 (see :func:`case_segment_ids`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import torch

from heads.base import HeadModel, clean_texts
from heads.decoding import bio_to_entities
from newsrank.types import Entity

#: Words as CoNLL-2003 splits them: a possessive "'s" is a word of its own
#: ("France's" -> "France", "'s"), other apostrophes stay inside ("O'Neill").
WORD = re.compile(r"\w+(?:[-.]\w+|'(?![sS]\b)\w+)*|'[sS]\b|[^\w\s]")


def split_words(text: str) -> list[tuple[str, int, int]]:
    """Words of ``text`` with their character offsets.

    >>> split_words("U.S. oil, Bank-of-Japan")
    [('U.S', 0, 3), ('.', 3, 4), ('oil', 5, 8), (',', 8, 9), ('Bank-of-Japan', 10, 23)]
    >>> [w for w, _, _ in split_words("France's O'Neill")]
    ['France', "'s", "O'Neill"]
    """
    return [(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]


def first_subtoken_ids(word_ids: Sequence[int | None]) -> list[int]:
    """Token positions that start a word (the ones carrying labels).

    >>> first_subtoken_ids([None, 0, 0, 1, None])
    [1, 3]
    """
    out, prev = [], None
    for i, w in enumerate(word_ids):
        if w is not None and w != prev:
            out.append(i)
        prev = w
    return out


def case_segment_ids(words: Sequence[str], word_ids: Sequence[int | None]) -> list[int]:
    """Token type ids carrying capitalisation: 1 for sub-tokens of words starting with an
    upper-case letter, 0 for everything else (special tokens, padding included).

    >>> case_segment_ids(["Angela", "visited", "NATO"], [None, 0, 0, 1, 2, None])
    [0, 1, 1, 0, 1, 0]
    """
    return [int(w is not None and words[w][:1].isupper()) for w in word_ids]


def predict_word_tags(
    model: torch.nn.Module,
    tokenizer: Any,
    words: Sequence[Sequence[str]],
    labels: Sequence[str],
    max_length: int = 128,
    batch_size: int = 32,
    case_segment: bool = False,
) -> list[list[tuple[str, float]]]:
    """(tag, probability) of every word, read off its first sub-token.

    ``case_segment``: the head was trained with capitalisation as the token type
    (:func:`case_segment_ids`); it must be given the same way here.
    """
    device = next(model.parameters()).device
    results: list[list[tuple[str, float]]] = []
    for i in range(0, len(words), batch_size):
        chunk = [list(w) for w in words[i : i + batch_size]]
        enc = tokenizer(
            chunk,
            is_split_into_words=True,
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        )
        if case_segment:
            enc["token_type_ids"] = torch.tensor(
                [case_segment_ids(sent, enc.word_ids(b)) for b, sent in enumerate(chunk)]
            )
        keys = ("input_ids", "attention_mask", "token_type_ids")
        with torch.inference_mode():
            logits = model(**{k: enc[k].to(device) for k in keys if k in enc}).logits
        probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        for b, sent in enumerate(chunk):
            word_ids = enc.word_ids(b)
            first = {word_ids[t]: t for t in first_subtoken_ids(word_ids)}
            # a word without a token (cut by max_length, or dropped by the tokenizer
            # like a control character) is "O"; the others keep their own tag
            row = [
                (labels[int(probs[b, first[w]].argmax())], float(probs[b, first[w]].max()))
                if w in first
                else ("O", 1.0)
                for w in range(len(sent))
            ]
            results.append(row)
    return results


class EntityTagger(HeadModel):
    """A fine-tuned BIO token tagger."""

    task = "tagger"
    words_per_window = 120
    default_model = "tagger"

    def tag_words(self, words: Sequence[Sequence[str]]) -> list[list[tuple[str, float]]]:
        """(tag, probability) of every word of pre-split sentences."""
        with self._tok_lock, self.autocast():
            return predict_word_tags(
                self.model,
                self.tokenizer,
                words,
                self.labels,
                self.max_length,
                self.batch_size,
                case_segment=bool(self.spec.options.get("case_segment")),
            )

    def tag(self, texts: Sequence[str]) -> list[list[Entity]]:
        """Entities of each text, with character offsets into that text."""
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not one string: wrap it in [...]")
        pieces: list[list[tuple[str, int, int]]] = []
        owner: list[int] = []
        for t, text in enumerate(clean_texts(texts)):
            words = split_words(text)
            for s in range(0, max(len(words), 1), self.words_per_window):
                pieces.append(words[s : s + self.words_per_window])
                owner.append(t)
        tagged = self.tag_words([[w for w, _, _ in p] for p in pieces if p]) if pieces else []
        out: list[list[Entity]] = [[] for _ in texts]
        k = 0
        for p, t in zip(pieces, owner, strict=True):
            if not p:
                continue
            tags = [tg for tg, _ in tagged[k]]
            scores = [sc for _, sc in tagged[k]]
            offsets = [(a, b) for _, a, b in p]
            out[t] += bio_to_entities(tags, offsets, texts[t], scores)
            k += 1
        return out
