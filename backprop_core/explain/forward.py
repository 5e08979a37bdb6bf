"""Step 1 of the derivation (and step 7): the forward pass, written node by node.

Every listed node's ``H = sum_i O_i * w_ij (+ bias)`` and ``A = phi(H)``, the
targets, ``Y - T`` and the loss, all read from a forward `Trace` of the engine.
The same section, with the updated weight, is the pass after the update.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from backprop_core.engine.network import Trace
from backprop_core.explain.context import Context
from backprop_core.explain.expr import (
    Apply,
    Diff,
    Expr,
    Mean,
    New,
    Num,
    Over,
    Prod,
    Sym,
    Words,
    add,
)
from backprop_core.explain.formulas import activation_numbers, loss_general, loss_terms
from backprop_core.explain.notation import LOSS
from backprop_core.explain.steps import MAX_NODES, MAX_TERMS, Array, Section, Step


def forward_section(ctx: Context, key: str, title: str, trace: Trace, layers: range) -> Section:
    """The layers' nodes of `trace`, then targets and loss (``key`` "after": the new loss)."""
    net, nt, w = ctx.net, ctx.nt, ctx.w
    section = Section(key, title)
    if key == "forward":
        for i in ctx.shown_nodes(0, [w.i] if w.k == 1 and w.i else [])[0]:
            section.steps.append(ctx.step(nt.out(0, i), None, None, trace.A[0][:, i - 1]))
    for k in layers:
        act = net.layer(k).activation
        must = [w.j] if k == w.k else []
        if k == w.k - 1 and w.i:
            must = [w.i]
        shown, hidden = ctx.shown_nodes(k, must)
        for j in shown:
            section.steps.append(pre_activation(ctx, trace, k, j))
            h = float(trace.H[k][0, j - 1])
            numbers = activation_numbers(act, h) if act.elementwise else None
            formula: Expr = Apply(nt.phi(k), (nt.H(k, j),))
            if not act.elementwise:
                formula = Apply("softmax", (Sym("Y_in", "Y", (), "in", k),), sub=f"{j}")
            A = trace.A[k][:, j - 1]
            section.steps.append(ctx.step(nt.out(k, j), formula, numbers, A))
        if hidden:
            section.notes.append(f"layer {k}: {hidden} more nodes not listed")
    section.steps += targets_and_loss(ctx, trace, new=key == "after")
    return section


def pre_activation(ctx: Context, trace: Trace, k: int, j: int) -> Step:
    """``H{k}{j} = sum_i O_i(k-1) * w_ij (+ bias)``, term by term up to MAX_TERMS."""
    nt = ctx.nt
    sources = range(1, ctx.net.units[k - 1] + 1)
    bias = k in ctx.net.b
    numbers: Expr | None = None
    if len(sources) > MAX_TERMS:
        out_i = Sym(f"O_i({k - 1})", "O", ("i",), "", k - 1)
        wij = Sym(f"w_i{j}({k - 1},{k})", "w", ("i", f"{j}"), "", k, j)
        formula: Expr = Over("sum", "i", Prod((out_i, wij)))
        if bias:
            formula = add(formula, Words("bias"))
    else:
        terms: list[Expr] = [Prod((nt.out(k - 1, i), ctx.alias(k, i, j))) for i in sources]
        values: list[Expr] = [
            Prod((Num(float(trace.A[k - 1][0, i - 1])), Num(ctx.weight(k, i, j)))) for i in sources
        ]
        if bias:
            terms.append(ctx.alias(k, 0, j))
            values.append(Num(ctx.weight(k, 0, j)))
        formula, numbers = add(*terms), add(*values)
    return ctx.step(nt.H(k, j), formula, numbers, trace.H[k][:, j - 1])


def targets_and_loss(ctx: Context, trace: Trace, new: bool) -> list[Step]:
    """``T``, ``Y - T`` per output and ``L`` (or, after the update, ``L_new`` and ``L_new - L``)."""
    nt, K, m = ctx.nt, ctx.nt.K, ctx.net.units[ctx.nt.K]
    Y, T = trace.Y, ctx.T
    steps: list[Step] = []
    outputs = range(1, min(m, MAX_NODES) + 1)
    if not new:
        steps += [ctx.step(nt.T(j), None, None, T[:, j - 1]) for j in outputs]
    for j in outputs:
        y, t = Y[:, j - 1], T[:, j - 1]
        lhs = Diff(nt.out(K, j), nt.T(j))
        gap, shown = difference(float(y[0]), float(t[0]))
        step = ctx.step(lhs, None, gap, y - t)
        steps.append(replace(step, shown=shown) if ctx.n == 1 else step)
    loss = ctx.net.loss_of(trace, T)
    formula: Expr
    numbers: Expr | None
    formula, numbers = loss_formula(ctx, Y, T)
    if ctx.n > 1:
        formula, numbers = Mean(formula, ctx.n), None
    symbol: Expr = New(LOSS) if new else LOSS
    steps.append(Step(symbol, formula, numbers, loss))
    if new:
        change, shown = difference(loss, ctx.loss)
        steps.append(Step(Diff(New(LOSS), LOSS), None, change, loss - ctx.loss, shown=shown))
    return steps


def difference(a: float, b: float) -> tuple[Diff, str | None]:
    """``a - b`` written to the digits their difference needs to check by hand, and
    the difference as printed (None: as usual).

    Two losses that agree in their first 7 digits printed with 8 leave one digit
    for the difference: 0.29837098 - 0.29837111 is not -1.2385909e-07. Then
    both operands and the difference are written with the same decimals, as many
    as give the difference 5 significant digits (within the 17 a float holds).
    """
    d = a - b
    top = max(abs(a), abs(b))
    if not (np.isfinite(a) and np.isfinite(b)) or abs(d) >= top / 10:
        return Diff(Num(a), Num(b)), None  # no cancellation: 8 significant digits each
    digits = max(8, int(np.ceil(np.log10(top / abs(d)))) + 5) if d else 8
    decimals = min(digits, 17) - 1 - int(np.floor(np.log10(top)))
    if decimals < 0:
        return Diff(Num(a), Num(b)), None
    shown = [format(v, f".{decimals}f") for v in (a, b, d)]
    return Diff(Num(a, shown[0]), Num(b, shown[1])), shown[2]


def loss_formula(ctx: Context, Y: Array, T: Array) -> tuple[Expr, Expr | None]:
    """The loss written out with names and with numbers (only names past MAX_TERMS outputs)."""
    nt, m, loss = ctx.nt, Y.shape[1], ctx.net.loss
    if m <= MAX_TERMS:
        names = [(nt.out(nt.K, j), nt.T(j)) for j in range(1, m + 1)]
        written = loss_terms(loss, names, Y[0], T[0])
        if written is not None:
            return written
    return loss_general(loss), None
