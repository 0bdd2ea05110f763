"""Adapt the dense embedder to news: LoRA over MiniLM, MultipleNegativesRankingLoss.

    D=../shared/data
    newsrank train embedder --out heads/shipped/news-embedder --max-length 192 \\
        --data news#800,reuters:$D/reuters21578#300,agnews:$D/ag_news#400,\\
squad:$D/squad_v1.1/dev-v1.1.json.gz#500,scifact:$D/beir/scifact#400

``--data`` and the validation set: :mod:`training.embed_sources`.

The loss is sentence-transformers' :class:`MultipleNegativesRankingLoss` on
(query, positive, hard negative) triples: every other positive and negative of the
batch is an in-batch negative, and the BM25-mined one is hard. Only LoRA adapters on
the encoder's linear layers (and its LayerNorms) train; the shipped head is those
weights (a few MB), merged into the backbone when :mod:`heads.embedder` loads it.

Early stopping: MRR@10 of the validation set of held-out news articles
(:func:`training.embed_sources.validation_set`).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from newsrank.invocation import current
from training.config import TrainConfig
from training.embed_pairs import EmbedPair, write_prepared
from training.embed_sources import training_data


def mrr_at_10(q: np.ndarray, d: np.ndarray, target: list[int]) -> float:
    """MRR@10 of ``target[i]`` among the rows of ``d`` ranked by ``q[i] @ d.T``.

    >>> q = np.eye(2, dtype="float32"); mrr_at_10(q, q, [0, 0])
    0.75
    """
    scores = q @ d.T
    total = 0.0
    for i, t in enumerate(target):
        rank = int((scores[i] > scores[i, t]).sum()) + 1
        total += 1.0 / rank if rank <= 10 else 0.0
    return total / len(target)


def build_model(cfg: TrainConfig, device: torch.device, side: str) -> Any:
    """The backbone sentence-transformers model with trainable LoRA adapters."""
    from heads.embedder import embedder_spec, lora_embedder, sentence_model

    spec = embedder_spec(cfg.backbone, cfg.lora_r, cfg.lora_alpha, cfg.max_length, side)
    model = sentence_model(spec.backbone, str(device))
    model.max_seq_length = cfg.max_length
    lora_embedder(model, spec, trainable=True)  # in place
    return model, spec


COLUMNS = ("query", "positive", "negative")


def triple_collate(model: Any) -> Any:
    """A collate function tokenizing a batch of :class:`EmbedPair` into one tensor dict,
    the keys prefixed by column (``query.input_ids``...), as :func:`training.trainer.fit`
    moves it to the device."""

    # sentence-transformers 6 renamed ``tokenize`` to ``preprocess``
    tokenize = getattr(model, "preprocess", None) or model.tokenize

    def collate(items: list[EmbedPair]) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for col in COLUMNS:
            features = tokenize([getattr(p, col) for p in items])
            out.update({f"{col}.{k}": v for k, v in features.items() if torch.is_tensor(v)})
        return out

    return collate


def query_collate(model: Any, row: dict[str, int]) -> Any:
    """A collate function for query-side training: the tokenized queries, and the rows
    of the positive and negative passages in the frozen passage vectors (``row``: text
    -> row)."""
    tokenize = getattr(model, "preprocess", None) or model.tokenize

    def collate(items: list[EmbedPair]) -> dict[str, torch.Tensor]:
        out = {
            f"query.{k}": v
            for k, v in tokenize([p.query for p in items]).items()
            if torch.is_tensor(v)
        }
        out["positive.row"] = torch.tensor([row[p.positive] for p in items])
        out["negative.row"] = torch.tensor([row[p.negative] for p in items])
        return out

    return collate


def query_mnrl_loss(loss: Any, passages: torch.Tensor) -> Any:
    """``loss_fn(model, batch)``: MNRL of the embedded queries against the frozen
    vectors of their positives and hard negatives (every other one of the batch is an
    in-batch negative), as :func:`mnrl_loss` but with the passage side fixed."""

    def loss_fn(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        features = {k.split(".", 1)[1]: v for k, v in batch.items() if k.startswith("query.")}
        q = model(features)["sentence_embedding"].float()
        vectors = passages.to(q.device)
        pos, neg = vectors[batch["positive.row"]], vectors[batch["negative.row"]]
        return loss.compute_loss_from_embeddings([q, pos, neg], None)

    return loss_fn


def passage_vectors(backbone: str, texts: list[str], max_length: int, bf16: bool) -> torch.Tensor:
    """Unit vectors of ``texts`` from the frozen backbone (what an index of it holds)."""
    from heads.embedder import sentence_model

    model = sentence_model(backbone)
    model.max_seq_length = max_length
    device = model.device.type
    with torch.inference_mode(), torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
        vectors = model.encode(
            texts, batch_size=64, normalize_embeddings=True, show_progress_bar=True
        )
    return torch.tensor(np.asarray(vectors, dtype=np.float32))


def mnrl_loss(loss: Any, bf16: bool) -> Any:
    """``loss_fn(model, batch)`` for :func:`training.trainer.fit`: the three columns'
    embeddings (under bfloat16 autocast when ``bf16``), then MNRL in float32."""

    def loss_fn(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        device = next(iter(batch.values())).device
        embeddings = []
        for col in COLUMNS:
            features = {k.split(".", 1)[1]: v for k, v in batch.items() if k.startswith(col)}
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                embeddings.append(model(features)["sentence_embedding"].float())
        return loss.compute_loss_from_embeddings(embeddings, None)

    return loss_fn


def train(args: argparse.Namespace, cfg: TrainConfig) -> dict[str, Any]:
    """Train, keep the best validation checkpoint, save the head; returns its metrics."""
    from training.export import save_embedder
    from training.trainer import fit, seed_everything, setup

    try:
        from sentence_transformers.sentence_transformer.losses import (
            MultipleNegativesRankingLoss,
        )
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.losses import MultipleNegativesRankingLoss

    device = setup(cfg)
    seed_everything(cfg.seed)
    started = time.time()
    side = args.side
    pairs, (vq, vpool, vtarget) = training_data(args, cfg)
    counts: dict[str, int] = {}
    for p in pairs:
        counts[f"{p.source}/{p.kind}"] = counts.get(f"{p.source}/{p.kind}", 0) + 1
    print(f"{len(pairs)} pairs {counts}; validation {len(vq)} queries, pool {len(vpool)}")
    print(f"data ready in {time.time() - started:.0f} s", flush=True)
    if args.write_data:
        path = write_prepared(args.write_data, pairs, (vq, vpool, vtarget), current())
        return {"prepared": str(path), "pairs": counts, "validation_queries": len(vq)}

    model, spec = build_model(cfg, device, side)
    amp = bool(args.bf16)
    loss = MultipleNegativesRankingLoss(model, scale=args.scale)
    if side == "query":  # the passage side is the frozen backbone: embed it once
        texts = list(dict.fromkeys([p.positive for p in pairs] + [p.negative for p in pairs]))
        frozen = passage_vectors(cfg.backbone, texts + vpool, cfg.max_length, amp)
        row = {t: i for i, t in enumerate(texts)}
        collate, loss_fn = query_collate(model, row), query_mnrl_loss(loss, frozen[: len(texts)])
        pool_vectors = frozen[len(texts) :].numpy()
        print(f"{len(texts) + len(vpool)} passages embedded by {time.time() - started:.0f} s")
    else:
        collate, loss_fn = triple_collate(model), mnrl_loss(loss, amp)
        pool_vectors = None

    def evaluate(m: Any) -> dict[str, float]:
        with torch.inference_mode():
            qv = m.encode(vq, batch_size=64, normalize_embeddings=True)
            dv = pool_vectors
            if dv is None:
                dv = m.encode(vpool, batch_size=64, normalize_embeddings=True)
        return {"mrr@10": round(mrr_at_10(np.asarray(qv), np.asarray(dv), vtarget), 4)}

    before = evaluate(model)["mrr@10"]
    print(f"before training: validation MRR@10 {before}", flush=True)
    t0 = time.time()
    result = fit(
        model,
        pairs,
        collate,
        evaluate,
        "mrr@10",
        cfg,
        device,
        loss_fn=loss_fn,
        lengths=[len(p.query.split() if side == "query" else p.positive.split()) for p in pairs],
        on_best=lambda m: save_embedder(m, spec, args.out),
    )
    out = save_embedder(model, spec, args.out)
    if result.best_metric <= before:
        print(
            f"warning: no evaluation beat the backbone (validation MRR@10 {before}); "
            f"the head saved in {out} is the best of training, not an improvement"
        )
    metrics = {
        "heldout_best": result.best_metric,
        "heldout_before": before,
        "validation": "MRR@10 of ICT and headline queries of held-out demo articles",
        "history": result.history,
        "train_seconds": round(time.time() - t0, 1),
        "steps": result.steps,
        "pairs": counts,
        "bf16": amp,
        "side": side,
        "passage_words": args.passage_words,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "command": current(),
        "config": asdict(cfg),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
