"""The activations' and losses' own formulas as expression trees: one place for them.

The records in backprop_core/engine/ (ActivationRecord, LossRecord) hold each
activation's and loss's functions and describe their formulas as text; the
engine may not import the expression model, so the trees `explain` writes for
the built-in ones are here, keyed by the record's name. An activation or loss
registered elsewhere has no tree here: its record's text is shown as it is
(`Words`), so it still reaches every format.

- `activation_numbers`: ``A = phi(H)`` with the numbers (``2 * 4``, ``sigmoid(0.5)``);
- `phi_prime`: ``phi'(H)`` computed on the page, through ``A`` where the
  derivation does (``Y (1 - Y)`` for sigmoid, ``1 - A^2`` for tanh);
- `loss_derivative`: ``dL/dy`` of one output, with names or with numbers;
- `loss_terms`: the loss of one sample written out over its outputs;
- `loss_general`: the loss for any number of outputs (``1/2 * sum_j (Y_j - T_j)^2``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backprop_core.engine.activations import Activation
from backprop_core.engine.losses import LOSSES
from backprop_core.explain.expr import (
    Apply,
    Bracket,
    Diff,
    Expr,
    Frac,
    Neg,
    Num,
    Over,
    Power,
    Prod,
    Sym,
    Words,
    add,
    fmt,
    render_text,
)

ONE, TWO = Num(1.0), Num(2.0)
HALF = Frac(ONE, TWO)


def activation_numbers(act: Activation, h: float) -> Expr:
    """``A = phi(H)`` with the engine's number for H."""
    H = Num(h)
    if act.name == "linear":
        slope = act.params.get("slope", 1.0)
        return H if slope == 1.0 else Prod((Num(slope), H))
    write = act.record.write
    if write is not None:  # a registered activation that writes itself
        return Words(write(render_text(Prod((H,))), **{k: fmt(v) for k, v in act.params.items()}))
    return Apply(act.name, (H,))


def phi_prime(
    act: Activation, H: Expr, A: Expr, h: float, a: float
) -> tuple[Expr, Expr | None] | None:
    """``phi'(H)`` as a formula and with numbers; None where it is a constant (linear)
    or not written here (a registered activation: the description states it)."""
    if act.name == "sigmoid":
        return Prod((A, Bracket(Diff(ONE, A)))), Prod((Num(a), Num(1.0 - a)))
    if act.name == "tanh":
        return Diff(ONE, Power(A, TWO)), Diff(ONE, Power(Num(a), TWO))
    if act.name == "softplus":
        return Apply("sigmoid", (H,)), Apply("sigmoid", (Num(h),))
    if act.name in ("relu", "leaky_relu"):
        low = fmt(act.params.get("alpha", 0.0))
        return (
            Words(f"1 if {render_text(H)} > 0, else {low}"),
            Words(f"1 if {fmt(h)} > 0, else {low}"),
        )
    return None


def _per(e: Expr, m: int) -> Expr:
    return e if m == 1 else Frac(e, Num(float(m)))


def loss_derivative(loss: str, y: Expr, t: Expr, m: int) -> Expr:
    """``dL/dy`` of one output of `m`; `y` and `t` names or numbers."""
    if loss == "sse":
        return Diff(y, t)
    if loss == "mse":
        return _per(Prod((TWO, Bracket(Diff(y, t)))), m)
    if loss == "cross_entropy":
        return Frac(Neg(t), y)
    if loss == "bce":
        return _per(Frac(Bracket(Diff(y, t)), Bracket(Prod((y, Bracket(Diff(ONE, y)))))), m)
    record = LOSSES[loss]
    return Words(record.write_derivative(render_text(y), render_text(t), m))


def _squares(pairs: Sequence[tuple[Expr, Expr]]) -> list[Expr]:
    return [Power(Bracket(Diff(y, t)), TWO) for y, t in pairs]


def loss_terms(
    loss: str, names: Sequence[tuple[Expr, Expr]], Y: np.ndarray, T: np.ndarray
) -> tuple[Expr, Expr | None] | None:
    """One sample's loss over its outputs, with names and with the numbers (Y, T of that
    sample); None: only the general formula is written."""
    y = [Num(float(v)) for v in Y]
    t = [Num(float(v)) for v in T]
    values = list(zip(y, t, strict=True))
    m = len(names)
    if loss == "sse":
        if m == 1:
            return Prod((HALF, _squares(names)[0])), Prod((HALF, _squares(values)[0]))
        return (
            Prod((HALF, Bracket(add(*_squares(names)), square=True))),
            Prod((HALF, Bracket(add(*_squares(values)), square=True))),
        )
    if loss == "mse":
        if m == 1:
            return _squares(names)[0], _squares(values)[0]
        M = Num(float(m))
        return (
            Frac(Bracket(add(*_squares(names)), square=True), M),
            Frac(Bracket(add(*_squares(values)), square=True), M),
        )
    if loss == "cross_entropy":
        formula = Neg(Bracket(add(*(Prod((b, Apply("log", (a,)))) for a, b in names)), True))
        hot = [j for j in range(m) if T[j] != 0]
        if len(hot) == 1 and T[hot[0]] == 1:
            return formula, Neg(Apply("log", (y[hot[0]],)))
        terms = [Prod((t[j], Apply("log", (y[j],)))) for j in hot]
        return formula, (Neg(Bracket(add(*terms), True)) if terms else None)
    if loss == "bce" and m == 1:
        (a, b), (ya, tb) = names[0], values[0]

        def both(a: Expr, b: Expr) -> Expr:
            right = Prod((Bracket(Diff(ONE, b)), Apply("log", (Diff(ONE, a),))))
            return Neg(Bracket(add(Prod((b, Apply("log", (a,)))), right), True))

        if T[0] == 1:
            return both(a, b), Neg(Apply("log", (ya,)))
        if T[0] == 0:
            return both(a, b), Neg(Apply("log", (Diff(ONE, ya),)))
        return both(a, b), both(ya, tb)
    return None


def loss_general(loss: str) -> Expr:
    """The loss of one sample for any number of outputs."""
    Yj, Tj = Sym("Y_j", "Y", ("j",)), Sym("T_j", "T", ("j",))
    square = Power(Bracket(Diff(Yj, Tj)), TWO)
    log_y = Prod((Tj, Apply("log", (Yj,))))
    if loss == "sse":
        return Prod((HALF, Over("sum", "j", square)))
    if loss == "mse":
        return Over("mean", "j", square)
    if loss == "cross_entropy":
        return Neg(Over("sum", "j", log_y))
    if loss == "bce":
        right = Prod((Bracket(Diff(ONE, Tj)), Apply("log", (Diff(ONE, Yj),))))
        return Neg(Over("mean", "j", Bracket(add(log_y, right), square=True)))
    return Words(LOSSES[loss].formula)
