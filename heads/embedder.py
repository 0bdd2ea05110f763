"""The dense embedder as a head: a sentence-transformers model, optionally news-adapted.

An embedder head directory (``newsrank train embedder`` writes it) holds ``head.json``
(task ``embedder``, the backbone, LoRA settings, max_length) and
``adapter.safetensors``: LoRA adapters on the encoder's linear layers and its
LayerNorms, fp16. :func:`load_sentence_model` loads the backbone, applies the adapters
and merges them, so inference costs exactly what the backbone costs.

Anything else (a hub id, a local sentence-transformers directory, the packaged
MiniLM) loads as a plain sentence-transformers model.

>>> embedder_spec().task
'embedder'
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heads.loading import DEFAULT_BACKBONE, LORA_TARGET, HeadLoadError, HeadSpec, read_spec
from heads.registry import resolve_head
from newsrank.modelpath import quiet_transformers, resolve_model

#: What trains next to the adapters (and ships with them: training.export.save_embedder).
TRAINED = ("lora_", "LayerNorm")


SIDES = ("query", "both")


def embedder_spec(
    backbone: str = DEFAULT_BACKBONE,
    lora_r: int = 32,
    lora_alpha: int = 64,
    max_length: int = 256,
    side: str = "query",
) -> HeadSpec:
    """The ``head.json`` record of an embedder head.

    ``side``: ``"query"``, the adapters embed queries only and passages keep the
    backbone's vectors (an index of the backbone stays valid, and adapting costs no
    re-embedding); ``"both"``, queries and passages go through the adapters.
    """
    if side not in SIDES:
        raise ValueError(f"side={side!r}: choose 'query' or 'both'")
    return HeadSpec(
        task="embedder",
        backbone=backbone,
        method="lora",
        lora_r=lora_r,
        lora_alpha=lora_alpha,
        max_length=max_length,
        options={"pooling": "mean", "normalize": True, "side": side},
    )


@dataclass
class EmbedderModels:
    """What an embedder name loads to: the passage model, the query model (the same
    object unless the head adapts queries only) and the name of the passage side (the
    vectors an index holds: the backbone's for a query-side head)."""

    passages: Any
    queries: Any
    passage_model: str


def is_embedder_head(name_or_path: str) -> bool:
    """Whether ``name_or_path`` names an embedder head directory (shipped or not)."""
    head = Path(resolve_head(name_or_path)) / "head.json"
    return head.is_file() and read_spec(head.parent).task == "embedder"


def sentence_model(name_or_path: str, device: str | None = None) -> Any:
    """A plain sentence-transformers model (hub id, local directory, packaged MiniLM)."""
    from sentence_transformers import SentenceTransformer

    with quiet_transformers():
        return SentenceTransformer(resolve_model(name_or_path), device=device)


def lora_embedder(model: Any, spec: HeadSpec, trainable: bool = False) -> Any:
    """Put LoRA adapters, as ``spec`` says, into the transformer of sentence-transformers
    ``model`` (in place: its forward runs through them); ``trainable``: the adapters and
    LayerNorms train, nothing else. Returns the peft wrapper (``merge_and_unload``)."""
    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(
        r=spec.lora_r, lora_alpha=spec.lora_alpha, target_modules=LORA_TARGET, bias="none"
    )
    transformer = model[0].auto_model
    with warnings.catch_warnings():  # peft calls a deprecated transformers helper
        warnings.simplefilter("ignore", FutureWarning)
        wrapper = get_peft_model(transformer, cfg)
    for name, p in transformer.named_parameters():
        p.requires_grad = trainable and any(part in name for part in TRAINED)
    return wrapper


def load_embedder_models(name_or_path: str, device: str | None = None) -> EmbedderModels:
    """The passage and query models of ``name_or_path`` (see :class:`EmbedderModels`)."""
    if not is_embedder_head(name_or_path):
        model = load_sentence_model(name_or_path, device)
        return EmbedderModels(model, model, name_or_path)
    spec = read_spec(resolve_head(name_or_path))
    adapted = load_sentence_model(name_or_path, device)
    if spec.options.get("side", "both") == "query":
        return EmbedderModels(sentence_model(spec.backbone, device), adapted, spec.backbone)
    return EmbedderModels(adapted, adapted, name_or_path)


def load_sentence_model(name_or_path: str, device: str | None = None) -> Any:
    """A sentence-transformers model for ``name_or_path``: an embedder head (shipped
    name or directory) becomes its backbone with the adapters merged in; anything else
    loads as it is."""
    path = Path(resolve_head(name_or_path))
    if not (path / "head.json").is_file():
        return sentence_model(name_or_path, device)
    spec = read_spec(path)
    if spec.task != "embedder":
        raise HeadLoadError(
            f"{name_or_path!r} is a {spec.task} head, not an embedder; pass an embedder "
            "head, a sentence-transformers model or an HF id"
        )
    weights = path / "adapter.safetensors"
    if not weights.is_file():
        raise HeadLoadError(f"{weights} is missing; re-run `newsrank train embedder`")
    from safetensors.torch import load_file

    model = sentence_model(spec.backbone, device)
    wrapper = lora_embedder(model, spec)
    transformer = model[0].auto_model
    state = load_file(str(weights))
    missing = set(state) - {n for n, _ in transformer.named_parameters()}
    if missing:
        raise HeadLoadError(f"{weights} does not fit the backbone: {sorted(missing)[:3]}")
    transformer.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    wrapper.merge_and_unload()  # in place: the transformer's layers become plain again
    model.max_seq_length = spec.max_length
    model.eval()
    return model
