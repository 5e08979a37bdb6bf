"""Step 4 of the derivation: the delta recursion, from the output down to the weight.

``delta(K)`` of each output from ``dL/dy`` (see explain_output.py), then
``delta_j(q) = phi'(H_j(q)) * sum_c w_jc(q,q+1) * delta_c(q+1)`` layer by layer
down to the weight's layer, and ``dL/dw = delta_j(k) * O_i(k-1)``: the engine's
backward pass, its `Gradients.delta` written out.
"""

from __future__ import annotations

from backprop_core.explain.context import Context
from backprop_core.explain.output import head
from backprop_core.explain.steps import MAX_TERMS, Section, Step, operand


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
    symbol = f"dL/d{ctx.w_alias}"
    formula = f"{nt.delta(w.k, w.j)} * {nt.out(w.k - 1, w.i)}"
    if n == 1:
        numbers = f"{operand(d[0])} * {operand(Ov[0])}"
    else:
        numbers = ""
        if n <= MAX_TERMS:
            pairs = zip(d, Ov, strict=True)
            numbers = "(" + " + ".join(f"{operand(a)} * {operand(b)}" for a, b in pairs)
            numbers += f") / {n}"
        formula = f"mean over the {n} samples of {formula}"
    section.steps.append(Step(symbol, formula, numbers, ctx.grad))
    return section, deltas


def delta_step(ctx: Context, q: int, b: int) -> Step:
    """``delta_b(q)``: from ``dL/dy`` at the output, from the layer above otherwise."""
    nt, net, D = ctx.nt, ctx.net, ctx.grads.delta
    symbol = nt.delta(q, b)
    if q == nt.K:
        _, formula, numbers, dL_dy = head(ctx, b)
        if ctx.shortcut:
            return ctx.step(symbol, formula, numbers, D[q][:, b - 1])
        dphi = ctx.dphi(q, b)
        wrap = f"({formula})" if " " in formula else formula
        return ctx.step(
            symbol,
            f"{nt.phi(q)}'({nt.H(q, b)}) * {wrap}",
            f"{operand(dphi[0])} * {operand(dL_dy[0])}",
            D[q][:, b - 1],
        )
    dphi = ctx.dphi(q, b)
    nxt = range(1, net.units[q + 1] + 1)
    phi = f"{nt.phi(q)}'({nt.H(q, b)})"
    if len(nxt) > MAX_TERMS:
        formula = f"{phi} * sum_j w_{b}j({q},{q + 1}) * delta_j({q + 1})"
        numbers = ""
    else:
        terms = [f"{ctx.alias(q + 1, b, c)} * {nt.delta(q + 1, c)}" for c in nxt]
        nums = [f"{operand(ctx.weight(q + 1, b, c))} * {operand(D[q + 1][0, c - 1])}" for c in nxt]
        if len(terms) == 1:
            formula, numbers = f"{phi} * {terms[0]}", f"{operand(dphi[0])} * {nums[0]}"
        else:
            formula = f"{phi} * [{' + '.join(terms)}]"
            numbers = f"{operand(dphi[0])} * [{' + '.join(nums)}]"
    return ctx.step(symbol, formula, numbers, D[q][:, b - 1])
