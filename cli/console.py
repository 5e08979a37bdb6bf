"""Consoles: rich handles NO_COLOR, narrow terminals and pipes (no codes when piped).

Everything printed is text: rich markup is never read (a label ``[/red]`` prints
as ``[/red]``) and control characters from configs and data print as escapes.
"""

from __future__ import annotations

import functools
import math
import os
import re
import sys
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rich.console import Console

# rich is imported only when something is drawn: `bp check` and `bp --help`
# print plain lines and stay off its import cost.

# C0 controls but newline and tab, DEL, C1 controls, and lone surrogates (which no
# encoding can write): text from a config or a data file never reaches the
# terminal as a control sequence.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with control characters and lone surrogates written as escapes (``\\x1b``)."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@functools.cache
def _text_console() -> type[Console]:
    from collections.abc import Iterable

    from rich.console import Console
    from rich.segment import Segment

    class TextConsole(Console):
        """A rich console that prints user text as text: no markup, no control sequences."""

        def _render_buffer(self, buffer: Iterable[Segment]) -> str:
            # Control segments are rich's own (cursor moves of a live bar); the
            # rest is text, some of it from configs and data files.
            return super()._render_buffer(
                segment if segment.control else Segment(printable(segment.text), segment.style)
                for segment in buffer
            )

    return TextConsole


def stdout() -> Console:
    # Created per command so tests that swap sys.stdout (CliRunner) see the output.
    return _text_console()(
        file=sys.stdout, highlight=False, markup=False, emoji=False, color_system=color_system()
    )


def stderr() -> Console:
    return _text_console()(
        file=sys.stderr, highlight=False, markup=False, emoji=False, color_system=color_system()
    )


def color_system() -> Literal["auto"] | None:
    """None under NO_COLOR: rich alone drops colours but keeps bold and italic codes."""
    return None if os.environ.get("NO_COLOR") else "auto"


def write(text: str) -> None:
    """A whole document (markdown, LaTeX, DOT, ...) on stdout, control characters escaped."""
    sys.stdout.write(printable(text))
    sys.stdout.flush()


def line(text: str) -> None:
    """One plain line on stdout: nothing to draw, so no rich (and no markup read into it)."""
    write(text + "\n")


def wrote(path: object) -> None:
    """``wrote PATH`` on stderr: status, not a result (callers skip it under --quiet/--json)."""
    sys.stderr.write(f"wrote {printable(str(path))}\n")
    sys.stderr.flush()


def json_text(document: Any) -> str:
    """A JSON document as text. NaN and infinities become null (strict JSON)."""
    import json

    return json.dumps(_finite(document), indent=2, allow_nan=False) + "\n"


def emit_json(document: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json_text(document))
    sys.stdout.flush()


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
