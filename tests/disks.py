"""Databases that are really full or really read-only, for the tests of how Arrears fails.

- `page_capped()`: every SQLite connection opened meanwhile gets `PRAGMA max_page_count` set to
  the file's current size, so SQLite itself answers SQLITE_FULL to the first write that needs
  a page more (no root needed).
- `tiny_tmpfs(dir, kib)`: a tmpfs of that size mounted on `dir` (root only; the test is skipped
  otherwise); `fill(dir)` then writes a file until the file system has no byte left, and
  `remount_read_only(dir)` makes it a read-only file system (EROFS even for root).
"""
from __future__ import annotations

import errno
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine


def _cap(dbapi_connection, _record) -> None:
    pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
    dbapi_connection.execute(f"PRAGMA max_page_count = {max(pages, 1)}")


@contextmanager
def page_capped(engine=None):
    """SQLite connections opened in the block (of `engine`, else of every engine) cannot grow
    their database file; `engine`'s pooled connections are dropped first so the cap applies."""
    target = engine if engine is not None else Engine
    event.listen(target, "connect", _cap)
    if engine is not None:
        engine.dispose()
    try:
        yield
    finally:
        event.remove(target, "connect", _cap)
        if engine is not None:
            engine.dispose()


@contextmanager
def tiny_tmpfs(directory: Path, kib: int):
    """Mount a `kib`-KiB tmpfs on `directory` for the block (skips the test unless root may mount)."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(directory)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=True)


def fill(directory: Path) -> None:
    """Write `directory/filler` until the file system is full (ENOSPC)."""
    with open(directory / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    # tmpfs may still take a partial page: fill that too
    with open(directory / "filler2", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0")
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    assert os.statvfs(directory).f_bavail == 0


def remount_read_only(directory: Path) -> None:
    """Make the tmpfs on `directory` read-only (no file on it may be open for writing)."""
    subprocess.run(["mount", "-o", "remount,ro", str(directory)], check=True)
    assert os.statvfs(directory).f_flag & os.ST_RDONLY
