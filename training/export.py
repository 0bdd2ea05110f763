"""Write a trained head directory (the format :mod:`heads.loading` reads), and the
training-side LoRA set-up: which parameters train next to the adapters.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from heads.loading import HeadSpec, wrap_lora

#: Parameters trained in full next to the adapters (head, pooler, LayerNorms).
FULLY_TRAINED = ("classifier", "qa_outputs", "pooler", "LayerNorm")
#: Also trained in full when a head uses the segment embedding for its own signal
#: (the tagger's ``case_segment`` option: capitalisation as token type).
SEGMENT_EMBEDDING = "token_type_embeddings"


def add_lora(model: torch.nn.Module, spec: HeadSpec, dropout: float = 0.0) -> torch.nn.Module:
    """Wrap ``model`` with LoRA adapters; the head, pooler and LayerNorms stay trainable."""
    peft_model = wrap_lora(model, spec, dropout)
    trained = FULLY_TRAINED + ((SEGMENT_EMBEDDING,) if spec.options.get("case_segment") else ())
    for name, p in peft_model.named_parameters():
        if any(part in name for part in trained) and "lora_" not in name:
            p.requires_grad = True
    return peft_model


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The trained parameters of a LoRA model (adapters + fully trained parts)."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def save_head(model: torch.nn.Module, spec: HeadSpec, out_dir: str | Path) -> Path:
    """Write a head directory (weights, head.json, labels.json); returns its path."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if spec.method == "lora":
        state = {n: t.to(torch.float16).contiguous() for n, t in trainable_state(model).items()}
        save_file(state, str(out / "adapter.safetensors"))
    else:
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        base.save_pretrained(out, safe_serialization=True)
    (out / "head.json").write_text(json.dumps(asdict(spec), indent=2) + "\n")
    (out / "labels.json").write_text(json.dumps(dict(enumerate(spec.labels)), indent=2) + "\n")
    return out


def save_embedder(model: Any, spec: HeadSpec, out_dir: str | Path) -> Path:
    """Write an embedder head directory (``head.json``, ``adapter.safetensors``: the
    adapters and LayerNorms of the sentence model's transformer, fp16), the format
    :func:`heads.embedder.load_sentence_model` reads."""
    from safetensors.torch import save_file

    from heads.embedder import TRAINED

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {
        n: p.detach().to(torch.float16).contiguous()
        for n, p in model[0].auto_model.named_parameters()
        if any(part in n for part in TRAINED)
    }
    save_file(state, str(out / "adapter.safetensors"))
    (out / "head.json").write_text(json.dumps(asdict(spec), indent=2) + "\n")
    return out
