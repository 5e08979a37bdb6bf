"""Central finite differences: the check every analytic gradient is held to.

    dL/dw ~ (L(w + eps) - L(w - eps)) / (2 eps)

Used by the tests, by `bp grads` and `explain` (the numeric column) and by
`bp gradcheck`. Always evaluated in float64, whatever the training precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.engine.naming import WeightId
from backprop_core.engine.network import Network, Trace

Array = NDArray[np.floating[Any]]

# The finite-difference step, for every numeric gradient bp shows. Central
# differences err by about eps^2 * L'''(w) / 6 (truncation) plus 1e-16 * |L| / eps
# (rounding); eps = 1e-5 balances the two in float64 and measures correct
# gradients to ~1e-8 relative error, where eps = 1e-6 already reaches ~1e-6 on
# sigmoid/bce networks.
EPS = 1e-5


def as_float64(network: Network) -> Network:
    net = network.copy()
    net.W = {k: w.astype(np.float64) for k, w in net.W.items()}
    net.b = {k: b.astype(np.float64) for k, b in net.b.items()}
    return net


def numeric_gradient(network: Network, X: Array, T: Array, w: WeightId, eps: float = EPS) -> float:
    """dL/dw for one weight by central differences, in float64 (`network` is left unchanged)."""
    net = as_float64(network)
    X64, T64 = np.asarray(X, np.float64), np.asarray(T, np.float64)
    return central_difference(net, X64, T64, w, eps)[0]


def central_difference(
    net: Network, X: Array, T: Array, w: WeightId, eps: float
) -> tuple[float, Trace, Trace]:
    """(L(w + eps) - L(w - eps)) / (2 eps), and the two forward passes it took.

    `w` is moved in place and put back: `net` must be the caller's own copy.
    """
    array, index = net.locate(w)
    original = array[index]
    with np.errstate(all="ignore"):
        array[index] = original + eps
        plus = net.forward(X)
        array[index] = original - eps
        minus = net.forward(X)
        array[index] = original
        numeric = (net.loss_of(plus, T) - net.loss_of(minus, T)) / (2.0 * eps)
    return numeric, plus, minus


def weight_value(network: Network, w: WeightId) -> float:
    """Kept for cli/render/diagram.py until its rewrite (issue 13): `Network.weight`."""
    return network.weight(w)


def relative_error(analytic: float, numeric: float, tiny: float = 1e-12) -> float:
    """|a - n| / max(|a|, |n|, tiny): 0 when both are 0, never a division by zero."""
    return abs(analytic - numeric) / max(abs(analytic), abs(numeric), tiny)


# --- the full-network check (`bp gradcheck`) ------------------------------------

# A weight passes when its relative error is at most RTOL, or KINK_RTOL where
# the finite difference straddles a kink of phi (relu at 0): there the two
# one-sided slopes differ and central differences average them.
RTOL = 1e-6
KINK_RTOL = 1e-4
# `tiny` in |a - n| / max(|a|, |n|, tiny): below this size a gradient counts as
# zero. Central differences in float64 carry a rounding error of about
# 1e-16 * |L| / eps ~ 1e-10 * |L|, so a true zero reads as ~1e-10; scaling
# `tiny` with the loss keeps that noise from failing a correct gradient.
TINY = 1e-3


@dataclass(frozen=True)
class GradcheckRow:
    """One weight: analytic against numeric gradient, and whether it passes."""

    weight: WeightId
    value: float
    grad: float
    numeric_grad: float
    abs_error: float
    rel_error: float
    kink: str | None  # where a kink lies within eps, e.g. "relu, layer 1 node 2, sample 0"

    @property
    def tolerance(self) -> float:
        return KINK_RTOL if self.kink else RTOL

    @property
    def ok(self) -> bool:
        # `not >` so that a NaN error fails
        return not (self.rel_error > self.tolerance) and math.isfinite(self.rel_error)


@dataclass(frozen=True)
class GradcheckReport:
    rows: list[GradcheckRow]
    loss: float
    total: int  # weights in the network; len(rows) fewer when sampled
    eps: float
    tiny: float

    @property
    def max_abs_error(self) -> float:
        return max((r.abs_error for r in self.rows), default=0.0)

    @property
    def max_rel_error(self) -> float:
        return max((r.rel_error for r in self.rows), default=0.0)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def failures(self) -> list[GradcheckRow]:
        return [r for r in self.rows if not r.ok]


def check_gradients(
    network: Network,
    X: Array,
    T: Array,
    weights: Sequence[WeightId],
    *,
    eps: float = EPS,
    max_weights: int | None = None,
    seed: int = 0,
) -> GradcheckReport:
    """Central differences against backpropagation for `weights`, in float64.

    The gradient is the batch mean over all of `X`, as full-batch training uses.
    With `max_weights`, a seeded uniform sample of that many weights is checked
    (in network order), so a very large network can be spot-checked in bounded time.
    """
    net = as_float64(network)
    X64, T64 = np.asarray(X, np.float64), np.asarray(T, np.float64)
    with np.errstate(all="ignore"):
        loss, grads, base = net.loss_and_gradients(X64, T64)
    chosen = list(weights)
    total = len(chosen)
    if max_weights is not None and total > max_weights:
        picked = np.random.default_rng(seed).choice(total, size=max_weights, replace=False)
        chosen = [chosen[i] for i in sorted(picked)]
    tiny = TINY * max(1.0, abs(loss)) if math.isfinite(loss) else TINY
    rows = []
    for w in chosen:
        a = grads.of(w)
        n, kink = _numeric_with_kinks(net, X64, T64, w, eps, base)
        rows.append(
            GradcheckRow(w, net.weight(w), a, n, abs(a - n), relative_error(a, n, tiny), kink)
        )
    return GradcheckReport(rows, loss, total, eps, tiny)


def _numeric_with_kinks(
    net: Network, X: Array, T: Array, w: WeightId, eps: float, base: Trace
) -> tuple[float, str | None]:
    numeric, plus, minus = central_difference(net, X, T, w, eps)
    return numeric, _kink_between(net, w.k, base, plus, minus, eps)


def _kink_between(
    net: Network, k: int, base: Trace, plus: Trace, minus: Trace, eps: float
) -> str | None:
    """The first kink that perturbing a weight into layer `k` by +-eps can reach.

    A pre-activation counts where the perturbation moves it (layer k's own
    column, and whatever it feeds later) and it either lies within `eps` of a
    kink or the +eps and -eps passes put it on different sides.
    """
    for m in range(k, net.K + 1):
        activation = net.layer(m).activation
        for point in activation.record.kinks:
            moved = plus.H[m] != minus.H[m]
            near = moved & (
                (np.abs(base.H[m] - point) <= eps)
                | ((plus.H[m] - point) * (minus.H[m] - point) <= 0)
            )
            if near.any():
                sample, node = np.argwhere(near)[0]
                return (
                    f"{activation.name} kink at H = {point:g}: layer {m} node {node + 1}, "
                    f"sample {sample}"
                )
    return None
