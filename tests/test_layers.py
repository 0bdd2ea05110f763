"""The serving path never imports training (or evaluation) code."""

import subprocess
import sys

SERVING = """
import sys
from newsrank.cli import build_parser
build_parser(["serve", "--index", "x"]); build_parser(["search", "q", "--index", "x"])
build_parser(["index", "build", "--index", "x"])
import web, web.api, web.pages, ranker.search, ranker.loaders
import ranker.heads.classifier, ranker.heads.cross_encoder, ranker.heads.reader
import ranker.heads.tagger, ranker.heads.loading, indexer.build, indexer.enrich
print(sorted(m for m in sys.modules if m.split(".")[0] in ("training", "evaluation")))
"""


def test_serving_path_imports_no_training_code():
    out = subprocess.run([sys.executable, "-c", SERVING], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_help_still_lists_every_command(capsys):
    import pytest

    from newsrank.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert all(name in text for name in ("index", "search", "serve", "train", "eval"))
