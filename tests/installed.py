"""Finding the installed `bp` for tests that run it as a real process."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def installed_bp() -> str | None:
    """The `bp` script installed with this interpreter (not whichever `bp` PATH finds first)."""
    beside = Path(sys.executable).parent / "bp"
    return str(beside) if beside.exists() else shutil.which("bp")


def env_with_bp(**extra: str) -> dict[str, str]:
    """os.environ with this interpreter's `bp` first on PATH, for scripts that call `bp`."""
    bp = installed_bp()
    path = os.environ.get("PATH", "")
    if bp is not None:
        path = os.pathsep.join([str(Path(bp).parent), path])
    return {**os.environ, "PATH": path, **extra}
