"""Train the reader (extractive QA) head on SQuAD 1.1.

    newsrank train reader --data ../shared/data/squad_v1.1/dev-v1.1.json.gz --out models/reader

Each question becomes one or more windows (``max_length``, ``stride``) over its
paragraph; the target is the answer's first/last token, or [CLS] (0) when the answer is
not wholly inside the window.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from typing import Any

import torch

from corpora.squad import SquadExample, load_squad, parse_slice, squad_scores
from heads.reader import decode_windows, encode_windows, window_logits
from training.common import finish, head_spec, pad_collate
from training.config import TrainConfig
from training.export import save_head
from training.trainer import fit, make_model, setup

log = logging.getLogger(__name__)


def qa_features(
    tokenizer: Any, examples: Sequence[SquadExample], max_length: int, stride: int
) -> list[dict[str, Any]]:
    """Training windows with ``start_positions``/``end_positions`` (first answer)."""
    enc = tokenizer(
        [ex.question.strip() for ex in examples],
        [ex.context for ex in examples],
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    feats = []
    for w, pair in enumerate(enc["overflow_to_sample_mapping"]):
        ex = examples[pair]
        a = ex.answer_starts[0]
        b = a + len(ex.answers[0])
        seq = enc.sequence_ids(w)
        offs = enc["offset_mapping"][w]
        ctx = [i for i, s in enumerate(seq) if s == 1]
        s_pos = e_pos = 0
        if ctx and offs[ctx[0]][0] <= a and offs[ctx[-1]][1] >= b:
            s_pos = next(i for i in ctx if offs[i][1] > a)
            e_pos = next(i for i in reversed(ctx) if offs[i][0] < b)
        feats.append(
            {
                "input_ids": enc["input_ids"][w],
                "attention_mask": enc["attention_mask"][w],
                "token_type_ids": enc["token_type_ids"][w],
                "start_positions": s_pos,
                "end_positions": e_pos,
            }
        )
    return feats


def predict_answers(
    model: torch.nn.Module,
    tokenizer: Any,
    examples: Sequence[SquadExample],
    max_length: int,
    stride: int,
    batch_size: int = 32,
) -> list[str]:
    """The best answer text of each example (one context per question)."""
    device = next(model.parameters()).device
    preds: list[str] = []
    for i in range(0, len(examples), 64):
        chunk = examples[i : i + 64]
        enc = encode_windows(
            tokenizer, [e.question for e in chunk], [e.context for e in chunk], max_length, stride
        )
        s, e = window_logits(model, enc, batch_size, device)
        for answers in decode_windows(enc, s, e, [x.context for x in chunk]):
            preds.append(answers[0].text if answers else "")
    return preds


def evaluate_examples(model: torch.nn.Module, tokenizer: Any, examples, max_length, stride):
    preds = predict_answers(model, tokenizer, examples, max_length, stride)
    return squad_scores(preds, [ex.answers for ex in examples])


def train(args: argparse.Namespace, cfg: TrainConfig) -> dict[str, Any]:
    from transformers import AutoTokenizer

    from newsrank.modelpath import resolve_model

    device = setup(cfg)
    tok = AutoTokenizer.from_pretrained(resolve_model(cfg.backbone))
    train_ex = load_squad(args.data, parse_slice(args.train_articles))
    val_ex = load_squad(args.data, parse_slice(args.val_articles))
    g = torch.Generator().manual_seed(cfg.seed)
    order = torch.randperm(len(train_ex), generator=g).tolist()
    train_ex = [train_ex[i] for i in order][: cfg.max_examples]
    feats = qa_features(tok, train_ex, cfg.max_length, args.stride)
    log.info("%d questions -> %d windows", len(train_ex), len(feats))
    spec = head_spec("reader", cfg, options={"stride": args.stride})
    model = make_model(spec, cfg, device)
    result = fit(
        model,
        feats,
        pad_collate(tok.pad_token_id),
        lambda m: evaluate_examples(m, tok, val_ex, cfg.max_length, args.stride),
        "f1",
        cfg,
        device,
        on_best=lambda m: save_head(m, spec, args.out),
    )
    test = None
    if args.test_articles:
        test_ex = load_squad(args.data, parse_slice(args.test_articles))
        test = evaluate_examples(model, tok, test_ex, cfg.max_length, args.stride)
    data = {"train_questions": len(train_ex), "windows": len(feats), "val_questions": len(val_ex)}
    finish(model, spec, cfg, result, args.out, test, data)
    return {"heldout_f1": result.best_metric, "test": test, "seconds": result.seconds}
