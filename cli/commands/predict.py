"""`bp predict` (being built: see the issue tracker)."""

from __future__ import annotations

from cli.errors import fail
from cli.options import ConfigArg

NAME = "predict"
HELP = "Not available in this build yet."


def command(config: ConfigArg = None) -> None:
    raise fail("bp predict is not available in this build yet")
