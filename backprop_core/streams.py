"""``-`` as a file name: standard input where bp reads, standard output where it writes."""

from __future__ import annotations

import sys
from pathlib import Path

DASH = "-"
STDIN_LABEL = "<stdin>"


def is_dash(path: Path | str | None) -> bool:
    return path is not None and str(path) == DASH


def read_stdin(limit: int) -> bytes:
    """At most `limit` bytes of standard input, read once (a pipe cannot be read twice)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text-only stdin (some test harnesses)
        return sys.stdin.read(limit).encode("utf-8")
    return stream.read(limit)
