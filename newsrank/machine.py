"""The machine at hand, as every measured figure names it: the CPU model, the arithmetic
it has in hardware (which decides newsrank's default precision, :mod:`newsrank.precision`)
and its cores.

Figures move with the CPU (an AMD EPYC without AMX runs newsrank about half as fast as
a Xeon with it, docs/benchmarks.md), so evaluation reports, benchmarks and the precision
calibration all record the machine through this one module.

>>> describe(name="AMD EPYC", flags=frozenset({"avx2", "fma"}), cpus=2)
'AMD EPYC (AVX2; no bfloat16 hardware), 2 CPUs'
>>> describe(name="Xeon", flags=frozenset({"avx2", "avx512_bf16", "amx_bf16", "amx_int8"}), cpus=2)
'Xeon (AVX2, AVX512-BF16, AMX-BF16, AMX-INT8), 2 CPUs'
>>> describe(name="ARM", flags=frozenset(), cpus=8)
'ARM (no bfloat16 hardware), 8 CPUs'
"""

from __future__ import annotations

import functools
import os
import platform
from pathlib import Path
from typing import Any

#: The CPU flags that decide what newsrank's arithmetic can do, and their usual names.
ARITHMETIC_FLAGS = {
    "avx2": "AVX2",
    "avx512f": "AVX-512",
    "avx512_vnni": "AVX512-VNNI",
    "avx_vnni": "AVX-VNNI",
    "avx512_bf16": "AVX512-BF16",
    "amx_bf16": "AMX-BF16",
    "amx_int8": "AMX-INT8",
}
_BF16 = ("avx512_bf16", "amx_bf16")


@functools.cache
def _cpuinfo() -> dict[str, str]:
    """The first ``model name`` and ``flags`` lines of ``/proc/cpuinfo`` (read once per
    process: the CPU does not change under it); empty where there is none."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, sep, value = line.partition(":")
            key = key.strip()
            if sep and key in ("model name", "flags") and key not in fields:
                fields[key] = value.strip()
    except OSError:
        pass
    return fields


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def cpu_flags() -> frozenset[str]:
    """The CPU feature flags of ``/proc/cpuinfo`` (empty where there is none)."""
    return frozenset(_cpuinfo().get("flags", "").split())


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def describe(
    *, name: str | None = None, flags: frozenset[str] | None = None, cpus: int | None = None
) -> str:
    """One line naming the machine: model, its arithmetic flags (and whether bfloat16 is
    in hardware), CPUs. The keywords stand in for the machine's own values (tests)."""
    name = cpu_name() if name is None else name
    flags = cpu_flags() if flags is None else flags
    cpus = cpu_count() if cpus is None else cpus
    named = ", ".join(label for flag, label in ARITHMETIC_FLAGS.items() if flag in flags)
    if not any(f in flags for f in _BF16):
        named = f"{named}; no bfloat16 hardware" if named else "no bfloat16 hardware"
    return f"{name} ({named}), {cpus} CPUs"


def details() -> dict[str, Any]:
    """The machine as a benchmark's JSON records it: :func:`describe`'s parts, the
    arithmetic flags, and the load average when it was asked (a busy machine is slow)."""
    name, flags, cpus = cpu_name(), cpu_flags(), cpu_count()
    return {
        "machine": describe(name=name, flags=flags, cpus=cpus),
        "model_name": name,
        "arithmetic_flags": sorted(f for f in ARITHMETIC_FLAGS if f in flags),
        "avx512_bf16": "avx512_bf16" in flags,
        "amx": any(f.startswith("amx") for f in flags),
        "cpus": os.cpu_count(),
        "affinity_cpus": cpus,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
