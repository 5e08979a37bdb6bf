"""Step 3 of the derivation: the chain rule, path by path.

Every path from the weight's node ``j`` of layer k through one node per layer
to an output is a product of factors: ``dL/dy`` (see explain_output.py), one
``d(node)/d(node below) = phi'(H) * w`` per layer, and the weight's own factor
``phi'(H) * O_i`` last. The distinct factors form the "chain" section; each
path's product and their sum, which is ``dL/dw``, the "paths" section.

How many paths are listed, and how many samples x paths are multiplied out at
all, are the caller's limits (`explain` passes MAX_LISTED_PATHS, TOP_PATHS and
MAX_PATH_CELLS of backprop_core/explain/derivation.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from backprop_core.explain.context import Context
from backprop_core.explain.expr import Bracket, Expr, Mean, Num, Prod, Prose, Words, add, prod
from backprop_core.explain.formulas import phi_prime
from backprop_core.explain.output import head
from backprop_core.explain.steps import (
    MAX_TABLE_SAMPLES,
    TABLE_HEAD,
    Array,
    Path,
    SampleTable,
    Section,
    Step,
    fmt,
)


def chain_sections(
    ctx: Context, *, max_listed: int, top: int, max_cells: int
) -> tuple[Section, Section, list[Path], int, float | None, float | None]:
    """The chain and paths sections, the listed paths, their count, sum and unlisted sum.

    Past `max_listed` paths only the `top` largest contributions are listed; past
    `max_cells` samples x paths only the count is given (sum and paths: None, []).
    """
    net, nt, w = ctx.net, ctx.nt, ctx.w
    K, k, n = nt.K, w.k, ctx.n
    widths = [net.units[q] for q in range(k + 1, K + 1)]
    count = math.prod(widths)  # exact: 3 units in 41 layers is past any fixed-width integer
    chain = Section("chain", Prose("Chain rule: every path from ", ctx.w_expr, " to the output"))
    paths_section = Section("paths", "Paths and their sum")
    tail_step, tail_values = tail(ctx)
    if count * n > max_cells:
        chain.notes.append(
            f"{count} paths: too many to multiply out; the delta form below carries the derivation."
        )
        return chain, paths_section, [], count, None, None
    # P[s, j_{k+1}, ..., j_K]: each path's per-sample product, built one layer at a
    # time from the same factors the steps show (phi'(H) * w, or w past the shortcut).
    F = {q: factor_matrix(ctx, q) for q in range(k + 1, K + 1)}  # (n, units[q-1], units[q])
    P = tail_values[:, None] * F[k + 1][:, w.j - 1, :] if k < K else tail_values
    for q in range(k + 2, K + 1):
        ones = [1] * (P.ndim - 2)
        P = P[..., None] * F[q].reshape(n, *ones, net.units[q - 1], net.units[q])
    heads = np.stack([head(ctx, j)[3] for j in range(1, net.units[K] + 1)], -1)  # (n, m)
    if k < K:
        P = P * heads.reshape(n, *([1] * (P.ndim - 2)), net.units[K])
    else:
        P = P * heads[:, w.j - 1]
    products = P.reshape(n, -1).mean(axis=0)
    total = float(products.sum())
    truncated = count > max_listed
    order = list(range(count))
    if truncated:
        order = sorted(sorted(order, key=lambda p: -abs(products[p]))[:top])
    listed = [path(ctx, p, widths, float(products[p]), tail_step) for p in order]
    omitted = total - sum(p.product for p in listed)
    # The distinct factors, output layer first, then by node, the weight's own
    # factor last: the order in which the derivation lists them.
    keys = {(w.k + d, p.nodes[d - 1], p.nodes[d]) for p in listed for d in range(1, len(p.nodes))}
    used = {(w.k, w.j)} | {(q, b) for q, _, b in keys}
    chain.steps += phi_prime_steps(ctx, sorted(used, key=lambda node: (-node[0], node[1])))
    for q, a, b in sorted(keys, key=lambda key: (-key[0], key[1], key[2])):
        chain.steps.append(factor(ctx, q, a, b))
    chain.steps.append(tail_step)
    if truncated:
        chain.notes.append(
            f"{count} paths; the factors of the {len(listed)} largest contributions are listed."
        )
    for index, p in zip(order, listed, strict=True):
        formula: Expr
        numbers: Expr | None
        formula, numbers = product_of(p.factors)
        table = None
        if n > 1:
            formula, numbers, table = Mean(formula), None, sample_table(ctx, p)
        label = Words(f"path {index + 1}")
        paths_section.steps.append(Step(label, formula, numbers, p.product, table=table))
    paths_section.steps.append(sum_step(ctx, listed, count, total, truncated))
    if n > 1 and listed:
        paths_section.notes.append(
            "Over a batch each path's value is the mean of its per-sample products "
            "(the last column of its table), not the product of the factors' means: "
            "dL/dw is the mean of the per-sample gradients, and each of those is a sum of "
            "products."
        )
    if truncated:
        paths_section.notes.append(
            f"{count} paths in all; the {len(listed)} largest are listed, the other "
            f"{count - len(listed)} add up to {fmt(omitted)}."
        )
    return chain, paths_section, listed, count, total, omitted


def local_factor(
    ctx: Context, q: int, b: int, wrt: Expr, through: Expr, x: Array, plain: Expr
) -> tuple[Step, Array]:
    """``d(node b of layer q)/d(wrt) = phi'(H) * through``, `x` the values of `through`.

    Past the shortcut the output layer has no phi': the factor is `through`
    itself, its numbers written `plain`. Returns the step and its per-sample values.
    """
    nt = ctx.nt
    if ctx.shortcut and q == nt.K:
        return ctx.step(nt.deriv(nt.H(q, b), wrt), through, plain, x), x
    dphi = ctx.dphi(q, b)
    values = dphi * x
    H = nt.H(q, b)
    # The factor is two: through the activation, then through the weighted sum.
    chain = Prod((nt.deriv(nt.d(q, b), H), nt.deriv(H, wrt)))
    step = ctx.step(
        nt.deriv(nt.d(q, b), wrt),
        Prod((nt.dphi(q, H), through)),
        Prod((Num(float(dphi[0])), Num(float(x[0])))),
        values,
        explains=chain,
    )
    return step, values


def phi_prime_steps(ctx: Context, nodes: Sequence[tuple[int, int]]) -> list[Step]:
    """``phi'(H)`` of each node computed on the page (``Y (1 - Y) = 0.75 * 0.25``), where
    the activation has a formula for it (not linear: its slope is in the description)."""
    nt, steps = ctx.nt, []
    for q, b in nodes:
        if ctx.shortcut and q == nt.K:
            continue
        act = ctx.net.layer(q).activation
        H, A = nt.H(q, b), nt.out(q, b)
        h, a = float(ctx.trace.H[q][0, b - 1]), float(ctx.trace.A[q][0, b - 1])
        written = phi_prime(act, H, A, h, a) if act.elementwise else None
        if written is not None:
            steps.append(ctx.step(nt.dphi(q, H), written[0], written[1], ctx.dphi(q, b)))
    return steps


def factor(ctx: Context, q: int, a: int, b: int) -> Step:
    """One factor of a path: from node a of layer q-1 to node b of layer q."""
    wv = ctx.weight(q, a, b)
    x = np.full(ctx.n, wv)
    return local_factor(ctx, q, b, ctx.nt.out(q - 1, a), ctx.alias(q, a, b), x, Num(wv))[0]


def tail(ctx: Context) -> tuple[Step, Array]:
    """The weight's own factor, d(node j of layer k)/dw, and its per-sample values."""
    k, i, j = ctx.w.k, ctx.w.i, ctx.w.j
    Ov = ctx.out_values(ctx.trace, k - 1, i)
    return local_factor(ctx, k, j, ctx.w_expr, ctx.nt.out(k - 1, i), Ov, Num(float(Ov[0])))


def factor_matrix(ctx: Context, q: int) -> Array:
    """Every factor d(node b of layer q)/d(node a of layer q-1) at once: (n, a, b)."""
    W = ctx.net.W[q]
    if ctx.shortcut and q == ctx.nt.K:
        return np.broadcast_to(W, (ctx.n, *W.shape))
    dphi = ctx.net.layer(q).activation.phi_prime(ctx.trace.H[q])
    return dphi[:, None, :] * W[None, :, :]


def path(ctx: Context, index: int, widths: list[int], product: float, tail_step: Step) -> Path:
    """Path number `index` (in network order) with its factors, output first."""
    w = ctx.w
    rest = np.unravel_index(index, widths) if widths else ()
    nodes = (w.j, *(int(r) + 1 for r in rest))
    factors = [ctx.step(*head(ctx, nodes[-1]))]
    for depth in range(len(nodes) - 1, 0, -1):
        factors.append(factor(ctx, w.k + depth, nodes[depth - 1], nodes[depth]))
    factors.append(tail_step)
    return Path(nodes, tuple(factors), product)


def sample_table(ctx: Context, p: Path) -> SampleTable:
    """A path's factors and their product, sample by sample, and the column means."""
    n = ctx.n
    columns = [np.asarray(f.samples or (f.value,) * n) for f in p.factors]
    products = np.prod(columns, axis=0)
    values = np.stack([*columns, products], axis=1)  # (n, factors + 1)
    first = ctx.sample if ctx.sample is not None else 0
    shown = n if n <= MAX_TABLE_SAMPLES else TABLE_HEAD
    rows = tuple((first + s, tuple(float(v) for v in values[s])) for s in range(shown))
    header = (*(f.lhs for f in p.factors), Words("product"))
    mean = tuple(float(v) for v in values.mean(axis=0))
    return SampleTable(header, rows, n - shown, mean)


def product_of(factors: Sequence[Step]) -> tuple[Expr, Expr]:
    """``a * b * c`` with the factors' symbols, and with their values."""
    return prod(*(f.lhs for f in factors)), prod(*(Num(f.value) for f in factors))


def sum_step(ctx: Context, listed: list[Path], count: int, total: float, truncated: bool) -> Step:
    """``dL/dw`` as the sum of the paths, grouped by output: ``dL/dy * [path + path]``."""
    symbol = ctx.nt.dL(ctx.w_expr)
    if truncated:
        return Step(symbol, Words(f"sum over all {count} paths"), None, total)
    if ctx.n > 1:
        numbers = add(*(Num(p.product) for p in listed))
        return Step(symbol, Words("sum of the path products"), numbers, total)
    groups: dict[int, list[Path]] = {}
    for p in listed:
        groups.setdefault(p.nodes[-1], []).append(p)
    formula_parts: list[Expr] = []
    number_parts: list[Expr] = []
    for paths in groups.values():
        first = paths[0].factors[0]
        inner, inner_n = zip(*(product_of(p.factors[1:]) for p in paths), strict=True)
        if len(paths) == 1:
            formula_parts.append(prod(first.lhs, inner[0]))
            number_parts.append(prod(Num(first.value), inner_n[0]))
        else:
            formula_parts.append(prod(first.lhs, Bracket(add(*inner), square=True)))
            number_parts.append(prod(Num(first.value), Bracket(add(*inner_n), square=True)))
    return Step(symbol, add(*formula_parts), add(*number_parts), total)
