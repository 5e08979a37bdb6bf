"""Steps 5 to 7 of the derivation: check ``dL/dw``, take the step, and look again.

5. central finite differences of the engine's loss (backprop_core/engine/gradcheck.py);
6. the update ``w_new = w - eta * dL/dw``;
7. the forward pass with that weight alone updated, and the change in the loss.
"""

from __future__ import annotations

from dataclasses import replace

from backprop_core.engine.gradcheck import EPS, relative_error
from backprop_core.engine.network import Trace
from backprop_core.explain.context import Context
from backprop_core.explain.expr import (
    Apply,
    Bracket,
    Diff,
    Expr,
    Frac,
    New,
    Num,
    Prose,
    Sum,
    Tagged,
    prod,
)
from backprop_core.explain.forward import forward_section
from backprop_core.explain.notation import EPS as EPS_SYM
from backprop_core.explain.notation import ETA, LOSS
from backprop_core.explain.steps import Section, Step, fmt


def check_section(ctx: Context, numeric: float) -> Section:
    """The finite-difference gradient, and how well it agrees with the delta form."""
    w = ctx.w_expr
    section = Section("check", "Finite-difference check")

    def central(e: Expr) -> Frac:
        up = Apply(LOSS, (Sum((w, e)),))
        down = Apply(LOSS, (Diff(w, e),))
        return Frac(Bracket(Diff(up, down)), Bracket(prod(Num(2.0), e)))

    section.steps.append(
        Step(Tagged(ctx.nt.dL(w), "numeric"), central(EPS_SYM), central(Num(EPS)), numeric)
    )
    error = relative_error(ctx.grad, numeric)
    # Below 1e-8 the difference is rounding noise that varies by machine: not printed.
    section.notes.append(
        Prose("agrees with the delta form to better than ", Num(1e-8, "1e-8"), " (relative)")
        if error < 1e-8
        else f"relative difference from the delta form: {error:.1e}"
    )
    return section


def update_section(ctx: Context, value: float, new_value: float) -> Section:
    """``w_new = w - eta * dL/dw``, noting a frozen weight or another optimizer."""
    alias, w = ctx.w_alias, ctx.w_expr
    section = Section("update", "Update")
    section.steps.append(
        Step(
            New(w),
            Diff(w, prod(ETA, ctx.nt.dL(w))),
            Diff(Num(value), prod(Num(ctx.eta), Num(ctx.grad))),
            new_value,
        )
    )
    if ctx.frozen:
        section.notes.append(
            f"{alias} is frozen in this config (training.freeze): training leaves it at "
            f"{fmt(value)}; this is the step it would take if trained."
        )
    if ctx.optimizer != "sgd":
        section.notes.append(
            f"training uses the {ctx.optimizer} optimizer; this is the plain "
            "gradient-descent step of the derivation."
        )
    return section


def after_section(ctx: Context, new_value: float) -> tuple[Section, Trace, float]:
    """The forward pass from the weight's layer up with only the weight set to `new_value`."""
    net = ctx.net.copy()
    array, index = net.locate(ctx.w)
    array[index] = new_value
    trace = net.forward(ctx.X)
    # Written with the updated network, so the new weight's value is in the formulas.
    section = forward_section(
        replace(ctx, net=net),
        "after",
        Prose("Forward pass with ", ctx.w_expr, f" = {fmt(new_value)} alone updated"),
        trace,
        range(ctx.w.k, ctx.nt.K + 1),
    )
    return section, trace, net.loss_of(trace, ctx.T)
