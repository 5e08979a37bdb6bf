"""Start-up and rendering costs, timed as a user sees them: whole `bp` processes.

Each `bp` command is paired with the imports it cannot avoid, run in turn
(A B A B ...) so that a slow spell of a shared machine falls on both alike:
`bp check` and `bp train` (the reference example) against
`python -c "import numpy, yaml, typer, pydantic"`, `bp --help` against
`python -c "import typer"`. Figures are medians of CPU time (user + system, as
the kernel accounts the child) and of the per-pair ratios. Every process runs
with bytecode caching on (as after `pip install`), after one warm-up run.

The `bp` script exits without tearing the interpreter down (cli/entry.py), which
the `python -c` references do not skip: `bp check` is also paired with the same
imports followed by `os._exit(0)`, so the report shows how much of the margin
that exit accounts for.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

FLOOR = "import numpy, yaml, typer, pydantic"
FLOOR_WITHOUT_TEARDOWN = "import numpy, yaml, typer, pydantic, os; os._exit(0)"
# The same imports with OpenBLAS started on one thread, as the `bp` script starts it
# (backprop_core/run/threads.py): the reference's OpenBLAS thread spins ~55 ms of CPU.
FLOOR_ONE_BLAS_THREAD = "OPENBLAS_NUM_THREADS=1 " + FLOOR
REFERENCE_ENV = {FLOOR_ONE_BLAS_THREAD: {"OPENBLAS_NUM_THREADS": "1"}}
TYPER = "import typer"
HEAVY = ("numpy", "pydantic", "yaml", "backprop_core.engine", "rich")
# command label -> (bp arguments, reference label)
PAIRS = {
    "bp --help": (["--help"], TYPER),
    "bp check": (["check"], FLOOR),
    "bp train": (["train"], FLOOR),  # its table drawn (to a pipe), as a user runs it
    "bp train --quiet": (["train", "--quiet"], FLOOR),
    # Not targets: the same imports without the interpreter's teardown, or with
    # OpenBLAS on one thread: how much of the margin each accounts for.
    "bp check (reference exits without teardown)": (["check"], FLOOR_WITHOUT_TEARDOWN),
    "bp train (reference's OpenBLAS on one thread)": (["train"], FLOOR_ONE_BLAS_THREAD),
}


def bp_command() -> list[str]:
    """The `bp` console script of this Python (not a shell shim), else `python -m cli`."""
    script = Path(sys.executable).parent / "bp"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc files
    return {**env, **extra}


def run(
    argv: list[str], *, tty: bool = False, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of running argv to completion (output discarded)."""
    if tty and shutil.which("script"):
        # Under a pseudo-terminal rich draws the live progress bar, as for a user.
        argv = ["script", "-qfec", subprocess.list2cmdline(argv), "/dev/null"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_env(**(env or {})),
        check=False,
    )
    if done.returncode != 0:
        # A command that fails at once would time as fast as can be: never a figure.
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise SystemExit(
            f"benchmark: {subprocess.list2cmdline(argv)} exited {done.returncode}: {last[0]}"
        )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def imported_by(args: list[str]) -> list[str]:
    """Which heavy modules a `bp` invocation imports (run in-process in a child)."""
    code = (
        "import sys\n"
        f"sys.argv = ['bp', *{args!r}]\n"
        "import cli.entry, cli.app\n"
        "cli.entry.prepare()\n"  # as the `bp` script does (without its quick exit)
        "try:\n    cli.app.main()\nexcept SystemExit:\n    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.__stderr__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    last = done.stderr.strip().splitlines()[-1:] or [""]
    return [m for m in last[0].split(",") if m]


def startup(repeats: int) -> dict[str, object]:
    bp = bp_command()
    references = {
        TYPER: [sys.executable, "-c", TYPER],
        FLOOR: [sys.executable, "-c", FLOOR],
        FLOOR_WITHOUT_TEARDOWN: [sys.executable, "-c", FLOOR_WITHOUT_TEARDOWN],
        FLOOR_ONE_BLAS_THREAD: [sys.executable, "-c", FLOOR],
    }
    commands = {name: [*bp, *args] for name, (args, _) in PAIRS.items()}
    if repeats > 1:  # (a smoke run only checks that every figure is produced)
        for argv in [*references.values(), *commands.values()]:
            run(argv)  # warm-up: .pyc files written, files in the page cache
    times: dict[str, list[tuple[float, float]]] = {n: [] for n in [*references, *commands]}
    for _ in range(repeats):
        for name, argv in [*commands.items(), *references.items()]:
            times[name].append(run(argv, env=REFERENCE_ENV.get(name)))
    rows: dict[str, dict[str, float]] = {}
    for name, pairs in times.items():
        rows[name] = {
            "wall": statistics.median(w for w, _ in pairs),
            "cpu": statistics.median(c for _, c in pairs),
        }
    for name, (_, reference) in PAIRS.items():
        ratios = [
            a[1] / b[1] for a, b in zip(times[name], times[reference], strict=True) if b[1] > 0
        ]
        rows[name]["reference"] = reference  # type: ignore[assignment]
        rows[name]["ratio"] = statistics.median(ratios) if ratios else float("nan")
    return {
        "rows": rows,
        "repeats": repeats,
        "imports": {"bp --help": imported_by(["--help"]), "bp check": imported_by(["check"])},
    }


def rendering(configs: dict[str, Path | None], epochs: int, repeats: int) -> dict[str, object]:
    """Per config: seconds with table and bar (on a pseudo-terminal) and with --quiet."""
    bp = bp_command()
    out: dict[str, object] = {}
    for name, path in configs.items():
        argv = [*bp, "train", *([str(path)] if path else []), "--epochs", str(epochs)]
        shown = statistics.median(run(argv, tty=True)[0] for _ in range(repeats))
        quiet = statistics.median(run([*argv, "--quiet"], tty=True)[0] for _ in range(repeats))
        out[name] = {"shown": shown, "quiet": quiet}
    return out
