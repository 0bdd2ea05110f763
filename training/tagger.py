"""Train the entity tagger head (CoNLL-2003 BIO, first sub-token of each word labelled).

    newsrank train tagger --data ../shared/data/conll2003 --out models/tagger

``--data`` is the folder holding ``train.txt``, ``valid.txt`` (early stopping) and
``test.txt`` (scored once at the end with seqeval: :func:`corpora.conll.seqeval_scores`).
``--val-sentences`` caps the validation sentences.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import seqeval  # noqa: F401  (scores the test split at the end: fail now, not after training)

from corpora.conll import ENTITY_TYPES, Sentence, read_conll, seqeval_scores
from heads.decoding import bio_labels
from heads.tagger import case_segment_ids, first_subtoken_ids, predict_word_tags
from training.common import PAD_LABEL, finish, head_spec, pad_collate
from training.config import TrainConfig
from training.export import save_head
from training.trainer import fit, make_model, setup


def encode(
    tok: Any,
    sents: Sequence[Sentence],
    label2id: dict[str, int],
    max_length: int,
    case_segment: bool = False,
):
    words = [w for w, _ in sents]
    enc = tok(words, is_split_into_words=True, truncation=True, max_length=max_length)
    feats = []
    for i, (_, tags) in enumerate(sents):
        word_ids = enc.word_ids(i)
        labels = [PAD_LABEL] * len(word_ids)
        for t in first_subtoken_ids(word_ids):
            labels[t] = label2id[tags[word_ids[t]]]
        feats.append(
            {
                "input_ids": enc["input_ids"][i],
                "attention_mask": enc["attention_mask"][i],
                "token_type_ids": (
                    case_segment_ids(words[i], word_ids)
                    if case_segment
                    else enc["token_type_ids"][i]
                ),
                "labels": labels,
            }
        )
    return feats


def evaluate(
    model, tok, sents: Sequence[Sentence], labels, max_length, case_segment: bool = False
) -> dict[str, Any]:
    words = [w for w, _ in sents]
    tagged = predict_word_tags(model, tok, words, labels, max_length, 64, case_segment)
    return seqeval_scores([t for _, t in sents], [[tg for tg, _ in row] for row in tagged])


def summary(scores: dict[str, Any]) -> dict[str, Any]:
    """The scores without the per-type table (for the progress log)."""
    return {k: v for k, v in scores.items() if k != "per_type"}


def train(args: argparse.Namespace, cfg: TrainConfig) -> dict[str, Any]:
    import torch
    from transformers import AutoTokenizer

    from newsrank.modelpath import resolve_model

    device = setup(cfg)
    tok = AutoTokenizer.from_pretrained(resolve_model(cfg.backbone))
    root = Path(args.data)
    train_s = read_conll(root / "train.txt")
    val_s = read_conll(root / "valid.txt")[: args.val_sentences]
    g = torch.Generator().manual_seed(cfg.seed)
    order = torch.randperm(len(train_s), generator=g).tolist()
    train_s = [train_s[i] for i in order][: cfg.max_examples]
    labels = bio_labels(ENTITY_TYPES)
    label2id = {lab: i for i, lab in enumerate(labels)}
    case = bool(getattr(args, "case_segment", True))
    options = {"scheme": "IOB2", "label_first_subtoken": True, "case_segment": case}
    spec = head_spec("tagger", cfg, labels=labels, options=options)
    model = make_model(spec, cfg, device)
    result = fit(
        model,
        encode(tok, train_s, label2id, cfg.max_length, case),
        pad_collate(tok.pad_token_id),
        lambda m: summary(evaluate(m, tok, val_s, labels, cfg.max_length, case)),
        "f1",
        cfg,
        device,
        on_best=lambda m: save_head(m, spec, args.out),
    )
    test = None
    if (root / "test.txt").is_file():
        test_s = read_conll(root / "test.txt")
        test = evaluate(model, tok, test_s, labels, cfg.max_length, case)
    data = {"train_sentences": len(train_s), "val_sentences": len(val_s)}
    finish(model, spec, cfg, result, args.out, test, data)
    return {"heldout_f1": result.best_metric, "test": test, "seconds": result.seconds}
