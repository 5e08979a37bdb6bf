"""Consoles: rich handles NO_COLOR, narrow terminals and pipes (no codes when piped)."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from rich.console import Console


def stdout() -> Console:
    # Created per command so tests that swap sys.stdout (CliRunner) see the output.
    return Console(file=sys.stdout, highlight=False)


def stderr() -> Console:
    return Console(file=sys.stderr, highlight=False)


def emit_json(document: Any) -> None:
    """One JSON document on stdout. NaN and infinities become null (strict JSON)."""
    sys.stdout.write(json.dumps(_finite(document), indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
