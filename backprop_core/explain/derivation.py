"""`bp explain` as data: the derivation of one weight's gradient, step by step.

Everything here is read out of the engine: the forward `Trace`, the backward
`Gradients` (deltas), the activation and loss records. No value is recomputed by
a second implementation; the "formula with numbers" trees only write down
the engine's own operands, in the source derivation's order:

1. forward pass: every node's ``H`` and ``A``, ``Y``, ``T``, ``Y - T``, the loss;
2. ``dL/dy`` for every output;
3. the chain rule: each factor, every path from the weight to an output, the sum;
4. the delta recursion down to the weight, and ``dL/dw = delta_j(k) * O_i(k-1)``;
5. central finite differences;
6. the update ``w_new = w - eta * dL/dw``;
7. the forward pass with that weight alone updated.

Node names follow the derivation:

- inputs ``x1, x2, ...``; the bias node's output ``O_0 = 1`` is written ``1``;
- hidden layer ``k`` node ``j``: ``H{k}{j}`` / ``A{k}{j}`` (``H21``, ``A22``: layer,
  then node), or just ``H{k}`` / ``A{k}`` when the layer has one node (``H1``,
  ``A1``); ``H{k}_{j}`` / ``A{k}_{j}`` when ``k`` or ``j`` is above 9;
- the output layer: ``Y_in`` / ``Y`` with one output, ``Y_in1`` / ``Y1``, ... with several;
  targets ``T`` or ``T1, T2, ...``. Derivatives use the derivation's lower-case
  ``y`` (``dL/dy``, ``dy/dA21``);
- ``delta(k)`` for a one-node layer, ``delta_j(k)`` otherwise;
- ``phi`` is the activation; ``phi_k`` when the layers use different ones;
- weights by their source-style alias (``xh1``, ``hh01``, ``hy21``, see naming.py).

For a batch (``sample=None``) the explanation is of the mean over the batch, as
training uses: each step carries its per-sample values, every path's product is
the batch mean of its per-sample products (so the products still sum to the
gradient), and ``dL/dw`` is the mean of ``delta_j(k) * O_i(k-1)``.

This module runs the engine and puts the sections together; each step of the
derivation is built in its own module: explain_forward.py (1 and 7),
explain_output.py (2), explain_paths.py (3), explain_deltas.py (4),
explain_update.py (5 to 7). The data returned (`Step`, `Section`, `Explanation`)
and the number format are in explain_steps.py, the node names in
explain_notation.py, the engine's numbers they all read in explain_context.py.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from backprop_core.engine.activations import Activation
from backprop_core.engine.gradcheck import as_float64, numeric_gradient
from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.engine.network import Network
from backprop_core.errors import BpError
from backprop_core.explain.context import Context
from backprop_core.explain.deltas import delta_section
from backprop_core.explain.expr import (
    Apply,
    Bracket,
    Diff,
    Expr,
    Frac,
    Num,
    Prose,
    Sum,
    Sym,
    Words,
    render_text,
)
from backprop_core.explain.formulas import phi_prime
from backprop_core.explain.forward import forward_section
from backprop_core.explain.notation import Notation, notation_for
from backprop_core.explain.output import jacobian_section, output_section
from backprop_core.explain.paths import chain_sections
from backprop_core.explain.steps import (
    MAX_NODES,
    MAX_TERMS,
    Array,
    Explanation,
    Path,
    Section,
    Step,
    fmt,
    plural,
)
from backprop_core.explain.update import after_section, check_section, update_section

__all__ = [
    "MAX_LISTED_PATHS",
    "MAX_NODES",
    "MAX_PATH_CELLS",
    "MAX_TERMS",
    "TOP_PATHS",
    "Explanation",
    "Notation",
    "Path",
    "SampleError",
    "Section",
    "Step",
    "explain",
    "explain_experiment",
    "fmt",
    "notation_for",
]

# Read from this module on every call (not bound at import), so they can be changed here.
MAX_LISTED_PATHS = 32  # up to this many paths are all listed ...
TOP_PATHS = 10  # ... past it, only the largest contributions
MAX_PATH_CELLS = 4_000_000  # samples x paths we multiply out; past it only the count


class SampleError(BpError):
    """``--sample N`` outside the training data."""


class JacobianError(BpError):
    """``--jacobian`` on a network without a softmax output under cross-entropy."""


def explain(
    network: Network,
    names: WeightNames,
    X: Array,
    T: Array,
    w: WeightId,
    eta: float,
    *,
    frozen: bool = False,
    optimizer: str = "sgd",
    sample: int | None = None,
    standard: bool = False,
    jacobian: bool = False,
) -> Explanation:
    """The derivation of ``dL/dw`` on the rows ``X, T`` (all of them, or row `sample`).

    ``standard``: the textbook notation (see notation.py); ``jacobian``: with
    softmax + cross-entropy, also the Jacobian of the softmax and the collapse to Y - T.
    """
    net = as_float64(network)
    X = np.asarray(X, np.float64)
    T = np.asarray(T, np.float64)
    if sample is not None:
        if not 0 <= sample < X.shape[0]:
            rows = X.shape[0]
            raise SampleError(
                f"sample {sample} is out of range: the training data has "
                f"{plural(rows, 'row')} (0..{rows - 1})"
            )
        X, T = X[sample : sample + 1], T[sample : sample + 1]
    if jacobian and not (net.loss == "cross_entropy" and net.canonical_output):
        raise JacobianError(
            "--jacobian explains a softmax output with the cross_entropy loss; "
            f"this network's output is {net.layer(net.K).activation.name} with {net.loss}"
        )
    ctx = Context.read(net, names, X, T, w, eta, frozen, optimizer, sample, standard)
    return _build(ctx, jacobian)


class TrainingData(Protocol):
    X: Array
    T: Array
    # Where the inputs came from a CSV file, and their standardization (or None).
    input_names: list[str] | None
    mean: Array | None
    std: Array | None


class Experiment(Protocol):
    """What `explain_experiment` reads of a run.experiment.Experiment (explain/ may
    not import run/): its network, weight names, training data and settings."""

    network: Network
    names: WeightNames

    @property
    def data(self) -> TrainingData: ...
    @property
    def eta(self) -> float: ...
    @property
    def optimizer(self) -> str: ...
    def is_frozen(self, w: WeightId) -> bool: ...


def explain_experiment(
    experiment: Experiment,
    name: str,
    sample: int | None = None,
    *,
    standard: bool = False,
    jacobian: bool = False,
) -> Explanation:
    """`explain` for a weight named in any SPEC §4 form, on an experiment's training data."""
    w = experiment.names.resolve(name)
    x = explain(
        experiment.network,
        experiment.names,
        experiment.data.X,
        experiment.data.T,
        w,
        experiment.eta,
        frozen=experiment.is_frozen(w),
        optimizer=experiment.optimizer,
        sample=sample,
        standard=standard,
        jacobian=jacobian,
    )
    x.description += data_lines(experiment.data)
    return x


def data_lines(data: TrainingData) -> list[str]:
    """What the inputs x1, x2, ... are: their CSV columns, and their standardization.

    The derivation's x values are the network's inputs: after standardization
    those are (raw - mean) / std per column, not the numbers in the file.
    """
    count = data.X.shape[1]
    names: list[str | None] = [*data.input_names] if data.input_names else [None] * count
    xs = [Sym(f"x{i}", "x", (str(i),)) for i in range(1, count + 1)]
    lines: list[str] = []
    if data.input_names:
        parts: list[str | Expr] = ["inputs (CSV columns): "]
        for i, name in enumerate(names[:MAX_NODES]):
            parts += [", " if i else "", xs[i], f" = {name}"]
        parts.append(f", ... ({count} columns)" if count > MAX_NODES else "")
        lines.append(Prose(*parts))
    if data.mean is not None and data.std is not None:
        parts = ["inputs are standardized with the training split's mean and standard deviation: "]
        columns = zip(names, data.mean, data.std, strict=True)
        for i, (name, mean, std) in enumerate(list(columns)[:MAX_NODES]):
            parts += [
                ", " if i else "",
                xs[i],
                " = ",
                _standardized(name or f"input {i + 1}", mean, std),
            ]
        parts.append(", ..." if count > MAX_NODES else "")
        lines.append(Prose(*parts))
    return lines


def _standardized(column: str, mean: float, std: float) -> Expr:
    """``(column - mean) / std``; a negative mean is added: ``(x3 + 0.093)``, not ``- -0.093``."""
    raw = Words(column)
    centred = Sum((raw, Num(-mean))) if mean < 0 else Diff(raw, Num(mean))
    return Frac(Bracket(centred), Num(std))


def _build(ctx: Context, jacobian: bool = False) -> Explanation:
    """The sections in the derivation's order, and the numbers they come to."""
    w, K, grad = ctx.w, ctx.nt.K, ctx.grad
    forward = forward_section(ctx, "forward", "Forward pass", ctx.trace, range(1, K + 1))
    output = output_section(ctx)
    collapse = jacobian_section(ctx) if jacobian else Section("jacobian", "Softmax Jacobian")
    chain, paths_section, paths, count, total, omitted = chain_sections(
        ctx, max_listed=MAX_LISTED_PATHS, top=TOP_PATHS, max_cells=MAX_PATH_CELLS
    )
    deltas_section, deltas = delta_section(ctx)
    if total is not None:
        agree = np.isclose(total, grad, rtol=1e-9, atol=1e-12)
        deltas_section.notes.append(
            f"The delta form gives {fmt(grad)}, "
            + ("the same as" if agree else "which DIFFERS from")
            + f" the sum over the {plural(count, 'path')} ({fmt(total)})."
        )
    numeric = numeric_gradient(ctx.net, ctx.X, ctx.T, w)
    check = check_section(ctx, numeric)
    value = ctx.net.weight(w)
    new_value = value - ctx.eta * grad
    update = update_section(ctx, value, new_value)
    after, after_trace, after_loss = after_section(ctx, new_value)
    return Explanation(
        weight=w,
        canonical=w.canonical,
        alias=ctx.w_alias,
        value=value,
        grad=grad,
        numeric_grad=numeric,
        eta=ctx.eta,
        new_value=new_value,
        frozen=ctx.frozen,
        samples=ctx.n,
        sample=ctx.sample,
        description=describe(ctx),
        sections=[
            forward,
            output,
            collapse,
            chain,
            paths_section,
            deltas_section,
            check,
            update,
            after,
        ],
        paths=paths,
        path_count=count,
        path_sum=total,
        omitted_sum=omitted,
        deltas=deltas,
        after_outputs=[list(map(float, row)) for row in after_trace.Y],
        after_loss=after_loss,
        loss=ctx.loss,
    )


def _derivative_formula(act: Activation) -> Expr:
    """``phi'(H)`` of an activation for any H, as a tree where formulas.phi_prime writes
    one whose text is the record's own (the text the description has always shown)."""
    text = act.record.derivative_formula.format(**{key: fmt(v) for key, v in act.params.items()})
    if not act.elementwise:
        return Words("not element-wise (the output delta is Y - T, see below)")
    try:  # a constant: linear's slope
        return Num(float(text), text)
    except ValueError:
        pass
    H = Sym("H", "H")
    for A in (Apply(Sym("phi", "phi"), (H,)), Apply(act.name, (H,))):
        written = phi_prime(act, H, A, 0.0, 0.0)
        if written is not None and render_text(written[0]) == text:
            return written[0]
    return Words(text)


def describe(ctx: Context) -> list[str]:
    """The network, the weight and the data explained, one line each (`Prose` where a
    line holds formulas)."""
    net, nt, w = ctx.net, ctx.nt, ctx.w
    lines: list[str] = [
        "network: "
        + " -> ".join(str(u) for u in net.units)
        + f" nodes (inputs first), loss {net.loss}",
    ]
    for k in range(1, net.K + 1):
        act = net.layer(k).activation
        lines.append(
            Prose(
                f"layer {k}: {plural(net.units[k], 'node')}, ",
                nt.phi(k),
                f" = {act.describe()}, ",
                nt.dphi(k, Sym("H", "H")),
                " = ",
                _derivative_formula(act),
                ", with bias" if net.layer(k).bias else "",
            )
        )
    target = nt.H(w.k, w.j)
    source: str | Expr = "the bias node (O_0 = 1)" if w.is_bias else nt.out(w.k - 1, w.i)
    lines.append(
        Prose(
            "weight: ",
            ctx.w_expr,
            f" = {w.canonical}, from ",
            source,
            " into ",
            target,
            f" (layer {w.k - 1} -> {w.k})",
        )
    )
    if ctx.sample is not None:
        lines.append(f"data: training sample {ctx.sample} alone")
    elif ctx.n > 1:
        lines.append(
            f"data: the mean over the {ctx.n} training samples, as training uses "
            "(values are listed per sample)"
        )
    else:
        lines.append("data: the one training sample")
    return lines
