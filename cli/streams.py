"""Standard streams that cannot crash bp: closed, full, piped into `head`, or not UTF-8.

`prepare()` runs before any command, `finish()` after it:

- a closed stdout or stderr (``>&-``) is reopened on /dev/null so no file bp
  opens later takes its number; writing to a closed stdout is an error line;
- text that the stream's encoding cannot hold (``PYTHONIOENCODING=ascii``, a
  lone surrogate) degrades to ``?`` instead of raising;
- a reader that goes away (``bp train | head -1``) ends bp quietly with exit 0;
- any other write error (``> /dev/full``) is one ``error:`` line and exit 1.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Any

EXIT_OUTPUT = 1  # the command ran; its output could not be delivered


class OutputError(Exception):
    """Standard output could not be written (full disk, closed stream, I/O error).

    Not a BpError: `bp --help` must not import the core to report it.
    """

    exit_code = EXIT_OUTPUT


class ReaderGoneError(Exception):
    """The reader of a pipe went away; bp stops quietly (exit 0)."""


class _Closed(io.TextIOBase):
    """Stands in for a stdout the shell closed: any write is an error."""

    encoding = "utf-8"
    errors = "replace"

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False


class GuardedOutput:
    """A text stream whose write errors become OutputError or ReaderGoneError."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if self.gone:
            return len(text)
        try:
            return int(self._stream.write(text))
        except OSError as e:
            raise self._failure(e) from None

    def flush(self) -> None:
        if self.gone:
            return
        try:
            self._stream.flush()
        except OSError as e:
            raise self._failure(e) from None

    def _failure(self, e: OSError) -> Exception:
        if isinstance(e, BrokenPipeError) or e.errno == errno.EPIPE:
            self.gone = True
            _silence(1)  # what is still buffered goes nowhere, and quietly
            return ReaderGoneError()
        return OutputError(f"cannot write to standard output: {e.strerror or e}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def prepare() -> None:
    """Make stdin, stdout and stderr safe to use; call before anything prints."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            # Keep the number taken: a file bp opens later must not become "stdout".
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
            if fd == 1:
                sys.stdout = _Closed()
            elif fd == 2:
                sys.stderr = io.TextIOWrapper(
                    io.FileIO(2, "w", closefd=False), "utf-8", "replace", line_buffering=True
                )
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "") == "strict":
            reconfigure(errors="replace")
    sys.stdout = GuardedOutput(sys.stdout)  # type: ignore[assignment]


def finish(code: int) -> int:
    """Flush stdout; the exit code once what was printed has (or has not) been delivered."""
    stream = sys.stdout
    try:
        stream.flush()
    except ReaderGoneError:
        return 0
    except OutputError as e:
        _report(str(e))
        return code or EXIT_OUTPUT
    if isinstance(stream, GuardedOutput) and stream.gone:
        return 0
    return code


def _report(message: str) -> None:
    try:
        sys.stderr.write(f"error: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr is gone too: the exit code is all that is left


def _silence(fd: int) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass
