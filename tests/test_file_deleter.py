"""indexer.file_deleter: retired files go after their grace period, orphans at once."""

from __future__ import annotations

from indexer.file_deleter import remove_expired, remove_old_format, remove_orphans
from indexer.manifest import Manifest, SegmentEntry


def _segment(root, name, markers=()):
    d = root / name
    d.mkdir(parents=True)
    (d / "rows.npy").write_bytes(b"x")
    for m in markers:
        (d / m).write_bytes(b"x")
    return d


def test_retired_files_stay_for_their_grace_period_then_go(tmp_path):
    _segment(tmp_path, "seg-1")
    _segment(tmp_path, "seg-2", ["deletes-3.npy"])
    retired = {"seg-1": 100.0, "seg-2/deletes-3.npy": 150.0}
    assert remove_expired(tmp_path, retired, grace_s=60, now=160.0) == [
        "seg-1"
    ]  # 60 s after 100.0: due; 150.0 is not
    assert not (tmp_path / "seg-1").exists() and (tmp_path / "seg-2" / "deletes-3.npy").exists()
    assert retired == {"seg-2/deletes-3.npy": 150.0}
    assert remove_expired(tmp_path, retired, grace_s=60, now=210.0) == ["seg-2/deletes-3.npy"]
    assert not (tmp_path / "seg-2" / "deletes-3.npy").exists() and retired == {}


def test_orphans_go_and_what_a_commit_or_the_retired_list_names_stays(tmp_path):
    index = tmp_path / "index"
    _segment(index, "seg-1", ["deletes-2.npy", "deletes-1.npy", "deletes-0.npy"])
    _segment(index, "seg-2")  # retired: a reader may still use it
    _segment(index, "seg-3")  # a killed writer's partial segment
    (index / "manifest.json.tmp-99").write_text("{}")
    (index / "notes.txt").write_text("not ours")
    (tmp_path / ".index.old").mkdir()
    (tmp_path / ".index.tmp-1").mkdir()
    live = SegmentEntry("seg-1", articles=3, passages=3, deleted=1, deletes="deletes-2.npy")
    manifest = Manifest("m", 4, "flat", 2, 2, segments=(live,))
    retired = {"seg-2": 1.0, "seg-1/deletes-1.npy": 1.0}
    remove_orphans(index, manifest, retired)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert left == [
        "index",
        "index/notes.txt",
        "index/seg-1",
        "index/seg-1/deletes-1.npy",
        "index/seg-1/deletes-2.npy",
        "index/seg-1/rows.npy",
        "index/seg-2",
        "index/seg-2/rows.npy",
    ]


def test_no_commit_yet_means_every_segment_not_retired_is_an_orphan(tmp_path):
    _segment(tmp_path, "seg-0")
    remove_orphans(tmp_path, None, {})
    assert list(tmp_path.iterdir()) == []


def test_old_format_files_are_removed_once_replaced(tmp_path):
    for name in ("store.sqlite", "bm25", "dense.faiss", "seg-1"):
        (tmp_path / name).mkdir()
    remove_old_format(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["seg-1"]
