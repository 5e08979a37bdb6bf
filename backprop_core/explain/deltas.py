"""Step 4 of the derivation: the delta recursion, from the output down to the weight.

``delta(K)`` of each output from ``dL/dy`` (see explain_output.py), then
``delta_j(q) = phi'(H_j(q)) * sum_c w_jc(q,q+1) * delta_c(q+1)`` layer by layer
down to the weight's layer, and ``dL/dw = delta_j(k) * O_i(k-1)``: the engine's
backward pass, its `Gradients.delta` written out.
"""

from __future__ import annotations

from backprop_core.explain.context import Context
from backprop_core.explain.expr import (
    Bracket,
    Expr,
    Frac,
    Mean,
    Num,
    Over,
    Prod,
    Sum,
    Sym,
    Words,
    add,
    prod,
)
from backprop_core.explain.output import head, written_difference
from backprop_core.explain.steps import MAX_TERMS, Section, Step


def delta_section(ctx: Context) -> tuple[Section, dict[int, list[Step]]]:
    """The deltas section and its steps by layer (output layer first)."""
    nt, w, n = ctx.nt, ctx.w, ctx.n
    section = Section("deltas", "Delta recursion")
    deltas: dict[int, list[Step]] = {}
    for q in range(nt.K, w.k - 1, -1):
        shown, hidden = ctx.shown_nodes(q) if q != w.k else ([w.j], 0)
        steps = [delta_step(ctx, q, b) for b in shown]
        if hidden:
            section.notes.append(f"layer {q}: {hidden} more deltas not listed")
        deltas[q] = steps
        section.steps += steps
    d = ctx.grads.delta[w.k][:, w.j - 1]
    Ov = ctx.out_values(ctx.trace, w.k - 1, w.i)
    symbol = nt.dL(ctx.w_expr)
    formula: Expr = prod(nt.delta(w.k, w.j), nt.out(w.k - 1, w.i))
    numbers: Expr | None
    if n == 1:
        numbers = prod(Num(float(d[0])), Num(float(Ov[0])))
    else:
        numbers = None
        if n <= MAX_TERMS:
            pairs = zip(d, Ov, strict=True)
            total = add(*(prod(Num(float(a)), Num(float(b))) for a, b in pairs))
            numbers = prod(Frac(Num(1.0), Num(float(n))), Bracket(total))
        formula = Mean(formula, n)
    section.steps.append(Step(symbol, formula, numbers, ctx.grad))
    return section, deltas


def delta_step(ctx: Context, q: int, b: int) -> Step:
    """``delta_b(q)``: from ``dL/dy`` at the output, from the layer above otherwise."""
    nt, net, D = ctx.nt, ctx.net, ctx.grads.delta
    symbol = nt.delta(q, b)
    if q == nt.K:
        _, loss_formula, loss_numbers, dL_dy = head(ctx, b)
        if ctx.shortcut:
            return written_difference(ctx.step(symbol, loss_formula, loss_numbers, D[q][:, b - 1]))
        dphi = ctx.dphi(q, b)
        assert loss_formula is not None
        wrap = loss_formula if isinstance(loss_formula, Sym | Words) else Bracket(loss_formula)
        return ctx.step(
            symbol,
            prod(nt.dphi(q, nt.H(q, b)), wrap),
            prod(Num(float(dphi[0])), Num(float(dL_dy[0]))),
            D[q][:, b - 1],
        )
    dphi = ctx.dphi(q, b)
    nxt = range(1, net.units[q + 1] + 1)
    phi = nt.dphi(q, nt.H(q, b))
    numbers: Expr | None = None
    if len(nxt) > MAX_TERMS:
        w_bj = Sym(f"w_{b}j({q},{q + 1})", "w", (f"{b}", "j"), "", q + 1)
        d_j = Sym(f"delta_j({q + 1})", "delta", ("j",), "", q + 1)
        formula: Expr = prod(phi, Over("sum", "j", Prod((w_bj, d_j))))
    else:
        terms = [Prod((ctx.alias(q + 1, b, c), nt.delta(q + 1, c))) for c in nxt]
        nums = [Prod((Num(ctx.weight(q + 1, b, c)), Num(float(D[q + 1][0, c - 1])))) for c in nxt]
        if len(terms) == 1:
            formula, numbers = prod(phi, terms[0]), prod(Num(float(dphi[0])), nums[0])
        else:
            formula = prod(phi, Bracket(Sum(tuple(terms)), square=True))
            numbers = prod(Num(float(dphi[0])), Bracket(Sum(tuple(nums)), square=True))
    return ctx.step(symbol, formula, numbers, D[q][:, b - 1])
