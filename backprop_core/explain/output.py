"""Step 2 of the derivation: ``dL/dy`` for every output, where the chain rule starts.

`head` is that first factor for one output, written with the loss's own
derivative (from the loss table), or ``dL/dY_in = Y - T`` past the engine's
canonical-link shortcut. The chain-rule paths and the delta recursion start from it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from backprop_core.explain.context import Context
from backprop_core.explain.expr import (
    Bracket,
    Diff,
    Expr,
    Frac,
    Neg,
    Num,
    Over,
    Prod,
    Prose,
    Sum,
    Sym,
)
from backprop_core.explain.formulas import loss_derivative
from backprop_core.explain.forward import difference
from backprop_core.explain.steps import MAX_NODES, MAX_TERMS, Array, Section, Step

# The output as a whole, in the notes on the shortcut: Y_in, Y, T (one node or many).
Y_IN, Y_OUT, T_OUT = Sym("Y_in", "Y", (), "in"), Sym("Y", "Y"), Sym("T", "T")


def head(ctx: Context, j: int) -> tuple[Expr, Expr | None, Expr | None, Array]:
    """dL/dy (or, with the shortcut, dL/dY_in) for output j: symbol, formula, numbers, values."""
    nt, K, m = ctx.nt, ctx.nt.K, ctx.net.units[ctx.nt.K]
    Y, T = ctx.trace.Y[:, j - 1], ctx.T[:, j - 1]
    yn, tn, y, t = nt.out(K, j), nt.T(j), Num(float(Y[0])), Num(float(T[0]))
    if ctx.shortcut:
        values = ctx.net.output_delta(ctx.trace, ctx.T)[:, j - 1]
        symbol = nt.dL(nt.H(K, j))
        if not shortcut_scaled(ctx, m):
            return symbol, Diff(yn, tn), Diff(y, t), values
        M = Num(float(m))
        return symbol, Frac(Bracket(Diff(yn, tn)), M), Frac(Bracket(Diff(y, t)), M), values
    loss = ctx.net.loss
    values = ctx.net.loss_record.dL_dY(ctx.trace.Y, ctx.T)[:, j - 1]
    formula, numbers = loss_derivative(loss, yn, tn, m), loss_derivative(loss, y, t, m)
    return nt.dL(nt.d(K, j)), formula, numbers, values


def shortcut_scaled(ctx: Context, m: int) -> bool:
    """Does the shortcut divide Y - T by a scale at m outputs? Read off the record."""
    delta = ctx.net.loss_record.output_delta
    assert delta is not None
    return float(delta(np.ones((1, m)), np.zeros((1, m)))[0, 0]) != 1.0


def written_difference(step: Step) -> Step:
    """``Y - T`` of one sample written, as in the forward pass, to the digits its
    difference needs when Y and T nearly agree (other steps pass unchanged)."""
    numbers = step.numbers
    if (
        isinstance(numbers, Diff)
        and isinstance(numbers.left, Num)
        and isinstance(numbers.right, Num)
    ):
        gap, shown = difference(numbers.left.value, numbers.right.value)
        return replace(step, numbers=gap, shown=shown)
    return step


def output_section(ctx: Context) -> Section:
    section = Section("output", "Derivative of the loss")
    K, m = ctx.nt.K, ctx.net.units[ctx.nt.K]
    for j in range(1, min(m, MAX_NODES) + 1):
        section.steps.append(written_difference(ctx.step(*head(ctx, j))))
    if ctx.shortcut:
        act = ctx.net.layer(K).activation.name
        section.notes.append(
            Prose(
                f"{act} + {ctx.net.loss}: the loss's derivative through the {act} output "
                "simplifies to ",
                ctx.nt.dL(Y_IN),
                " = ",
                Diff(Y_OUT, T_OUT),
                f"{' (scaled)' if ctx.net.loss == 'bce' else ''}, so the chain starts at ",
                Y_IN,
                " and the output layer has no phi' factor.",
            )
        )
    if ctx.n > 1:
        section.notes.append("Per sample; the gradient is the mean over the samples.")
    return section


def jacobian_section(ctx: Context) -> Section:
    """softmax + cross-entropy: the Jacobian ``dY_i/dY_in_j = Y_i (delta_ij - Y_j)`` and
    how the chain through it collapses to ``dL/dY_in_j = Y_j - T_j``.

    The engine never forms this matrix (it uses the collapsed form); its entries
    are written from the engine's Y, and the collapsed sums from its -T / Y.
    """
    nt, K, m = ctx.nt, ctx.nt.K, ctx.net.units[ctx.nt.K]
    section = Section("jacobian", "Softmax Jacobian: why the chain starts at Y - T")
    if m > MAX_TERMS:
        section.notes.append(f"{m} outputs: the {m} x {m} Jacobian is not written out.")
        return section
    Y, T = ctx.trace.Y, ctx.T
    outs = range(1, m + 1)
    one = Num(1.0)
    for i in outs:
        for j in outs:
            yi, yj = nt.out(K, i), nt.out(K, j)
            a, b = Num(float(Y[0, i - 1])), Num(float(Y[0, j - 1]))
            same = i == j
            formula = Prod((yi, Bracket(Diff(one, yj)))) if same else Neg(Prod((yi, yj)))
            numbers = Prod((a, Bracket(Diff(one, b)))) if same else Neg(Prod((a, b)))
            values = Y[:, i - 1] * (float(same) - Y[:, j - 1])
            lhs = nt.deriv(nt.d(K, i), nt.H(K, j))
            section.steps.append(ctx.step(lhs, formula, numbers, values))
    dL_dY = -T / Y  # cross_entropy's dL/dY, as the loss record has it (Y > 0 under softmax)
    delta = ctx.net.output_delta(ctx.trace, ctx.T)
    for j in outs:
        terms = [Prod((nt.dL(nt.d(K, i)), nt.deriv(nt.d(K, i), nt.H(K, j)))) for i in outs]
        nums = [
            Prod((Num(float(dL_dY[0, i - 1])), Num(float(Y[0, i - 1] * ((i == j) - Y[0, j - 1])))))
            for i in outs
        ]
        section.steps.append(
            ctx.step(nt.dL(nt.H(K, j)), Sum(tuple(terms)), Sum(tuple(nums)), delta[:, j - 1])
        )
    Ti, Yi = Sym("T_i", "T", ("i",)), Sym("Y_i", "Y", ("i",))
    Tj, Yj = Sym("T_j", "T", ("j",)), Sym("Y_j", "Y", ("j",))
    kronecker = Sym("delta_ij", "delta", ("i", "j"))
    section.notes.append(
        Prose(
            "Each term is ",
            Prod((Bracket(Frac(Neg(Ti), Yi)), Yi, Bracket(Diff(kronecker, Yj)))),
            ": the sum is ",
            Sum((Neg(Tj), Prod((Yj, Over("sum", "i", Ti))))),
            " = ",
            Diff(Yj, Tj),
            ", because the targets of a sample sum to 1. So the chain starts at ",
            ctx.nt.dL(Y_IN),
            " = ",
            Diff(Y_OUT, T_OUT),
            ", with no phi' factor for the output layer.",
        )
    )
    return section
