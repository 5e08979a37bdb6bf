"""Rendering a training run: the per-epoch table, gradient tables, the summary."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cli.render.fit import titled_table
from cli.render.numbers import num, percent, signed


def epoch_table(rows: Sequence[Any], *, show_val: bool, show_acc: bool) -> Table:
    """rows: EpochRecord-like objects with epoch, loss, grad_norm, val_loss, accuracy ..."""
    table = Table(title="training", title_justify="left", expand=False)
    table.add_column("epoch", justify="right")
    table.add_column("loss", justify="right")
    table.add_column("change", justify="right")
    if show_val:
        table.add_column("val loss", justify="right")
    if show_acc:
        table.add_column("acc", justify="right")
        if show_val:
            table.add_column("val acc", justify="right")
    table.add_column("|dL/dw|", justify="right")
    for r in rows:
        cells = [str(r.epoch), num(r.loss), signed(r.change)]
        if show_val:
            cells.append(num(r.val_loss))
        if show_acc:
            cells.append(percent(r.accuracy))
            if show_val:
                cells.append(percent(r.val_accuracy))
        cells.append(num(r.grad_norm, 4) if not math.isnan(r.grad_norm) else "-")
        style = "red" if not math.isfinite(r.loss) else None
        table.add_row(*cells, style=style)
    return table


def step_table(
    epoch: int, rows: Sequence[tuple[str, str, float, float, float, float, bool]]
) -> Table:
    """rows: (canonical, alias, value before, gradient, step, value after, frozen)."""
    table = titled_table(
        f"gradients, epoch {epoch}",
        [
            ("weight", "left"),
            ("alias", "left"),
            ("value", "right"),
            ("dL/dw", "right"),
            ("step", "right"),
            ("new value", "right"),
        ],
    )
    for canonical, alias, value, grad, step, after, frozen in rows:
        shown = "0 (frozen)" if frozen else signed(step, 8)
        table.add_row(canonical, alias, num(value), num(grad), shown, num(after))
    return table


STATUS_STYLE = {"completed": "green", "stopped_early": "green", "diverged": "red"}


def summary(
    *,
    name: str | None,
    status: str,
    epochs_run: int,
    epochs_planned: int,
    final_loss: float,
    seconds: float,
    threads: int | None = None,
    engine: str = "vector",
    accuracy: float | None = None,
    val_loss: float | None = None,
    val_accuracy: float | None = None,
    curve: str | None = None,
) -> RenderableType:
    lines: list[RenderableType] = []
    head = Text()
    head.append(f"{name or 'run'}: ", style="bold")
    style = STATUS_STYLE.get(status, "yellow")
    head.append(status.replace("_", " "), style=style)
    head.append(f" after {epochs_run}/{epochs_planned} epochs in {seconds:.3g} s")
    if engine == "scalar":  # plain float arithmetic: no BLAS, no threads
        head.append(" (scalar path)")
    elif threads is not None:
        head.append(f" ({threads} BLAS thread{'s' if threads != 1 else ''})")
    lines.append(head)
    facts = [f"final loss {num(final_loss)}"]
    if accuracy is not None:
        facts.append(f"accuracy {percent(accuracy)}")
    if val_loss is not None:
        facts.append(f"val loss {num(val_loss)}")
    if val_accuracy is not None:
        facts.append(f"val accuracy {percent(val_accuracy)}")
    lines.append(Text(", ".join(facts)))
    if curve:
        lines.append(Text(f"loss {curve}  (log scale, epoch 1 to {epochs_run})"))
    return Group(*lines)


def weights_table(weights: Sequence[tuple[str, str, float]], total_weights: int) -> Table:
    """(canonical, alias, value) rows; a caption when only some of the weights are listed."""
    table = Table(title="final weights", title_justify="left")
    table.add_column("weight")
    table.add_column("alias")
    table.add_column("value", justify="right")
    for canonical, alias, value in weights:
        table.add_row(canonical, alias, num(value))
    if total_weights > len(weights):
        table.caption = f"{len(weights)} of {total_weights} weights shown (bp show lists all)"
    return table
