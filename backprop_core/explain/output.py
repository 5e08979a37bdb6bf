"""Step 2 of the derivation: ``dL/dy`` for every output, where the chain rule starts.

`head` is that first factor for one output, written with the loss's own
derivative (from the loss record), or ``dL/dY_in = Y - T`` past the engine's
canonical-link shortcut. The chain-rule paths and the delta recursion start from it.
"""

from __future__ import annotations

import numpy as np

from backprop_core.explain.context import Context
from backprop_core.explain.steps import MAX_NODES, Array, Section, operand


def head(ctx: Context, j: int) -> tuple[str, str, str, Array]:
    """dL/dy (or, with the shortcut, dL/dY_in) for output j: symbol, formula, numbers, values."""
    nt, K, m = ctx.nt, ctx.nt.K, ctx.net.units[ctx.nt.K]
    Y, T = ctx.trace.Y[:, j - 1], ctx.T[:, j - 1]
    yn, tn, y, t = nt.out(K, j), nt.T(j), operand(Y[0]), operand(T[0])
    if ctx.shortcut:
        values = ctx.net.output_delta(ctx.trace, ctx.T)[:, j - 1]
        if not shortcut_scaled(ctx, m):
            return f"dL/d{nt.H(K, j)}", f"{yn} - {tn}", f"{y} - {t}", values
        return f"dL/d{nt.H(K, j)}", f"({yn} - {tn}) / {m}", f"({y} - {t}) / {m}", values
    record = ctx.net.loss_record
    values = record.dL_dY(ctx.trace.Y, ctx.T)[:, j - 1]
    formula = record.write_derivative(yn, tn, m)
    return f"dL/d{nt.d(K, j)}", formula, record.write_derivative(y, t, m), values


def shortcut_scaled(ctx: Context, m: int) -> bool:
    """Does the shortcut divide Y - T by a scale at m outputs? Read off the record."""
    delta = ctx.net.loss_record.output_delta
    assert delta is not None
    return float(delta(np.ones((1, m)), np.zeros((1, m)))[0, 0]) != 1.0


def output_section(ctx: Context) -> Section:
    section = Section("output", "Derivative of the loss")
    K, m = ctx.nt.K, ctx.net.units[ctx.nt.K]
    for j in range(1, min(m, MAX_NODES) + 1):
        section.steps.append(ctx.step(*head(ctx, j)))
    if ctx.shortcut:
        act = ctx.net.layer(K).activation.name
        section.notes.append(
            f"{act} + {ctx.net.loss}: the loss's derivative through the {act} output "
            f"simplifies to dL/dY_in = Y - T{' (scaled)' if shortcut_scaled(ctx, 2) else ''}, "
            "so the chain starts at Y_in and the output layer has no phi' factor."
        )
    if ctx.n > 1:
        section.notes.append("Per sample; the gradient is the mean over the samples.")
    return section
