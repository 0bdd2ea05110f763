"""Load a head directory for inference (:mod:`training.export` writes it).

A head directory holds:

- ``head.json``: task, backbone (HF id or path; also the tokenizer reference), method
  (``lora`` or ``full``), LoRA settings, max_length and task options;
- ``labels.json``: the label map (id -> label), in id order;
- ``adapter.safetensors`` (LoRA: adapter matrices plus the fully trained head,
  pooler and LayerNorms, fp16) or ``model.safetensors`` + ``config.json`` (full);
- ``metrics.json``: held-out results and the exact training command.

A plain Hugging Face model id or directory without ``head.json`` is loaded as a full
model of the task's class (its ``config.id2label`` gives the labels).

>>> spec = HeadSpec(task="classifier", labels=["a", "b"])
>>> spec.backbone
'sentence-transformers/all-MiniLM-L6-v2'
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from heads.registry import resolve_head
from newsrank.errors import NewsrankError
from newsrank.modelpath import quiet_transformers, resolve_model

DEFAULT_BACKBONE = "sentence-transformers/all-MiniLM-L6-v2"
TASKS = ("classifier", "cross-encoder", "tagger", "reader", "embedder")
#: LoRA on every linear layer of the encoder (not the pooler or head: those train fully).
LORA_TARGET = r".*encoder\.layer\.\d+\..*\.(query|key|value|dense)$"


class HeadLoadError(NewsrankError):
    """A head directory or model id cannot be loaded."""


@dataclass
class HeadSpec:
    """What ``head.json`` records."""

    task: str
    labels: list[str] = field(default_factory=list)
    backbone: str = DEFAULT_BACKBONE
    method: str = "lora"
    lora_r: int = 32
    lora_alpha: int = 64
    max_length: int = 256
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task={self.task!r}: choose one of {', '.join(TASKS)}")
        if self.method not in ("lora", "full"):
            raise ValueError(f"method={self.method!r}: choose 'lora' or 'full'")


def pick_device(device: str | None = None) -> torch.device:
    """``device`` if given, else CUDA when present, else CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_class(task: str) -> Any:
    import transformers as tf

    return {
        "classifier": tf.AutoModelForSequenceClassification,
        "cross-encoder": tf.AutoModelForSequenceClassification,
        "tagger": tf.AutoModelForTokenClassification,
        "reader": tf.AutoModelForQuestionAnswering,
    }[task]


def build_model(spec: HeadSpec) -> torch.nn.Module:
    """A fresh model of the task on the backbone (head randomly initialised)."""
    kwargs: dict[str, Any] = {}
    if spec.task != "reader":
        n = len(spec.labels) or 1
        kwargs = {"num_labels": n}
        if spec.labels:
            kwargs["id2label"] = dict(enumerate(spec.labels))
            kwargs["label2id"] = {lab: i for i, lab in enumerate(spec.labels)}
        if spec.options.get("problem_type"):
            kwargs["problem_type"] = spec.options["problem_type"]
    try:
        with quiet_transformers():
            return model_class(spec.task).from_pretrained(resolve_model(spec.backbone), **kwargs)
    except OSError as exc:
        raise HeadLoadError(
            f"cannot load backbone {spec.backbone!r} ({exc}); give a local path or an HF id "
            "that is cached (HF_HUB_OFFLINE=1 forbids downloads)"
        ) from exc


def wrap_lora(model: torch.nn.Module, spec: HeadSpec, dropout: float = 0.0) -> torch.nn.Module:
    """``model`` wrapped with LoRA adapters as ``spec`` describes (every linear layer of
    the encoder, :data:`LORA_TARGET`); loading fills them, training makes them trainable."""
    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(
        r=spec.lora_r,
        lora_alpha=spec.lora_alpha,
        lora_dropout=dropout,
        target_modules=LORA_TARGET,
        bias="none",
    )
    with warnings.catch_warnings():  # peft calls a deprecated transformers helper
        warnings.simplefilter("ignore", FutureWarning)
        return get_peft_model(model, cfg)


def read_spec(path: str | Path) -> HeadSpec:
    """The :class:`HeadSpec` of a head directory."""
    raw = json.loads((Path(path) / "head.json").read_text())
    return HeadSpec(**raw)


def load_head(
    name_or_path: str, task: str, device: str | None = None
) -> tuple[torch.nn.Module, Any, HeadSpec]:
    """Load ``(model in eval mode on device, tokenizer, spec)`` of a head.

    ``name_or_path``: a shipped head name, a head directory, or a plain HF model id/path.
    """
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    path = resolve_head(name_or_path)
    head_json = Path(path) / "head.json"
    if head_json.is_file():
        spec = read_spec(path)
        if spec.task != task:
            raise HeadLoadError(
                f"{name_or_path!r} is a {spec.task} head, not a {task}; pass a {task} head"
            )
        if spec.method == "lora":
            weights = Path(path) / "adapter.safetensors"
            if not weights.is_file():
                raise HeadLoadError(f"{weights} is missing; re-run the training command")
            model = wrap_lora(build_model(spec), spec)
            state = load_file(str(weights))
            missing = set(state) - {n for n, _ in model.named_parameters()}
            if missing:
                raise HeadLoadError(f"{weights} does not fit the backbone: {sorted(missing)[:3]}")
            model.load_state_dict(state, strict=False)
            model = model.merge_and_unload()
        else:
            with quiet_transformers():
                model = model_class(task).from_pretrained(path)
        tok_ref = spec.backbone
    else:
        if Path(path).exists() and not (Path(path) / "config.json").is_file():
            raise HeadLoadError(
                f"{name_or_path!r} has neither head.json nor config.json; give a head "
                "directory, a shipped name (reranker, reader, tagger, topic-agnews, "
                "topic-bbc) or an HF model id"
            )
        try:
            with quiet_transformers():
                model = model_class(task).from_pretrained(resolve_model(path))
        except (OSError, ValueError) as exc:
            raise HeadLoadError(f"cannot load {name_or_path!r} as a {task}: {exc}") from exc
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        spec = HeadSpec(task=task, labels=labels, backbone=path, method="full")
        tok_ref = path
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(tok_ref))
    dev = pick_device(device)
    model.to(dev).eval()
    return model, tokenizer, spec
