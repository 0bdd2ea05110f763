"""The training loop shared by the four heads.

Length-grouped shuffled batches, AdamW with linear warm-up and decay, a tqdm progress
bar, held-out evaluation every ``eval_every`` steps, early stopping on the held-out
metric (the best weights are restored at the end), fixed seeds. The hyper-parameters
are a :class:`training.config.TrainConfig`.
"""

from __future__ import annotations

import logging
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from heads.loading import HeadSpec, build_model, pick_device
from newsrank.errors import TrainingInputError
from newsrank.threads import use_torch_threads
from training.config import TrainConfig
from training.export import add_lora, trainable_state

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    best_metric: float
    steps: int
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def setup(cfg: TrainConfig) -> torch.device:
    """Seeds, thread count and device of a run."""
    seed_everything(cfg.seed)
    use_torch_threads(cfg.threads)
    return pick_device(cfg.device)


def make_model(spec: HeadSpec, cfg: TrainConfig, device: torch.device) -> torch.nn.Module:
    """The backbone with a fresh head, LoRA-wrapped when ``cfg.method == 'lora'``."""
    torch.manual_seed(cfg.seed)
    model = build_model(spec)
    if cfg.method == "lora":
        model = add_lora(model, spec, cfg.lora_dropout)
    if cfg.init:
        from pathlib import Path

        from safetensors.torch import load_file

        weights = Path(cfg.init) / "adapter.safetensors"
        if cfg.method != "lora" or not weights.is_file():
            raise TrainingInputError(
                f"--init {cfg.init}: give a LoRA head directory (adapter.safetensors)"
            )
        model.load_state_dict(load_file(str(weights)), strict=False)
    return model.to(device)


def length_batches(lengths: Sequence[int], batch_size: int, seed: int) -> list[list[int]]:
    """Shuffled batches of similar lengths (less padding), deterministic for a seed.

    >>> sorted(len(b) for b in length_batches([3, 1, 2, 5, 4], 2, seed=0))
    [1, 2, 2]
    """
    rng = random.Random(seed)
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunk = batch_size * 50
    out: list[list[int]] = []
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c : c + chunk], key=lambda i: lengths[i])
        out += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(out)
    return out


def fit(
    model: torch.nn.Module,
    examples: Sequence[dict[str, Any]],
    collate: Callable[[list[dict[str, Any]]], dict[str, torch.Tensor]],
    evaluate: Callable[[torch.nn.Module], dict[str, float]],
    metric: str,
    cfg: TrainConfig,
    device: torch.device,
    loss_fn: Callable[[torch.nn.Module, dict[str, torch.Tensor]], torch.Tensor] | None = None,
    lengths: Sequence[int] | None = None,
    on_best: Callable[[torch.nn.Module], None] | None = None,
) -> FitResult:
    """Train ``model`` on ``examples``; keep the weights best on ``evaluate()[metric]``.

    ``on_best(model)`` runs after each improvement (e.g. to save a checkpoint, so an
    interrupted run still leaves its best head behind). ``cfg.max_steps`` ends the run
    early (with one last evaluation) without changing the schedule planned for all epochs.
    """
    from tqdm import tqdm
    from transformers import get_linear_schedule_with_warmup

    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay}], lr=cfg.lr
    )
    if lengths is None:
        lengths = [len(ex["input_ids"]) for ex in examples]
    per_epoch = math.ceil(len(examples) / cfg.batch_size)
    total = per_epoch * cfg.epochs
    sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup * total), total)
    every = cfg.eval_every or max(1, per_epoch // 4)
    last = min(total, cfg.max_steps) if cfg.max_steps else total
    best, best_state, history, bad = -math.inf, None, [], 0
    start, step, stop = time.time(), 0, False
    bar = tqdm(total=total, desc="train", file=sys.stderr, mininterval=5, dynamic_ncols=True)
    running = 0.0
    for epoch in range(cfg.epochs):
        model.train()
        for batch_idx in length_batches(lengths, cfg.batch_size, cfg.seed + epoch):
            batch = {k: v.to(device) for k, v in collate([examples[i] for i in batch_idx]).items()}
            loss = loss_fn(model, batch) if loss_fn else model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            bar.update(1)
            bar.set_postfix(loss=f"{running:.4f}", epoch=epoch + 1)
            if step % every == 0 or step == last:
                model.eval()
                scores = evaluate(model)
                model.train()
                score = scores[metric]
                history.append(
                    {"step": step, "epoch": round(step / per_epoch, 2), "loss": running, **scores}
                )
                bar.write(f"step {step}: {scores} (loss {running:.4f})")
                if score > best:
                    best, bad = score, 0
                    best_state = trainable_state(model)
                    if on_best is not None:
                        on_best(model)
                else:
                    bad += 1
                    if bad >= cfg.patience:
                        bar.write(f"early stop: {metric} did not improve for {bad} evaluations")
                        stop = True
                        break
                if step == last:
                    stop = True
                    break
        if stop:
            break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state, strict=False)
    model.eval()
    return FitResult(best, step, round(time.time() - start, 1), history)
