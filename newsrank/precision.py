"""Numeric precision of inference: float32, bfloat16 where the CPU does it natively,
or int8 through ONNX Runtime.

Recent x86 CPUs (AVX512-BF16, AMX) multiply bfloat16 matrices in hardware. Running
the embedder and the heads under ``torch.autocast(..., dtype=torch.bfloat16)`` there
is 2-2.5x faster, and the results barely move (docs/benchmarks.md: embeddings keep a
cosine of 0.99998 with the float32 ones; every head's held-out metric was re-measured).
Training always runs in float32.

``"int8"`` runs the embedder and the reranker (the models with an int8 path,
:mod:`heads.onnx_backend`) as ONNX Runtime graphs with dynamically quantised int8
weights, on CPU only (``pip install 'newsrank[onnx]'``); the reader, tagger and topic
classifier stay torch, at what ``"auto"`` picks for torch (:func:`resolve_precision`).

``"auto"`` picks, per model, the fastest arithmetic measured on this CPU: for torch,
bfloat16 only on a CPU with it in hardware (older CPUs emulate it slowly, GPUs were
not measured), else float32. For a model with an int8 path whose role is opted in
(:func:`auto_int8_roles`: by default the reranker, whose int8 kept nDCG@10 within
0.005 on SciFact and every news set; the embedder only with ``NEWSRANK_AUTO_INT8=embedder``
or ``=all``, because its int8 lost 0.012 on the news re-finding set, docs/results.md), int8
only where a short one-time calibration (:func:`choose_auto`) timed it at least 10%
faster than that torch choice. The calibration is cached per CPU model and library
versions in ``calibration.json`` under :func:`cache_dir`.

>>> resolve_precision("fp32", "cpu"), resolve_precision("bf16", "cpu")
('fp32', 'bf16')
>>> resolve_precision("auto", "cuda")
'fp32'
>>> resolve_precision("half", "cpu")
Traceback (most recent call last):
...
ValueError: precision='half': choose 'auto', 'fp32' or 'bf16' (torch), or 'int8' (ONNX Runtime)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsrank.machine import ARITHMETIC_FLAGS, cpu_flags, cpu_name

PRECISIONS = ("auto", "fp32", "bf16", "int8")
#: int8 must be at least this much faster (time ratio) than the torch choice to win ``auto``
INT8_MARGIN = 0.9
#: the models with an int8 path
INT8_ROLES = ("embedder", "cross-encoder")
#: the models ``auto`` may run at int8 by default: those whose int8 retrieval quality was
#: measured within 0.005 nDCG@10 of the default (docs/results.md). The reranker is (the
#: shipped head on float32 indexes, session 28: SciFact -0.001, news known-item -0.001,
#: re-finding test +0.005, topical test -0.001, the dev sets within 0.002); the embedder is
#: not (-0.012 on the news re-finding set's hybrid stage), so it runs int8 when asked
#: (``--precision int8``, or ``NEWSRANK_AUTO_INT8=embedder``).
AUTO_INT8_ROLES: tuple[str, ...] = ("cross-encoder",)


def check_precision(precision: str) -> str:
    """``precision`` itself, or a ValueError naming the choices."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"precision={precision!r}: choose 'auto', 'fp32' or 'bf16' (torch), "
            "or 'int8' (ONNX Runtime)"
        )
    return precision


def native_bf16() -> bool:
    """Whether this CPU has bfloat16 arithmetic in hardware (AVX512-BF16 or AMX)."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def resolve_precision(precision: str, device_type: str) -> str:
    """``"fp32"`` or ``"bf16"``: what ``precision`` means for a torch model on a device of
    ``device_type``. A model without an int8 path reads ``"int8"`` as ``"auto"``.

    >>> resolve_precision("int8", "cuda")
    'fp32'
    """
    check_precision(precision)
    if precision in ("fp32", "bf16"):
        return precision
    return "bf16" if device_type == "cpu" and native_bf16() else "fp32"


def cache_dir() -> Path:
    """Where newsrank caches what it derives from models on this machine (exported ONNX
    graphs, the precision calibration): ``$NEWSRANK_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/newsrank``, else ``~/.cache/newsrank``.

    >>> os.environ["NEWSRANK_CACHE_DIR"] = "/tmp/nr-cache"; str(cache_dir())
    '/tmp/nr-cache'
    >>> del os.environ["NEWSRANK_CACHE_DIR"]
    """
    explicit = os.environ.get("NEWSRANK_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "newsrank"


def has_vnni() -> bool:
    """Whether the CPU has int8 dot products that do not saturate (AVX512-VNNI, AVX-VNNI or
    AMX-INT8); without them int8 weights are quantised to 7 bits (``reduce_range``)."""
    return bool(cpu_flags() & {"avx512_vnni", "avx_vnni", "amx_int8"})


def int8_available() -> bool:
    """Whether ONNX Runtime (the ``onnx`` extra) is installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def auto_int8_roles() -> frozenset[str]:
    """The roles ``auto`` may run at int8 where it is faster: ``$NEWSRANK_AUTO_INT8``
    (comma-separated roles, ``all``, or ``0``/``off`` for none), else
    :data:`AUTO_INT8_ROLES`.

    >>> os.environ["NEWSRANK_AUTO_INT8"] = "all"; sorted(auto_int8_roles())
    ['cross-encoder', 'embedder']
    >>> os.environ["NEWSRANK_AUTO_INT8"] = "embedder"; sorted(auto_int8_roles())
    ['embedder']
    >>> os.environ["NEWSRANK_AUTO_INT8"] = "0"; sorted(auto_int8_roles())
    []
    >>> saved = os.environ.pop("NEWSRANK_AUTO_INT8"); sorted(auto_int8_roles())
    ['cross-encoder']
    >>> os.environ["NEWSRANK_AUTO_INT8"] = saved  # the test suite runs with it off
    """
    raw = os.environ.get("NEWSRANK_AUTO_INT8")
    if raw is None:
        return frozenset(AUTO_INT8_ROLES)
    raw = raw.strip().lower()
    if raw in ("", "0", "off", "false", "no", "none"):
        return frozenset()
    if raw in ("1", "all", "on", "true", "yes"):
        return frozenset(INT8_ROLES)
    return frozenset(r.strip() for r in raw.split(",") if r.strip())


def auto_considers_int8(role: str) -> bool:
    """``auto`` may pick int8 for ``role``: it is in :func:`auto_int8_roles` and the
    extra is installed."""
    return role in auto_int8_roles() and int8_available()


def pick_fastest(seconds: dict[str, float], torch_choice: str, margin: float = INT8_MARGIN) -> str:
    """``"int8"`` when it took at most ``margin`` times the time of ``torch_choice``,
    else ``torch_choice`` (a tie or a small win is not worth int8's rounding).

    >>> pick_fastest({"bf16": 1.0, "int8": 0.8}, "bf16")
    'int8'
    >>> pick_fastest({"fp32": 1.0, "int8": 0.95}, "fp32")
    'fp32'
    >>> pick_fastest({"fp32": 1.0}, "fp32")
    'fp32'
    """
    if "int8" in seconds and seconds["int8"] <= margin * seconds[torch_choice]:
        return "int8"
    return torch_choice


def calibration_key(role: str, shape: dict[str, Any]) -> str:
    """What a calibration depends on: the model's role and architecture (not its weights:
    an adapter does not change the speed), the CPU, the thread count, library versions.
    """
    import torch

    try:
        import onnxruntime

        ort_version = onnxruntime.__version__
    except ImportError:
        ort_version = "none"
    fields = {
        "role": role,
        "shape": shape,
        "cpu": cpu_name(),
        "cpu_flags": sorted(cpu_flags() & set(ARITHMETIC_FLAGS)),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "onnxruntime": ort_version,
    }
    return json.dumps(fields, sort_keys=True)


def read_calibration(path: Path) -> dict[str, Any]:
    """The calibration file's entries ({} when it is missing or unreadable)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_calibration(path: Path, key: str, entry: dict[str, Any]) -> None:
    """Add ``entry`` under ``key``, written atomically (a temporary file renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = read_calibration(path)
    data[key] = entry
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".calibration-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def choose_auto(
    role: str,
    shape: dict[str, Any],
    device_type: str,
    measure: Callable[[list[str]], dict[str, float]],
    cache: Path | None = None,
) -> str:
    """What ``"auto"`` means for a model with an int8 path: ``"fp32"``, ``"bf16"`` or
    ``"int8"``.

    Off CPU, for a role outside :func:`auto_int8_roles`, or where int8 is unavailable
    (:func:`auto_considers_int8`), the torch rule of :func:`resolve_precision`.
    Otherwise the cached calibration for this ``role``,
    ``shape`` and machine (:func:`calibration_key`), or a new one: ``measure`` times each
    candidate (the torch choice and ``"int8"``) and returns seconds per candidate;
    :func:`pick_fastest` decides.
    """
    torch_choice = resolve_precision("auto", device_type)
    if device_type != "cpu" or not auto_considers_int8(role):
        return torch_choice
    path = (cache or cache_dir()) / "calibration.json"
    key = calibration_key(role, shape)
    entry = read_calibration(path).get(key)
    if not isinstance(entry, dict) or entry.get("choice") not in ("fp32", "bf16", "int8"):
        seconds = measure([torch_choice, "int8"])
        entry = {
            "seconds": {k: round(v, 5) for k, v in seconds.items()},
            "choice": pick_fastest(seconds, torch_choice),
            "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        busy = os.getloadavg()[0] > (os.cpu_count() or 1)
        try:
            if not busy:  # timings on a busy machine decide now but are not kept
                write_calibration(path, key, entry)
        except OSError:  # a read-only cache: decide now, measure again next time
            pass
    return str(entry["choice"])


def require_int8(device_type: str) -> None:
    """Raise unless int8 can run here: a CPU model and the ``onnx`` extra installed."""
    if device_type != "cpu":
        raise ValueError(
            f"precision='int8' runs on CPU only (ONNX Runtime), not on {device_type!r}; "
            "use 'fp32' or 'bf16' there, or 'auto'"
        )
    if not int8_available():
        from newsrank.extras import MissingExtraError

        raise MissingExtraError(
            "precision='int8' needs onnxruntime and onnx, which are not installed: "
            "pip install 'newsrank[onnx]' (or choose --precision fp32, bf16 or auto)"
        )


def resolve_with_int8(
    precision: str,
    device_type: str,
    role: str,
    shape: dict[str, Any],
    measure: Callable[[list[str]], dict[str, float]],
    cache: Path | None = None,
) -> str:
    """``"fp32"``, ``"bf16"`` or ``"int8"``: what ``precision`` means for a model that has
    an int8 path (``auto``: :func:`choose_auto`; ``int8``: :func:`require_int8` first)."""
    check_precision(precision)
    if precision == "int8":
        require_int8(device_type)
        return "int8"
    if precision != "auto":
        return precision
    return choose_auto(role, shape, device_type, measure, cache)


def autocast(precision: str, device_type: str) -> Any:
    """A context in which forward passes run at the resolved ``precision``
    (``"fp32"`` or ``"bf16"``); outputs may be bfloat16, so convert with ``.float()``."""
    if precision == "bf16":
        import torch

        return torch.autocast(device_type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
