"""Removing the files of an index that no commit needs (Lucene's ``IndexFileDeleter``).

A commit that stops naming a segment or a deletion marker *retires* it instead of
deleting it: a reader may still be searching the commit before. The writer keeps the
retired names with the time they were retired (``retired``: name -> epoch seconds, a
segment ``seg-...`` or a marker ``seg-.../deletes-N.npy``) and, under its lock, calls
:func:`remove_expired` once their grace period is over. Files no commit ever named (a
killed writer's partial segment or temporary manifest) are orphans,
:func:`remove_orphans` removes them when the next writer opens the index. Nothing here
takes the lock; only :class:`indexer.writer.IndexWriter`, holding it, calls these.
"""

from __future__ import annotations

import shutil
from collections.abc import MutableMapping
from pathlib import Path

from indexer.manifest import DENSE, MANIFEST, STORE, Manifest

#: what earlier index formats and the old whole-directory swap left behind
OLD_FORMAT = (STORE, "bm25", DENSE)


def remove(path: Path) -> None:
    """Remove a file or a directory tree; what is already gone is no error."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_expired(
    directory: Path, retired: MutableMapping[str, float], grace_s: float, now: float
) -> list[str]:
    """Delete the retired files of ``directory`` retired at least ``grace_s`` seconds
    before ``now`` and drop them from ``retired``; returns their names."""
    gone = []
    for name, since in list(retired.items()):
        if now - float(since) >= grace_s:
            remove(directory / name)
            del retired[name]
            gone.append(name)
    return gone


def remove_orphans(
    directory: Path, manifest: Manifest | None, retired: MutableMapping[str, float]
) -> None:
    """Remove what neither the commit ``manifest`` nor ``retired`` names: partial
    segments, stale deletion markers of live segments and temporary manifests of killed
    writers, and what the whole-directory swap of format 1 left beside the index."""
    live = {s.name: s for s in manifest.segments} if manifest else {}
    for path in directory.iterdir():
        name = path.name
        if name.startswith(f"{MANIFEST}.tmp-"):
            remove(path)
        elif name.startswith("seg-") and path.is_dir():
            if name in live:
                for marker in path.glob("deletes-*.npy"):
                    key = f"{name}/{marker.name}"
                    if marker.name != live[name].deletes and key not in retired:
                        remove(marker)
            elif name not in retired:
                remove(path)
    for leftover in directory.parent.glob(f".{directory.name}.tmp-*"):
        remove(leftover)
    remove(directory.with_name(f".{directory.name}.old"))


def remove_old_format(directory: Path) -> None:
    """Remove the files of a format-1 index that a segmented commit replaced."""
    for name in OLD_FORMAT:
        remove(directory / name)
