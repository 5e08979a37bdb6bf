"""Real processes that run beside the suite (the exported script under torchrun and
under plain python).

A test module lists them in BACKGROUND (test name -> a function that starts one in
a folder). conftest.py starts those of the selected tests when the session's first
test runs, so they use the core pytest leaves idle, and each test waits for its own
with `finished`.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

Launch = Callable[[Path], "subprocess.Popen[str]"]
Started = dict[str, "tuple[Path, subprocess.Popen[str]] | Exception"]


def start_selected(items: Iterable[Any], folder: Callable[[], Path]) -> Started:
    """Start the BACKGROUND process of every item that has one, by node id."""
    started: Started = {}
    for item in items:
        launches: dict[str, Launch] = getattr(getattr(item, "module", None), "BACKGROUND", {})
        launch = launches.get(item.name)
        if launch is not None:
            where = folder()
            try:
                started[item.nodeid] = (where, launch(where))
            except Exception as e:  # reported by its own test, not by the session's first
                started[item.nodeid] = e
    return started


def stop(started: Started) -> None:
    """End the processes whose tests did not wait for them (deselected or failed early)."""
    for entry in started.values():
        if not isinstance(entry, Exception) and entry[1].poll() is None:
            os.killpg(entry[1].pid, signal.SIGKILL)  # its own group: torchrun's workers too
            entry[1].communicate()


def start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    """A process in its own group (so `stop` ends its children), one thread per process."""
    return subprocess.Popen(
        args,
        cwd=cwd,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finished(started: Started, request: pytest.FixtureRequest) -> tuple[Path, str]:
    """The folder and standard output of the requesting test's process, once it has ended."""
    entry = started[request.node.nodeid]
    if isinstance(entry, Exception):
        raise entry
    folder, process = entry
    stdout, stderr = process.communicate(timeout=600)
    if process.returncode != 0:
        (folder / "stderr.txt").write_text(stderr)  # the whole of it, for the record
    # A worker's own last words come first in torchrun's output, its summary last.
    assert process.returncode == 0, f"{stderr[:3000]}\n...\n{stderr[-1500:]}"
    return folder, stdout
