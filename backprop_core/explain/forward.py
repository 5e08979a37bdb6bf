"""Step 1 of the derivation (and step 7): the forward pass, written node by node.

Every listed node's ``H = sum_i O_i * w_ij (+ bias)`` and ``A = phi(H)``, the
targets, ``Y - T`` and the loss, all read from a forward `Trace` of the engine.
The same section, with the updated weight, is the pass after the update.
"""

from __future__ import annotations

from backprop_core.engine.activations import Activation
from backprop_core.engine.network import Trace
from backprop_core.explain.context import Context
from backprop_core.explain.steps import MAX_NODES, MAX_TERMS, Array, Section, Step, fmt, operand


def forward_section(ctx: Context, key: str, title: str, trace: Trace, layers: range) -> Section:
    """The layers' nodes of `trace`, then targets and loss (``key`` "after": the new loss)."""
    net, nt, w = ctx.net, ctx.nt, ctx.w
    section = Section(key, title)
    if key == "forward":
        for i in ctx.shown_nodes(0, [w.i] if w.k == 1 and w.i else [])[0]:
            section.steps.append(ctx.step(nt.out(0, i), "", "", trace.A[0][:, i - 1]))
    for k in layers:
        act = net.layer(k).activation
        must = [w.j] if k == w.k else []
        if k == w.k - 1 and w.i:
            must = [w.i]
        shown, hidden = ctx.shown_nodes(k, must)
        for j in shown:
            section.steps.append(pre_activation(ctx, trace, k, j))
            h = trace.H[k][:, j - 1]
            numbers = written(act, h[0]) if act.elementwise else ""
            formula = f"{nt.phi(k)}({nt.H(k, j)})"
            if not act.elementwise:
                formula = f"softmax(Y_in)_{j}"
            A = trace.A[k][:, j - 1]
            section.steps.append(ctx.step(nt.out(k, j), formula, numbers, A))
        if hidden:
            section.notes.append(f"layer {k}: {hidden} more nodes not listed")
    section.steps += targets_and_loss(ctx, trace, new=key == "after")
    return section


def written(act: Activation, h: float) -> str:
    """``A = phi(H)`` with numbers, as the activation's record writes it."""
    write = act.record.write
    if write is None:
        return f"{act.name}({fmt(h)})"
    return write(operand(h), **{key: fmt(v) for key, v in act.params.items()})


def pre_activation(ctx: Context, trace: Trace, k: int, j: int) -> Step:
    """``H{k}{j} = sum_i O_i(k-1) * w_ij (+ bias)``, term by term up to MAX_TERMS."""
    nt = ctx.nt
    sources = range(1, ctx.net.units[k - 1] + 1)
    bias = k in ctx.net.b
    if len(sources) > MAX_TERMS:
        formula = f"sum_i O_i({k - 1}) * w_i{j}({k - 1},{k})" + (" + bias" if bias else "")
        numbers = ""
    else:
        terms = [f"{nt.out(k - 1, i)} * {ctx.alias(k, i, j)}" for i in sources]
        nums = [
            f"{operand(trace.A[k - 1][0, i - 1])} * {operand(ctx.weight(k, i, j))}" for i in sources
        ]
        if bias:
            terms.append(ctx.alias(k, 0, j))
            nums.append(operand(ctx.weight(k, 0, j)))
        formula, numbers = " + ".join(terms), " + ".join(nums)
    return ctx.step(nt.H(k, j), formula, numbers, trace.H[k][:, j - 1])


def targets_and_loss(ctx: Context, trace: Trace, new: bool) -> list[Step]:
    """``T``, ``Y - T`` per output and ``L`` (or, after the update, ``L_new`` and ``L_new - L``)."""
    nt, K, m = ctx.nt, ctx.nt.K, ctx.net.units[ctx.nt.K]
    Y, T = trace.Y, ctx.T
    steps: list[Step] = []
    outputs = range(1, min(m, MAX_NODES) + 1)
    if not new:
        steps += [ctx.step(nt.T(j), "", "", T[:, j - 1]) for j in outputs]
    for j in outputs:
        y, t = Y[:, j - 1], T[:, j - 1]
        steps.append(
            ctx.step(f"{nt.out(K, j)} - {nt.T(j)}", "", f"{operand(y[0])} - {operand(t[0])}", y - t)
        )
    loss = ctx.net.loss_of(trace, T)
    formula, numbers = loss_formula(ctx, Y, T)
    if ctx.n > 1:
        formula, numbers = f"mean over the {ctx.n} samples of {formula}", ""
    steps.append(Step("L_new" if new else "L", formula, numbers, loss))
    if new:
        steps.append(
            Step("L_new - L", "", f"{operand(loss)} - {operand(ctx.loss)}", loss - ctx.loss)
        )
    return steps


def loss_formula(ctx: Context, Y: Array, T: Array) -> tuple[str, str]:
    """The loss written out with names and with numbers (only names past MAX_TERMS outputs)."""
    nt, m, record = ctx.nt, Y.shape[1], ctx.net.loss_record
    if record.write_terms is not None and m <= MAX_TERMS:
        names = [(nt.out(nt.K, j), nt.T(j)) for j in range(1, m + 1)]
        numbers = [(operand(Y[0, j]), operand(T[0, j])) for j in range(m)]
        return record.write_terms(names), record.write_terms(numbers)
    return record.formula, ""
