"""One writer at a time per index: an exclusive lock on a file beside the index.

The lock is an advisory ``flock`` on ``.NAME.lock`` in the index's parent directory,
held for the whole write; the operating system drops it when the writer exits, so a
killed writer never leaves a stale lock behind. Readers never take it. While it is
held, the writer may also clean up what killed writers left (their temporary
directories), because no other writer can be using them.

>>> import tempfile, pathlib
>>> index = pathlib.Path(tempfile.mkdtemp()) / "idx"
>>> with WriterLock(index):
...     WriterLock(index).acquire()
Traceback (most recent call last):
...
newsrank.errors.IndexLockedError: another writer is changing ...idx (pid ...); wait for it to finish, then run this command again
"""  # noqa: E501

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from newsrank.errors import IndexLockedError


def lock_path(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.lock")


class WriterLock:
    """``with WriterLock(index_dir): ...``: raises :class:`IndexLockedError` when another
    process (or another lock object) holds it for longer than ``wait_s`` seconds
    (default: do not wait)."""

    def __init__(self, index_dir: str | Path, wait_s: float = 0.0) -> None:
        self.index_dir = Path(index_dir).resolve()
        self.path = lock_path(self.index_dir)
        self.wait_s = wait_s
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise IndexLockedError(
                    f"another writer is changing {self.index_dir} (pid {holder}); wait for "
                    "it to finish, then run this command again"
                ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
