"""The hyper-parameters of one training run: :class:`TrainConfig`.

Kept apart from :mod:`training.trainer` and free of heavy imports, so the
``newsrank train`` options (whose defaults come from here) register without torch.

>>> cfg = TrainConfig(epochs=2, lr=1e-3)
>>> cfg.method
'lora'
"""

from __future__ import annotations

from dataclasses import dataclass

from newsrank.errors import TrainingInputError


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (the CLI's options)."""

    epochs: int = 3
    lr: float = 5e-4
    batch_size: int = 16
    max_length: int = 256
    seed: int = 13
    method: str = "lora"  # "lora" or "full"
    lora_r: int = 32
    lora_alpha: int = 64
    lora_dropout: float = 0.0  # 0 keeps LoRA as fast as full fine-tuning on CPU
    warmup: float = 0.06  # fraction of steps
    weight_decay: float = 0.01
    eval_every: int = 0  # steps between held-out evaluations; 0: four per epoch
    patience: int = 3  # evaluations without improvement before stopping
    max_examples: int | None = None  # train on the first N examples (after shuffling)
    # stop after N optimizer steps; the learning-rate schedule is still planned for all
    # epochs, so this reproduces a longer run cut short (unlike fewer epochs or examples)
    max_steps: int | None = None
    threads: int | None = None
    device: str | None = None
    backbone: str = "sentence-transformers/all-MiniLM-L6-v2"
    init: str | None = None  # a saved LoRA head of the same task to continue training from

    def __post_init__(self) -> None:
        if self.method not in ("lora", "full"):
            raise TrainingInputError(
                f"method={self.method!r}: choose 'lora' (--lora) or 'full' (--full)"
            )
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise TrainingInputError("epochs and batch_size must be >= 1 and lr > 0")
        if self.max_steps is not None and self.max_steps < 1:
            raise TrainingInputError(
                f"max_steps={self.max_steps!r}: give at least 1 step, or None to run every epoch"
            )
