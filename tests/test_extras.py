"""Commands check their optional dependencies before they start, and name the extra."""

from __future__ import annotations

import importlib.util

import pytest

from newsrank import extras
from newsrank.cli import main


@pytest.fixture()
def without(monkeypatch):
    """Make the given modules look uninstalled to the extras check."""

    def hide(*names: str) -> None:
        real = importlib.util.find_spec

        def find_spec(name, *args, **kwargs):
            return None if name in names else real(name, *args, **kwargs)

        monkeypatch.setattr(extras.importlib.util, "find_spec", find_spec)

    return hide


def test_require_names_the_extra(without):
    without("ranx")
    with pytest.raises(extras.MissingExtraError, match=r"pip install 'newsrank\[eval\]'"):
        extras.require(["ranx", "json"], command="eval retrieval")
    extras.require(["json"])  # present: nothing happens


def test_eval_retrieval_fails_before_indexing(without, tmp_path, capsys, fixtures):
    without("ranx")
    cache = tmp_path / "cache"
    argv = ["eval", "retrieval", "--collection", str(fixtures / "beir_tiny")]
    assert main([*argv, "--cache", str(cache), "--stages", "bm25"]) == 1
    err = capsys.readouterr().err
    assert "eval retrieval" in err and "ranx" in err and "newsrank[eval]" in err
    assert not cache.exists()  # it stopped before building anything


def test_every_eval_and_train_command_declares_what_it_needs():
    from newsrank.cli import build_parser

    parser = build_parser()
    declared = {}
    for group in ("eval", "train"):
        sub = parser._subparsers._group_actions[0].choices[group]  # noqa: SLF001
        for name, p in sub._subparsers._group_actions[0].choices.items():  # noqa: SLF001
            declared[f"{group} {name}"] = p.get_default("requires")
    assert declared["eval retrieval"] == ("ranx", "matplotlib")
    assert declared["eval tagger"] and "seqeval" in declared["eval tagger"]
    assert declared["train tagger"] and "seqeval" in declared["train tagger"]
    assert all(
        mods is None or set(mods) <= {m for e in extras.EXTRAS.values() for m in e}
        for mods in declared.values()
    )


def test_train_commands_name_the_train_extra(without):
    without("seqeval")
    with pytest.raises(extras.MissingExtraError, match=r"newsrank\[train\]"):
        extras.require(["seqeval"], command="train tagger")
    with pytest.raises(extras.MissingExtraError, match=r"newsrank\[eval\]"):
        extras.require(["seqeval"], command="eval tagger")
