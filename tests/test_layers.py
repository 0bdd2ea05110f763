"""The layers point one way, and serving never imports training or evaluation code.

Lowest first: ``newsrank`` (config, errors, shared types, protocols) -> ``heads``
(inference only) -> ``indexer`` -> ``ranker`` -> ``web``; ``corpora`` (the data
readers) sits on ``indexer`` and under ``training`` and ``evaluation``, which never
import each other; both may search (``training.index_groups`` mines negatives from the
product's own hybrid ranking, as evaluation scores it). ``newsrank.cli`` is the
command line on top of everything (it imports each subcommand's module by name, when
that subcommand runs).
"""

import subprocess
import sys
from pathlib import Path

import pytest
from source_imports import PACKAGES, ROOT, absolute_imports

#: package -> the project packages it may import (itself always)
ALLOWED = {
    "newsrank": set(),
    "heads": {"newsrank"},
    "indexer": {"newsrank", "heads"},
    "ranker": {"newsrank", "heads", "indexer"},
    "web": {"newsrank", "heads", "indexer", "ranker"},
    "corpora": {"newsrank", "indexer"},
    "training": {"newsrank", "heads", "indexer", "ranker", "corpora"},
    "evaluation": {"newsrank", "heads", "indexer", "ranker", "corpora"},
}
ENTRY_POINTS = {"newsrank/cli.py", "newsrank/__main__.py"}


def project_imports(path: Path) -> set[str]:
    """Top-level project packages ``path`` imports anywhere (functions included)."""
    tops = {module.split(".")[0] for module, _ in absolute_imports(path)}
    return tops & set(PACKAGES)


def test_every_package_has_a_layer():
    assert set(ALLOWED) == set(PACKAGES)
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert set(PACKAGES) <= on_disk


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_down_only(package):
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ENTRY_POINTS:
            continue
        for target in project_imports(path) - ALLOWED[package] - {package}:
            wrong.append(f"{rel} imports {target}")
    assert not wrong, f"{package} may import only {sorted(ALLOWED[package])}: {wrong}"


def test_the_checker_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from training.export import save_head\nimport ranker.search\n")
    assert project_imports(module) == {"training", "ranker"}


SERVING = """
import sys
from newsrank.cli import build_parser
build_parser(["serve", "--index", "x"]); build_parser(["search", "q", "--index", "x"])
build_parser(["index", "build", "--index", "x"])
import web, web.api, web.pages, ranker.search, heads.loaders
import heads.classifier, heads.cross_encoder, heads.reader
import heads.tagger, heads.loading, indexer.build, indexer.enrich, indexer.reader
print(sorted(m for m in sys.modules if m.split(".")[0] in ("training", "evaluation", "corpora")))
"""


def test_serving_path_imports_no_training_code():
    out = subprocess.run([sys.executable, "-c", SERVING], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_help_still_lists_every_command(capsys):
    from newsrank.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert all(name in text for name in ("index", "search", "serve", "train", "eval"))
