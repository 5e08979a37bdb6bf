"""Start-up and rendering costs, timed as a user sees them: whole `bp` processes.

Wall-clock medians of `bp --help`, `bp check`, `bp train` (the reference
example) against `python -c "import numpy, typer, rich, yaml"`, the floor any
Python CLI on this stack pays; and a 10,000-epoch `bp train` with its table and
progress bar against the same run with `--quiet`.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

FLOOR = "import numpy, typer, rich, yaml"
HEAVY = ("numpy", "pydantic", "yaml", "backprop_core")


def bp_command() -> list[str]:
    """The `bp` console script of this Python (not a shell shim), else `python -m cli`."""
    script = Path(sys.executable).parent / "bp"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def wall(argv: list[str], repeats: int, *, tty: bool = False) -> float:
    """Median seconds of running argv to completion (output discarded)."""
    if tty and shutil.which("script"):
        # Under a pseudo-terminal rich draws the live progress bar, as for a user.
        argv = ["script", "-qfec", subprocess.list2cmdline(argv), "/dev/null"]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def imported_by(args: list[str]) -> list[str]:
    """Which heavy modules a `bp` invocation imports (run in-process in a child)."""
    code = (
        "import sys\n"
        f"sys.argv = ['bp', *{args!r}]\n"
        "import cli.app\n"
        "try:\n    cli.app.main()\nexcept SystemExit:\n    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.__stderr__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    last = done.stderr.strip().splitlines()[-1:] or [""]
    return [m for m in last[0].split(",") if m]


def startup(repeats: int) -> dict[str, object]:
    bp = bp_command()
    rows = {
        "python -c pass": wall([sys.executable, "-c", "pass"], repeats),
        f'python -c "{FLOOR}"': wall([sys.executable, "-c", FLOOR], repeats),
        "bp --help": wall([*bp, "--help"], repeats),
        "bp check": wall([*bp, "check"], repeats),
        "bp train": wall([*bp, "train"], repeats),
    }
    return {
        "seconds": rows,
        "floor": f'python -c "{FLOOR}"',
        "imports": {"bp --help": imported_by(["--help"]), "bp check": imported_by(["check"])},
    }


def rendering(configs: dict[str, Path | None], epochs: int, repeats: int) -> dict[str, object]:
    """Per config: seconds with table and bar (on a pseudo-terminal) and with --quiet."""
    bp = bp_command()
    out: dict[str, object] = {}
    for name, path in configs.items():
        argv = [*bp, "train", *([str(path)] if path else []), "--epochs", str(epochs)]
        shown = wall(argv, repeats, tty=True)
        quiet = wall([*argv, "--quiet"], repeats, tty=True)
        out[name] = {"shown": shown, "quiet": quiet}
    return out
