"""Atomic file writes: a temporary file in the same folder, fsync, then rename.

An interrupted or failed write never leaves a half-written file over a good one.
Only regular files are written: a rename over a device (``/dev/null``), a FIFO or
a socket would replace it with a plain file, so those are refused before any work.
A symbolic link is followed: the file it points to is replaced, the link stays.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from backprop_core.errors import BpError, ConfigError

# Errors of the disk, not of the request: the work was done, storing it failed.
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.EROFS})
_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)
TEMP_NAME_ROOM = 32  # ".<start of name>.XXXXXXXX.tmp" stays within the name limit


class WriteError(BpError):
    """The file could not be stored (full disk, I/O error): exit 1, the run itself completed."""

    exit_code = 1


def target_of(path: Path) -> Path:
    """The file a write to `path` replaces: a symbolic link's target, else `path`."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def check_writable(path: Path, *, name_room: int = 0) -> None:
    """Fail now, not after a long run, when `path` cannot be written.

    `name_room` reserves bytes for a longer sibling written next to it (a
    checkpoint's weights file) so its name is checked too.
    """
    label = str(path)
    try:
        _check_writable(path, name_room)
    except OSError as e:  # a folder name too long, a loop of links, ...
        raise ConfigError(f"cannot write: {e.strerror or e}", file=label) from None


def _check_writable(path: Path, name_room: int) -> None:
    label = str(path)
    _check_name(path, path.parent if str(path.parent) else Path("."), name_room)
    target = target_of(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError("cannot write: the folder does not exist", file=label)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None:
        if stat.S_ISDIR(mode):
            raise ConfigError("cannot write: is a directory", file=label)
        for test, kind in _KINDS:
            if test(mode):
                raise ConfigError(
                    f"cannot write: {kind}, not a regular file (bp only replaces files)",
                    file=label,
                )
    _check_name(target, folder, name_room)
    if not os.access(folder, os.W_OK):
        raise ConfigError("cannot write: the folder is not writable", file=label)


def _check_name(path: Path, folder: Path, name_room: int) -> None:
    limit = _name_max(folder)
    size = len(os.fsencode(path.name)) + name_room
    if size > limit:
        raise ConfigError(
            f"cannot write: the file name is {size} bytes long; "
            f"this file system allows at most {limit}",
            file=str(path),
        )


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def write_bytes(path: Path, data: bytes) -> None:
    check_writable(path)
    target = target_of(path)
    folder = target.parent if str(target.parent) else Path(".")
    # The temporary name starts like the file's (easy to recognise if a crash
    # leaves it) but stays short enough for any name the file itself may have.
    prefix = "." + os.fsdecode(os.fsencode(target.name)[: _name_max(folder) - TEMP_NAME_ROOM])
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix + ".", suffix=".tmp", dir=folder)
    except OSError as e:
        raise _failure(path, e) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            # mkstemp makes the file private (0600); give it the mode a plain
            # open() would have, or keep the mode of the file it replaces.
            os.fchmod(f.fileno(), _mode_for(target))
            os.fsync(f.fileno())
        _replace_regular(tmp, target, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _failure(path, e) from None
        raise
    _fsync_folder(folder)


def _replace_regular(tmp: str, target: Path, path: Path) -> None:
    """Rename `tmp` over `target`, unless `target` became something other than a file."""
    with contextlib.suppress(FileNotFoundError):
        mode = os.lstat(target).st_mode
        if not stat.S_ISREG(mode):
            # Created since the check (or a link swapped in): never replace it.
            raise ConfigError("cannot write: not a regular file", file=str(path))
    os.replace(tmp, target)


def _failure(path: Path, e: OSError) -> BpError:
    message = f"cannot write: {e.strerror or e}"
    if e.errno in _STORAGE_ERRNOS:
        return WriteError(f"{path}: {message}")
    return ConfigError(message, file=str(path))


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8", errors="backslashreplace"))


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not every platform can open a folder.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
