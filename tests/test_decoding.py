"""Pure decoding: span choice, BIO -> entities, reader windows."""

from __future__ import annotations

import numpy as np
import pytest

from heads.decoding import (
    SpanChoice,
    best_span,
    bio_labels,
    bio_to_entities,
    softmax,
    top_spans,
)
from newsrank.types import Entity

CONTEXT = (
    "Some experts report that a mask's efficacy is inconclusive. However, mask makers "
    "insist that their products, such as N95 respirator masks, can guard against the virus."
)
QUESTION = "Who say that N95 respirator masks can guard against the virus?"


def test_best_span_prefers_highest_sum_with_start_before_end():
    s = np.array([-10.0, 1.0, 4.0, 0.0])
    e = np.array([9.0, 3.0, 0.0, 2.0])  # e[0] is high but lies before every good start
    span = best_span(s, e, np.ones(4, bool), max_answer_len=5)
    assert (span.start, span.end) == (2, 3)
    assert span.score == pytest.approx(6.0)


def test_best_span_respects_max_length_and_mask():
    s = np.array([10.0, 5.0, 0.0, 0.0])
    e = np.array([0.0, 0.0, 0.0, 10.0])
    allowed = np.array([False, True, True, True])
    assert best_span(s, e, allowed, max_answer_len=3) == SpanChoice(1, 3, 15.0)
    assert best_span(s, e, allowed, max_answer_len=2) == SpanChoice(3, 3, 10.0)
    assert best_span(s, e, np.zeros(4, bool), 3) is None


def test_top_spans_sorted_and_validated():
    spans = top_spans([1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [True] * 3, 3, k=3)
    assert [round(x.score, 1) for x in spans] == sorted([x.score for x in spans], reverse=True)
    assert all(x.start <= x.end for x in spans)
    with pytest.raises(ValueError, match="same length"):
        top_spans([1.0], [1.0, 2.0], [True], 3)
    with pytest.raises(ValueError, match="max_answer_len"):
        top_spans([1.0], [1.0], [True], 0)


def test_softmax_sums_to_one():
    assert softmax([1.0, 2.0, 3.0]).sum() == pytest.approx(1.0)


def _mask_window():
    from transformers import AutoTokenizer

    from heads.reader import encode_windows
    from newsrank.modelpath import resolve_model

    tok = AutoTokenizer.from_pretrained(resolve_model("sentence-transformers/all-MiniLM-L6-v2"))
    return encode_windows(tok, [QUESTION], [CONTEXT], max_length=128, stride=32)


def test_reader_worked_example_decodes_mask_makers():
    from heads.reader import decode_windows

    enc = _mask_window()
    tokens = enc.tokens(0)
    seq = enc.sequence_ids(0)
    n = len(tokens)
    ctx = [i for i in range(n) if seq[i] == 1]
    q = [i for i in range(n) if seq[i] == 0]
    mask_i = next(i for i in ctx if tokens[i] == "mask" and tokens[i + 1] == "makers")
    start, end = np.zeros((1, n)), np.zeros((1, n))
    start[0, mask_i], end[0, mask_i + 1] = 8.0, 8.0
    # Traps: a better span inside the question, an end before the start, padding/[SEP].
    q_n95 = next(i for i in q if tokens[i] == "n" and tokens[i + 1] == "##9")
    start[0, q_n95], end[0, q_n95 + 4] = 20.0, 20.0
    end[0, mask_i - 3] = 15.0
    start[0, 0] = end[0, 0] = 30.0  # [CLS]
    start[0, n - 1] = end[0, n - 1] = 30.0  # [SEP]
    answers = decode_windows(enc, start, end, [CONTEXT], top_k=1, max_answer_len=30)
    best = answers[0][0]
    assert best.text == "mask makers"
    assert CONTEXT[best.start : best.end] == "mask makers"
    assert 0.0 <= best.score <= 1.0


def test_reader_windows_map_offsets_back_in_long_context():
    from transformers import AutoTokenizer

    from heads.reader import decode_windows, encode_windows
    from newsrank.modelpath import resolve_model

    tok = AutoTokenizer.from_pretrained(resolve_model("sentence-transformers/all-MiniLM-L6-v2"))
    context = " ".join(["filler words here."] * 60) + " The capital is Zanzibar City."
    enc = encode_windows(tok, ["What is the capital?"], [context], max_length=64, stride=16)
    n_win = enc["input_ids"].shape[0]
    assert n_win > 1
    start = np.zeros(enc["input_ids"].shape)
    end = np.zeros(enc["input_ids"].shape)
    last = n_win - 1
    toks = enc.tokens(last)
    i = toks.index("za")
    start[last, i], end[last, i + 3] = 9.0, 9.0
    best = decode_windows(enc, start, end, [context])[0][0]
    assert best.text == "Zanzibar City"


def test_bio_to_entities_offsets_and_scores():
    text = "Angela Merkel met the New York Times in Paris ."
    words = text.split()
    offs, pos = [], 0
    for w in words:
        a = text.index(w, pos)
        offs.append((a, a + len(w)))
        pos = a + len(w)
    tags = ["B-PER", "I-PER", "O", "O", "B-ORG", "I-ORG", "I-ORG", "O", "B-LOC", "O"]
    ents = bio_to_entities(tags, offs, text, scores=[0.9, 0.7] + [1.0] * 8)
    assert [(e.type, e.text) for e in ents] == [
        ("PER", "Angela Merkel"),
        ("ORG", "New York Times"),
        ("LOC", "Paris"),
    ]
    assert ents[0] == Entity("PER", "Angela Merkel", 0, 13, pytest.approx(0.8))
    assert all(text[e.start : e.end] == e.text for e in ents)


def test_bio_stray_inside_tag_starts_entity_and_type_change_splits():
    text = "a b c"
    offs = [(0, 1), (2, 3), (4, 5)]
    ents = bio_to_entities(["I-LOC", "I-ORG", "O"], offs, text)
    assert [(e.type, e.text) for e in ents] == [("LOC", "a"), ("ORG", "b")]
    with pytest.raises(ValueError, match="offsets"):
        bio_to_entities(["O"], [], text)


def test_bio_labels():
    assert bio_labels(["PER"]) == ["O", "B-PER", "I-PER"]
    assert bio_labels([]) == ["O"]
