"""Tables for `bp grads` and `bp show` (rich renderables, no math)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.text import Text

from cli.render.fit import titled_table
from cli.render.numbers import num

if TYPE_CHECKING:  # imported where used: `bp --help` loads no numpy
    from backprop_core.run.inspection import GradReport, NetworkSummary


def grads_table(report: GradReport) -> list[RenderableType]:
    """The step table, then any notes (the caller fits tables to the terminal)."""
    table = titled_table(
        f"one gradient-descent step, eta = {num(report.eta)}, loss = {num(report.loss)}",
        [
            ("weight", "left"),
            ("alias", "left"),
            ("value", "right"),
            ("dL/dw", "right"),
            ("numeric", "right"),
            ("step -eta*dL/dw", "right"),
            ("new value", "right"),
        ],
    )
    for r in report.rows:
        step = "0 (frozen)" if r.frozen else num(r.step)
        table.add_row(
            r.name,
            r.alias,
            num(r.value),
            num(r.grad),
            num(r.numeric_grad),
            step,
            num(r.new_value),
        )
    notes: list[RenderableType] = [table]
    if report.numeric_skipped:
        notes.append(
            Text(
                f"numeric gradients skipped for {len(report.rows)} weights; "
                "bp gradcheck checks a sample of them",
                style="italic",
            )
        )
    if report.optimizer != "sgd":
        notes.append(
            Text(
                f"training uses {report.optimizer}; the step shown is plain gradient descent",
                style="italic",
            )
        )
    return notes


def show_tables(summary: NetworkSummary) -> list[RenderableType]:
    title = f"network {summary.name}" if summary.name else "network"
    samples = f"{summary.samples} training sample{'s' if summary.samples != 1 else ''}"
    layers = titled_table(
        f"{title}: loss {summary.loss}, {summary.parameter_count} parameters, {samples}",
        [
            ("layer", "right"),
            ("role", "left"),
            ("units", "right"),
            ("activation", "left"),
            ("bias", "left"),
            ("parameters", "right"),
        ],
    )
    for row in summary.layers:
        layers.add_row(
            str(row.layer),
            row.role,
            str(row.units),
            row.activation or "-",
            "-" if row.role == "input" else ("yes" if row.bias else "no"),
            str(row.parameters) if row.role != "input" else "-",
        )
    weights = titled_table(
        "weights", [("weight", "left"), ("alias", "left"), ("value", "right"), ("", "left")]
    )
    for canonical, alias, value, frozen in summary.weights:
        weights.add_row(canonical, alias, num(value), "frozen" if frozen else "")
    return [layers, weights]
