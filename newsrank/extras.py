"""Optional dependencies ("extras"): check them before a command starts, not after.

A command declares what it needs with ``parser.set_defaults(requires=...)``;
:func:`newsrank.cli.main` calls :func:`require` before running it, so a missing
library stops the command at once with the extra to install, instead of after a
12-minute indexing run.

>>> require(["json"])
>>> require(["no_such_module_xyz"], command="eval retrieval")
Traceback (most recent call last):
...
newsrank.extras.MissingExtraError: `newsrank eval retrieval` needs no_such_module_xyz, which is not installed: pip install no_such_module_xyz
"""  # noqa: E501

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

from newsrank.errors import NewsrankError

#: extra -> the modules it installs (pyproject.toml's optional-dependencies)
EXTRAS = {
    "eval": ("ranx", "matplotlib", "seqeval"),
    "train": ("seqeval",),
    "onnx": ("onnxruntime", "onnx"),
    "cluster": ("ray",),
}


class MissingExtraError(NewsrankError):
    """A command needs a library of an optional extra that is not installed."""


def missing(modules: Iterable[str]) -> list[str]:
    """The modules of ``modules`` that cannot be imported (found without importing)."""
    out = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a broken or half-removed install
            found = False
        if not found:
            out.append(name)
    return out


def require(modules: Iterable[str], command: str = "this command") -> None:
    """Raise :class:`MissingExtraError` naming the extra to install unless every module
    of ``modules`` is importable."""
    absent = missing(modules)
    if not absent:
        return
    extras = sorted({e for e, mods in EXTRAS.items() if set(absent) <= set(mods)})
    group = command.split()[0] if command.split() else ""
    extra = group if group in extras else (extras[0] if extras else None)  # "train tagger": train
    how = f"pip install 'newsrank[{extra}]'" if extra else "pip install " + " ".join(absent)
    raise MissingExtraError(
        f"`newsrank {command}` needs {', '.join(absent)}, which is not installed: {how}"
    )
