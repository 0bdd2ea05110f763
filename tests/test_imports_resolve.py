"""Every ``from <project module> import <name>`` in the project names something that
exists, including the imports inside functions (the lazy ones that keep heavy libraries
off the start-up path), which a test only runs when it reaches that function."""

from __future__ import annotations

import importlib

from source_imports import PACKAGES, ROOT, absolute_imports

#: the benchmark scripts import each other by their bare names (benchmarks/ on sys.path)
SCRIPTS = tuple(p.stem for p in (ROOT / "benchmarks").glob("*.py"))


def _project_imports() -> dict[tuple[str, str], str]:
    """(module, name) -> the first file importing it, for every absolute ``from``
    import of a project module or benchmark script in the packages, benchmarks/ and
    tests/."""
    found: dict[tuple[str, str], str] = {}
    for folder in (*PACKAGES, "benchmarks", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for module, names in absolute_imports(path):
                if module.split(".")[0] in (*PACKAGES, *SCRIPTS):
                    for name in names:
                        found.setdefault((module, name), str(path.relative_to(ROOT)))
    return found


def test_every_project_import_resolves(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    imports = _project_imports()
    assert len(imports) > 300  # the scan sees the project
    broken = []
    for (module, name), where in sorted(imports.items()):
        target = importlib.import_module(module)
        if name == "*" or hasattr(target, name):
            continue
        try:
            importlib.import_module(f"{module}.{name}")  # a submodule
        except ImportError:
            broken.append(f"{where}: from {module} import {name}")
    assert not broken, broken
