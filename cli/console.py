"""Consoles: rich handles NO_COLOR, narrow terminals and pipes (no codes when piped)."""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any, Literal

from rich.console import Console


def stdout() -> Console:
    # Created per command so tests that swap sys.stdout (CliRunner) see the output.
    return Console(file=sys.stdout, highlight=False, color_system=color_system())


def stderr() -> Console:
    return Console(file=sys.stderr, highlight=False, color_system=color_system())


def color_system() -> Literal["auto"] | None:
    """None under NO_COLOR: rich alone drops colours but keeps bold and italic codes."""
    return None if os.environ.get("NO_COLOR") else "auto"


def wrote(path: object) -> None:
    """``wrote PATH`` on stderr: status, not a result (callers skip it under --quiet/--json)."""
    sys.stderr.write(f"wrote {path}\n")
    sys.stderr.flush()


def json_text(document: Any) -> str:
    """A JSON document as text. NaN and infinities become null (strict JSON)."""
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
