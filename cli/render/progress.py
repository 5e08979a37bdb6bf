"""Progress for long runs: a throttled bar on a terminal, a line per logged epoch otherwise.

Nothing is shown for the first second, so short runs (the reference example)
print only their table.
"""

from __future__ import annotations

import math
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cli.console import stderr
from cli.render.numbers import num

if TYPE_CHECKING:
    from rich.progress import Progress

DELAY = 1.0  # seconds before anything is shown
REFRESH = 0.1  # seconds between bar updates


def logged_epochs(epochs: int, every: int | None) -> int:
    """Log every N-th epoch: about 20 rows by default (plus the first and last)."""
    if every is not None:
        return max(1, every)
    return max(1, math.ceil(epochs / 20))


def is_logged(epoch: int, every: int, last: int) -> bool:
    return epoch == 1 or epoch % every == 0 or epoch == last


class EpochProgress:
    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled
        # The console is made when there is something to show (after DELAY): a
        # short run, or one that shows no progress (--quiet, --json), makes none.
        self.console: Any = None
        self.interactive = False
        self.start = time.perf_counter()
        self.last = 0.0
        self.bar: Progress | None = None
        self.task = None

    def __enter__(self) -> EpochProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, epoch: int, loss: float, logged: bool) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.start < DELAY:
            return
        if self.console is None:
            self.console = stderr()
            self.interactive = self.console.is_terminal
        if not self.interactive:
            if logged:
                self.console.print(f"epoch {epoch}/{self.total}  loss {num(loss)}", highlight=False)
            return
        if now - self.last < REFRESH and epoch != self.total:
            return
        self.last = now
        if self.bar is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("training"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.task = self.bar.add_task("train", total=self.total, loss="")
            self.bar.start()
        assert self.task is not None
        self.bar.update(self.task, completed=epoch, loss=num(loss, 5))
