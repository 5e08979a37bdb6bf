"""Losses as one table of ``(loss, dL_dY)`` pairs.

``loss(Y, T)`` is the per-sample loss averaged over the batch (a scalar);
``dL_dY(Y, T)`` is the per-sample derivative ``dL/dY`` with shape ``(n, outputs)``,
*not* divided by ``n``: the engine averages gradients over the batch once, in
``dL/dW = A.T @ delta / n``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]

# log() of a probability is taken no lower than log(TINY), so a confidently
# wrong prediction costs a large finite loss rather than inf.
TINY = 1e-300


def _floor(Y: Array) -> float:
    """TINY, or the smallest normal number of Y's dtype where TINY is not one (float32)."""
    return max(TINY, float(np.finfo(Y.dtype).tiny))


def _ceiling(Y: Array) -> float:
    """The largest number below 1 in Y's dtype: log(1 - Y) stays finite."""
    return 1.0 - float(np.finfo(Y.dtype).epsneg)


def sse(Y: Array, T: Array) -> float:
    E = Y - T
    return float(0.5 * (E * E).sum() / Y.shape[0])


def sse_prime(Y: Array, T: Array) -> Array:
    return Y - T


def mse(Y: Array, T: Array) -> float:
    return float(np.mean((Y - T) ** 2))


def mse_prime(Y: Array, T: Array) -> Array:
    return 2.0 * (Y - T) / Y.shape[1]


def cross_entropy(Y: Array, T: Array) -> float:
    return float(-np.sum(T * np.log(np.maximum(Y, _floor(Y)))) / Y.shape[0])


def cross_entropy_prime(Y: Array, T: Array) -> Array:
    return -T / np.maximum(Y, _floor(Y))


def bce(Y: Array, T: Array) -> float:
    Yc = np.clip(Y, _floor(Y), _ceiling(Y))
    return float(-np.mean(T * np.log(Yc) + (1.0 - T) * np.log1p(-Yc)))


def bce_prime(Y: Array, T: Array) -> Array:
    Yc = np.clip(Y, _floor(Y), _ceiling(Y))
    return (Yc - T) / (Yc * (1.0 - Yc)) / Y.shape[1]


LOSSES: dict[str, tuple[Callable[[Array, Array], float], Callable[[Array, Array], Array]]] = {
    "sse": (sse, sse_prime),
    "mse": (mse, mse_prime),
    "cross_entropy": (cross_entropy, cross_entropy_prime),
    "bce": (bce, bce_prime),
}


def cross_entropy_from_H(H: Array, T: Array) -> float:
    """cross_entropy of softmax(H): sum_j T_j * (logsumexp(H) - H_j), from H itself."""
    m = H.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(H - m).sum(axis=1, keepdims=True))
    return float(np.sum(T * (lse - H)) / H.shape[0])


def bce_from_H(H: Array, T: Array) -> float:
    """bce of sigmoid(H): softplus(H) - T * H, from H itself."""
    return float(np.mean(np.logaddexp(0.0, H) - T * H))


# On its required output activation a loss is evaluated from the output
# pre-activation H(K): where a saturated Y has rounded to exactly 0 or 1, the
# log of the rounded probability is flat (or clipped) while the gradient Y - T
# is not, and the finite-difference check would rightly fail. Equal to the
# table's loss(Y, T) wherever Y is representable.
LOSS_FROM_H: dict[str, Callable[[Array, Array], float]] = {
    "cross_entropy": cross_entropy_from_H,
    "bce": bce_from_H,
}

# The output activation a loss requires, where it requires one.
REQUIRED_OUTPUT: dict[str, str] = {"cross_entropy": "softmax", "bce": "sigmoid"}

# Losses whose output delta dL/dH(K) simplifies to (Y - T) / scale on their
# required output activation (the canonical-link shortcut). Exact, and it avoids
# dividing by Y * (1 - Y) when a sigmoid saturates.
OUTPUT_DELTA_SHORTCUT: dict[str, Callable[[Array, Array], Array]] = {
    "cross_entropy": lambda Y, T: Y - T,
    "bce": lambda Y, T: (Y - T) / Y.shape[1],
}

# dL/dY written as a formula for `explain`.
DERIVATIVE_FORMULAS: dict[str, str] = {
    "sse": "Y - T",
    "mse": "2 * (Y - T) / m",
    "cross_entropy": "-T / Y",
    "bce": "(Y - T) / (Y * (1 - Y)) / m",
}

CLASSIFICATION = frozenset({"cross_entropy", "bce"})
