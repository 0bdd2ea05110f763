"""Faults: a build killed at the worst moments, a full disk, two writers, read-only readers.

The crash cases run a real ``newsrank index build`` in a subprocess, stop it at a named
point of the writer (``indexer.faults.pause_point``) and kill it with SIGKILL; then the
index must open at its last good state, in the library and in the web app, and the
next writer must leave no orphan behind.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.article import Article
from indexer.build import build_index
from indexer.dense import DenseIndex
from indexer.manifest import aside_path
from indexer.reader import IndexReader
from indexer.writelock import WriterLock
from newsrank.cli import main
from newsrank.config import HeadsConfig, Settings
from newsrank.errors import IndexLockedError, IndexWriteError
from ranker.request import SearchRequest
from ranker.search import Searcher

OLD = [Article("old-1", "Oil prices fall", "Crude oil fell sharply on Monday."),
       Article("old-2", "Cup final", "The league cup final ended in a draw.")]  # fmt: skip
NO_HEADS = HeadsConfig(reranker=None, reader=None, tagger=None, topic=None)


@pytest.fixture()
def old_index(tmp_path, embedder) -> Path:
    out = tmp_path / "idx"
    build_index(OLD, out, embedder=embedder, progress=False)
    return out


def _new_input(tmp_path: Path) -> Path:
    path = tmp_path / "new.jsonl"
    rows = [{"id": f"new-{i}", "title": f"Election {i}", "text": "Voters went to the polls."}
            for i in range(3)]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _killed_build(index: Path, source: Path, point: str) -> None:
    """Run a real build, wait until it pauses at ``point``, then SIGKILL it."""
    env = {**os.environ, "NEWSRANK_TEST_PAUSE_AT": point, "HF_HUB_OFFLINE": "1"}
    args = [sys.executable, "-m", "newsrank", "index", "build", "--input", str(source)]
    proc = subprocess.Popen(
        [*args, "--index", str(index), "--no-enrich", "--json"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 120
    try:
        for line in proc.stderr:  # type: ignore[union-attr]
            if f"paused at {point}" in line:
                break
            assert time.monotonic() < deadline, "the build never reached the pause point"
        else:
            pytest.fail(f"the build ended (rc {proc.wait()}) before pausing at {point}")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", ["written", "swapping"])
def test_a_build_killed_midway_leaves_the_last_good_index(point, old_index, tmp_path, embedder):
    _killed_build(old_index, _new_input(tmp_path), point)
    if point == "swapping":  # killed between the renames: only the set-aside copy is whole
        assert not old_index.exists() and aside_path(old_index).is_dir()
    reader = IndexReader.open(old_index)
    assert reader.manifest.articles == 2
    hits = Searcher(reader, embedder=embedder).search(SearchRequest("oil prices")).results
    assert hits and hits[0].id == "old-1"

    from web import create_app

    settings = Settings(heads=NO_HEADS)
    app = create_app({"INDEX_DIR": str(old_index), "SETTINGS": settings})
    health = app.test_client().get("/api/health").get_json()
    assert health["articles"] == 2
    found = app.test_client().get("/api/search?q=cup+final").get_json()["results"]
    assert found[0]["id"] == "old-2"

    # the next writer restores what the killed one left and leaves no orphans
    build_index(OLD[:1], old_index, embedder=embedder, progress=False)
    left = sorted(p.name for p in old_index.parent.iterdir())
    assert left == [".idx.lock", "idx", "new.jsonl"]
    assert IndexReader.open(old_index).manifest.articles == 1


def test_a_full_disk_leaves_the_old_index_and_says_why(old_index, embedder, monkeypatch):
    before = (old_index / "manifest.json").read_text()

    def full(self, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(DenseIndex, "save", full)
    with pytest.raises(IndexWriteError, match="No space left on device.*old index"):
        build_index([Article("x", "X", "y")], old_index, embedder=embedder, progress=False)
    assert (old_index / "manifest.json").read_text() == before
    assert sorted(p.name for p in old_index.parent.iterdir()) == [".idx.lock", "idx"]
    assert IndexReader.open(old_index).manifest.articles == 2


def test_the_cli_reports_a_full_disk_and_exits_1(old_index, tmp_path, monkeypatch, capsys):
    def full(self, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(DenseIndex, "save", full)
    argv = ["index", "build", "--input", str(_new_input(tmp_path)), "--index", str(old_index)]
    assert main([*argv, "--no-enrich", "--json"]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert IndexReader.open(old_index).manifest.articles == 2


def test_a_second_writer_gets_a_clear_error(old_index, embedder):
    with WriterLock(old_index):
        with pytest.raises(IndexLockedError, match="another writer is changing"):
            build_index([Article("x", "X", "y")], old_index, embedder=embedder, progress=False)
    assert IndexReader.open(old_index).manifest.articles == 2


def test_readers_open_the_store_read_only(old_index):
    store = IndexReader.open(old_index).store
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store._conn().execute("DELETE FROM articles")  # noqa: SLF001
