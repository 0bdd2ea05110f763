"""Every script in benchmarks/ imports and answers ``--help``: what the benchmarks
import from the product (and from each other) still exists.

A script is run by hand, rarely, so nothing else notices when a refactor moves a name it
imports; session 29's move of ``machine()`` into ``newsrank.machine`` broke two of them
that way.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("*.py"))


@pytest.fixture(autouse=True)
def _on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def test_there_are_scripts_to_check():
    assert len(SCRIPTS) >= 20 and "live_index" in SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_benchmark_imports_and_answers_help(name, capsys, monkeypatch):
    module = importlib.import_module(name)
    main = getattr(module, "main", None)
    assert callable(main), f"benchmarks/{name}.py has no main()"
    monkeypatch.setattr(sys, "argv", [f"{name}.py", "--help"])
    with pytest.raises(SystemExit) as stop:
        main(["--help"]) if inspect.signature(main).parameters else main()
    assert stop.value.code == 0
    assert "usage:" in capsys.readouterr().out
    sys.modules.pop(name, None)
