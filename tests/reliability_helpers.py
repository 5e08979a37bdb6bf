"""Running bp as a real process for the stream, signal and environment tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"
TINY = CONFIGS / "tiny.yaml"

# A network of 2-100-100-2 (10,502 weights): its checkpoint keeps the weights in an .npz.
WIDE = (
    "seed: 1\nnetwork:\n  inputs: 2\n  layers:\n"
    "    - {units: 100, activation: relu}\n    - {units: 100, activation: relu}\n"
    "    - {units: 2, activation: softmax}\nloss: cross_entropy\n"
    "data: {generate: {name: moons, samples: 20}}\ntraining: {epochs: 1, eta: 0.01}\n"
)


def bp_command(*args: str | Path) -> list[str]:
    """bp as `python -m cli` with this interpreter: the same entry point as the script."""
    return [sys.executable, "-m", "cli", *map(str, args)]


def run_bp(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 60, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    merged.pop("PYTHONIOENCODING", None)
    merged.update(env or {})
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(
        bp_command(*args),
        env=merged,
        timeout=timeout,
        text=True,
        encoding="utf-8",
        errors="replace",
        cwd=kwargs.pop("cwd", None),
        check=False,
        **kwargs,
    )


def one_error_line(stderr: str) -> str:
    """The single `error:` line of stderr (asserting there is exactly one line)."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@contextmanager
def time_bound(seconds: int) -> Iterator[None]:
    """Fail (AssertionError) instead of hanging when the block runs past `seconds`."""

    def expired(*_: object) -> None:
        raise AssertionError(f"bp gave no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
