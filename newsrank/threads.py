"""torch's intra-op thread count, set in one place for every command and script.

On a busy 2-core machine the default (one OpenMP thread per core) makes torch spin
against other processes; one thread is often several times faster there. Every
``--torch-threads N`` flag (the global ``newsrank --torch-threads``, the evaluation
commands, the latency benchmark, training's ``--threads``) goes through
:func:`use_torch_threads`.

>>> import torch
>>> before = torch.get_num_threads()
>>> use_torch_threads(None) == use_torch_threads(0) == before  # 0 / None: leave it
True
>>> use_torch_threads(1)
1
>>> use_torch_threads(before) == before
True
"""

from __future__ import annotations

from newsrank.errors import NewsrankError


def use_torch_threads(threads: int | None) -> int:
    """Set torch's intra-op threads to ``threads`` when it is positive; ``0`` or
    ``None`` keeps torch's current choice. Returns the count now in force."""
    import torch

    if threads is not None and threads < 0:
        raise NewsrankError(
            f"torch threads must be 0 (torch's choice) or a positive count, got {threads}"
        )
    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()
