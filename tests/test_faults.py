"""Faults: writers killed at the worst moments, a full disk, two writers, read-only readers.

The crash cases run a real ``newsrank index build|add|merge`` in a subprocess, stop it
at a named point of the writer (``indexer.faults.pause_point``) and kill it with
SIGKILL; then the index must open at its last commit, consistent across store, lexical
and dense parts, with every acknowledged write still there, and the next writer must
leave no orphan behind.
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
from indexer.manifest import read_manifest
from indexer.reader import IndexReader
from indexer.writelock import WriterLock
from indexer.writer import IndexWriter
from newsrank.cli import main
from newsrank.config import HeadsConfig, Settings
from newsrank.errors import IndexWriteError
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


def _input(tmp_path: Path, prefix: str = "new", n: int = 3) -> Path:
    path = tmp_path / f"{prefix}.jsonl"
    rows = [{"id": f"{prefix}-{i}", "title": f"Election {i}", "text": "Voters went to the polls."}
            for i in range(n)]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "newsrank", "index", *args, "--json"]


def _env(point: str | None = None) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if point:
        env["NEWSRANK_TEST_PAUSE_AT"] = point
    return env


def _killed(command: list[str], point: str) -> None:
    """Run a real writer command, wait until it pauses at ``point``, then SIGKILL it."""
    proc = subprocess.Popen(
        command, env=_env(point), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    deadline = time.monotonic() + 120
    try:
        for line in proc.stderr:  # type: ignore[union-attr]
            if f"paused at {point}" in line:
                break
            assert time.monotonic() < deadline, "the writer never reached the pause point"
        else:
            pytest.fail(f"the writer ended (rc {proc.wait()}) before pausing at {point}")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


def _consistent(index: Path) -> IndexReader:
    """The index opens at a commit whose parts agree with each other."""
    reader = IndexReader.open(index)
    store = reader.store
    assert store.n_passages == len(reader.bm25) == len(reader.dense)
    assert reader.manifest.articles == store.n_live
    assert reader.manifest.passages == int(store.passage_live.sum())
    return reader


def _no_orphans(index: Path) -> None:
    """Every file is named by the commit, or retired by it (kept for older readers)."""
    manifest = read_manifest(index)
    named = {s.name for s in manifest.segments} | set(manifest.retired)
    for path in index.iterdir():
        assert path.name in named | {"manifest.json"}, f"orphan {path.name}"
        if path.name in manifest.retired:
            continue  # a whole retired segment, markers and all
        for marker in path.glob("deletes-*.npy"):
            entry = next((s for s in manifest.segments if s.name == path.name), None)
            key = f"{path.name}/{marker.name}"
            assert (entry is not None and entry.deletes == marker.name) or key in named
    assert not list(index.parent.glob(".idx.tmp-*")) and not list(index.glob("*.tmp-*"))


@pytest.mark.parametrize("point", ["segment-written", "committing"])
def test_a_build_killed_midway_leaves_the_last_commit(point, old_index, tmp_path, embedder):
    source = _input(tmp_path)
    _killed(_command("build", "--input", str(source), "--index", str(old_index), "--no-enrich"),
            point)  # fmt: skip
    reader = _consistent(old_index)
    assert reader.manifest.articles == 2
    hits = Searcher(reader, embedder=embedder).search(SearchRequest("oil prices")).results
    assert hits and hits[0].id == "old-1"

    from web import create_app

    app = create_app({"INDEX_DIR": str(old_index), "SETTINGS": Settings(heads=NO_HEADS)})
    assert app.test_client().get("/api/health").get_json()["articles"] == 2
    found = app.test_client().get("/api/search?q=cup+final").get_json()["results"]
    assert found[0]["id"] == "old-2"

    # the next writer removes what the killed one left
    build_index(OLD[:1], old_index, embedder=embedder, progress=False)
    _no_orphans(old_index)
    assert _consistent(old_index).manifest.articles == 1


@pytest.mark.parametrize("point", ["segment-written", "before-commit", "committing"])
def test_an_add_killed_midway_loses_nothing_acknowledged(point, old_index, tmp_path, embedder):
    first = subprocess.run(
        _command("add", "--index", str(old_index), "--input", str(_input(tmp_path, "ack"))),
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr  # acknowledged
    # this add also replaces an acknowledged article and deletes nothing else
    source = tmp_path / "upsert.jsonl"
    rows = [{"id": "ack-0", "title": "Changed", "text": "A new text."},
            {"id": "late-1", "title": "Late", "text": "Never committed."}]  # fmt: skip
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _killed(_command("add", "--index", str(old_index), "--input", str(source)), point)

    reader = _consistent(old_index)
    store = reader.store
    assert reader.manifest.articles == 5
    assert store.held(["old-1", "old-2", "ack-0", "ack-1", "ack-2", "late-1"]) == {
        "old-1", "old-2", "ack-0", "ack-1", "ack-2"}  # fmt: skip
    article = store.articles([store.num_of("ack-0")])
    assert next(iter(article.values())).title == "Election 0"  # the old version stays
    with IndexWriter(old_index, embedder=embedder) as writer:
        writer.delete(["old-2"])
        writer.commit()
    _no_orphans(old_index)
    assert _consistent(old_index).manifest.articles == 4


@pytest.mark.parametrize("point", ["merge-written", "committing"])
def test_a_merge_killed_midway_leaves_the_last_commit(point, old_index, tmp_path, embedder):
    with IndexWriter(old_index, embedder=embedder) as writer:
        writer.add([Article("x", "Extra", "A third article.")])
        writer.delete(["old-2"])
        writer.commit()
    before = read_manifest(old_index)
    assert len(before.segments) == 2
    _killed(_command("merge", "--index", str(old_index)), point)
    reader = _consistent(old_index)
    assert [s.name for s in reader.manifest.segments] == [s.name for s in before.segments]
    assert reader.store.held(["old-1", "old-2", "x"]) == {"old-1", "x"}
    assert main(["index", "merge", "--index", str(old_index), "--json"]) == 0
    _no_orphans(old_index)
    after = _consistent(old_index)
    assert len(after.manifest.segments) == 1 and after.manifest.deleted == 0


def test_two_writers_one_waits_for_the_other(old_index, tmp_path):
    procs = [
        subprocess.Popen(
            _command(
                "add",
                "--index",
                str(old_index),
                "--input",
                str(_input(tmp_path, p)),
                "--wait",
                "120",
            ),
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for p in ("one", "two")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    reader = _consistent(old_index)
    assert reader.manifest.articles == 8 and reader.manifest.generation >= 3
    _no_orphans(old_index)


def test_a_second_writer_that_will_not_wait_gets_a_clear_error(old_index, tmp_path, capsys):
    with WriterLock(old_index):
        argv = ["index", "add", "--index", str(old_index), "--input", str(_input(tmp_path))]
        assert main([*argv, "--wait", "0", "--json"]) == 1
        assert "another writer is changing" in capsys.readouterr().err
    assert IndexReader.open(old_index).manifest.articles == 2


def test_a_full_disk_leaves_the_last_commit_and_says_why(old_index, embedder, monkeypatch):
    before = (old_index / "manifest.json").read_text()
    files = sorted(p.name for p in old_index.iterdir())

    def full(self, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(DenseIndex, "save", full)
    with pytest.raises(IndexWriteError, match="No space left on device.*last commit"):
        build_index([Article("x", "X", "y")], old_index, embedder=embedder, progress=False)
    assert (old_index / "manifest.json").read_text() == before
    assert sorted(p.name for p in old_index.iterdir()) == files
    assert IndexReader.open(old_index).manifest.articles == 2


def test_the_cli_reports_a_full_disk_and_exits_1(old_index, tmp_path, monkeypatch, capsys):
    def full(self, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(DenseIndex, "save", full)
    argv = ["index", "add", "--input", str(_input(tmp_path)), "--index", str(old_index)]
    assert main([*argv, "--json"]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert IndexReader.open(old_index).manifest.articles == 2


def test_readers_open_the_segments_read_only(old_index):
    store = IndexReader.open(old_index).store
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.parts[0].store._conn().execute("DELETE FROM articles")  # noqa: SLF001
