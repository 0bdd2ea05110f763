"""Numeric precision of inference: float32, or bfloat16 where the CPU does it natively.

Recent x86 CPUs (AVX512-BF16, AMX) multiply bfloat16 matrices in hardware. Running
the embedder and the heads under ``torch.autocast(..., dtype=torch.bfloat16)`` there
is 2-2.5x faster, and the results barely move (docs/benchmarks.md: embeddings keep a
cosine of 0.99998 with the float32 ones; every head's held-out metric was re-measured).
``"auto"`` picks bfloat16 only on such a CPU; elsewhere (older CPUs emulate bfloat16
slowly, GPUs were not measured) it stays float32. Training always runs in float32.

>>> resolve_precision("fp32", "cpu"), resolve_precision("bf16", "cpu")
('fp32', 'bf16')
>>> resolve_precision("auto", "cuda")
'fp32'
>>> resolve_precision("half", "cpu")
Traceback (most recent call last):
...
ValueError: precision='half': choose 'auto', 'fp32' or 'bf16'
"""

from __future__ import annotations

import contextlib
from typing import Any

PRECISIONS = ("auto", "fp32", "bf16")


def check_precision(precision: str) -> str:
    """``precision`` itself, or a ValueError naming the choices."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}: choose 'auto', 'fp32' or 'bf16'")
    return precision


def native_bf16() -> bool:
    """Whether this CPU has bfloat16 arithmetic in hardware (AVX512-BF16 or AMX)."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def resolve_precision(precision: str, device_type: str) -> str:
    """``"fp32"`` or ``"bf16"``: what ``precision`` means on a device of ``device_type``."""
    check_precision(precision)
    if precision != "auto":
        return precision
    return "bf16" if device_type == "cpu" and native_bf16() else "fp32"


def autocast(precision: str, device_type: str) -> Any:
    """A context in which forward passes run at the resolved ``precision``
    (``"fp32"`` or ``"bf16"``); outputs may be bfloat16, so convert with ``.float()``."""
    if precision == "bf16":
        import torch

        return torch.autocast(device_type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
