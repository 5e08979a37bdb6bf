"""Step 2 of the derivation: ``dL/dy`` for every output, where the chain rule starts.

`head` is that first factor for one output, written with the loss's own
derivative (from the loss table), or ``dL/dY_in = Y - T`` past the engine's
canonical-link shortcut. The chain-rule paths and the delta recursion start from it.
"""

from __future__ import annotations

import numpy as np

from backprop_core.engine.losses import LOSSES, OUTPUT_DELTA_SHORTCUT
from backprop_core.explain.context import Context
from backprop_core.explain.steps import MAX_NODES, Array, Section, operand


def head(ctx: Context, j: int) -> tuple[str, str, str, Array]:
    """dL/dy (or, with the shortcut, dL/dY_in) for output j: symbol, formula, numbers, values."""
    nt, K, m = ctx.nt, ctx.nt.K, ctx.net.units[ctx.nt.K]
    Y, T = ctx.trace.Y[:, j - 1], ctx.T[:, j - 1]
    yn, tn, y, t = nt.out(K, j), nt.T(j), operand(Y[0]), operand(T[0])
    if ctx.shortcut:
        values = ctx.net.output_delta(ctx.trace, ctx.T)[:, j - 1]
        # The shortcut is (Y - T) / scale: read the scale off the table, not a copy of it.
        unit = OUTPUT_DELTA_SHORTCUT[ctx.net.loss](np.ones((1, m)), np.zeros((1, m)))
        if float(unit[0, 0]) == 1.0:
            return f"dL/d{nt.H(K, j)}", f"{yn} - {tn}", f"{y} - {t}", values
        return f"dL/d{nt.H(K, j)}", f"({yn} - {tn}) / {m}", f"({y} - {t}) / {m}", values
    values = LOSSES[ctx.net.loss][1](ctx.trace.Y, ctx.T)[:, j - 1]
    per = "" if m == 1 else f" / {m}"
    formulas = {
        "sse": (f"{yn} - {tn}", f"{y} - {t}"),
        "mse": (f"2 * ({yn} - {tn}){per}", f"2 * ({y} - {t}){per}"),
        "cross_entropy": (f"-{tn} / {yn}", f"-{t} / {y}"),
        "bce": (
            f"({yn} - {tn}) / ({yn} * (1 - {yn})){per}",
            f"({y} - {t}) / ({y} * (1 - {y})){per}",
        ),
    }
    formula, numbers = formulas.get(ctx.net.loss, ("", ""))
    return f"dL/d{nt.d(K, j)}", formula, numbers, values


def output_section(ctx: Context) -> Section:
    section = Section("output", "Derivative of the loss")
    K, m = ctx.nt.K, ctx.net.units[ctx.nt.K]
    for j in range(1, min(m, MAX_NODES) + 1):
        section.steps.append(ctx.step(*head(ctx, j)))
    if ctx.shortcut:
        act = ctx.net.layer(K).activation.name
        section.notes.append(
            f"{act} + {ctx.net.loss}: the loss's derivative through the {act} output "
            f"simplifies to dL/dY_in = Y - T{' (scaled)' if ctx.net.loss == 'bce' else ''}, "
            "so the chain starts at Y_in and the output layer has no phi' factor."
        )
    if ctx.n > 1:
        section.notes.append("Per sample; the gradient is the mean over the samples.")
    return section
