"""Helpers shared by the head trainers: padding collate, saving a trained head."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from heads.loading import HeadSpec
from newsrank.invocation import current
from training.config import TrainConfig
from training.export import save_head
from training.trainer import FitResult

PAD_LABEL = -100


def head_spec(
    task: str,
    cfg: TrainConfig,
    labels: list[str] | None = None,
    options: dict[str, Any] | None = None,
) -> HeadSpec:
    """The :class:`HeadSpec` of a head trained with ``cfg`` (backbone, LoRA, length)."""
    return HeadSpec(
        task=task,
        labels=list(labels or []),
        backbone=cfg.backbone,
        method=cfg.method,
        lora_r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        max_length=cfg.max_length,
        options=dict(options or {}),
    )


def pad_collate(pad_id: int = 0) -> Any:
    """A collate function padding ``input_ids``/``attention_mask``/``token_type_ids``
    (and list-valued ``labels`` with -100) to the longest example of the batch."""

    def collate(items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        n = max(len(it["input_ids"]) for it in items)
        out: dict[str, torch.Tensor] = {}
        for key in items[0]:
            vals = [it[key] for it in items]
            if isinstance(vals[0], list):
                fill = {"input_ids": pad_id, "labels": PAD_LABEL}.get(key, 0)
                out[key] = torch.tensor([v + [fill] * (n - len(v)) for v in vals])
            else:
                dtype = torch.float if isinstance(vals[0], float) else torch.long
                out[key] = torch.tensor(vals, dtype=dtype)
        return out

    return collate


def finish(
    model: torch.nn.Module,
    spec: HeadSpec,
    cfg: TrainConfig,
    result: FitResult,
    out_dir: str | Path,
    test: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Path:
    """Save the head and its metrics.json (held-out history, test scores, command)."""
    out = save_head(model, spec, out_dir)
    metrics = {
        "heldout_best": result.best_metric,
        "test": test,
        "history": result.history,
        "train_seconds": result.seconds,
        "steps": result.steps,
        "device": str(next(model.parameters()).device),
        "threads": torch.get_num_threads(),
        "command": current(),  # the exact command that is running
        "config": asdict(cfg),
        "data": data or {},
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return out
