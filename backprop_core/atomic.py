"""Atomic file writes: a temporary file in the same folder, fsync, then rename.

An interrupted or failed write never leaves a half-written file over a good one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from backprop_core.errors import ConfigError


def check_writable(path: Path) -> None:
    """Fail now, not after a long run, when `path` cannot be written."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError("cannot write: the folder does not exist", file=str(path))
    if path.is_dir():
        raise ConfigError("cannot write: is a directory", file=str(path))
    if not os.access(folder, os.W_OK):
        raise ConfigError("cannot write: the folder is not writable", file=str(path))


def write_bytes(path: Path, data: bytes) -> None:
    check_writable(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise ConfigError(f"cannot write: {e.strerror}", file=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            # mkstemp makes the file private (0600); give it the mode a plain
            # open() would have, or keep the mode of the file it replaces.
            os.fchmod(f.fileno(), _mode_for(path))
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not every platform can open a folder.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
