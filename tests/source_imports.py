"""The project's packages and the absolute imports a source file makes, read from its
syntax tree (imports inside functions included), for the import tests
(``test_layers.py``, ``test_imports_resolve.py``)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the project's top-level packages, lowest layer first (see test_layers.py)
PACKAGES = ("newsrank", "heads", "corpora", "indexer", "ranker", "web", "training", "evaluation")


def absolute_imports(path: Path) -> Iterator[tuple[str, tuple[str, ...]]]:
    """``(module, names)`` for every absolute import in ``path``: ``import a.b`` gives
    ``("a.b", ())`` and ``from a import x, y`` gives ``("a", ("x", "y"))``; relative
    imports are left out.

    >>> import tempfile
    >>> source = "import a.b, c\\ndef g():\\n    from d import x, y\\nfrom . import z\\n"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = Path(d) / "m.py"
    ...     _ = f.write_text(source)
    ...     sorted(absolute_imports(f))
    [('a.b', ()), ('c', ()), ('d', ('x', 'y'))]
    """
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, tuple(alias.name for alias in node.names)
