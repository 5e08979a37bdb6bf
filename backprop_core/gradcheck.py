"""Central finite differences: the check every analytic gradient is held to.

    dL/dw ~ (L(w + eps) - L(w - eps)) / (2 eps)

Used by the tests, by `bp grads` and `explain` (the numeric column) and by
`bp gradcheck`. Always evaluated in float64, whatever the training precision.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.naming import WeightId
from backprop_core.network import Network

Array = NDArray[np.floating[Any]]
EPS = 1e-6


def as_float64(network: Network) -> Network:
    net = network.copy()
    net.W = {k: w.astype(np.float64) for k, w in net.W.items()}
    net.b = {k: b.astype(np.float64) for k, b in net.b.items()}
    return net


def numeric_gradient(network: Network, X: Array, T: Array, w: WeightId, eps: float = EPS) -> float:
    """dL/dw for one weight by central differences (the network is left unchanged)."""
    net = as_float64(network)
    X64, T64 = np.asarray(X, np.float64), np.asarray(T, np.float64)
    array, index = locate(net, w)
    original = array[index]
    array[index] = original + eps
    plus = net.loss_value(net.predict(X64), T64)
    array[index] = original - eps
    minus = net.loss_value(net.predict(X64), T64)
    array[index] = original
    return (plus - minus) / (2.0 * eps)


def locate(network: Network, w: WeightId) -> tuple[Array, tuple[int, ...]]:
    """The array holding weight `w` and its index there."""
    if w.is_bias:
        return network.b[w.k], (w.j - 1,)
    return network.W[w.k], (w.i - 1, w.j - 1)


def weight_value(network: Network, w: WeightId) -> float:
    array, index = locate(network, w)
    return float(array[index])


def analytic_gradient(grads_W: dict[int, Array], grads_b: dict[int, Array], w: WeightId) -> float:
    if w.is_bias:
        return float(grads_b[w.k][w.j - 1])
    return float(grads_W[w.k][w.i - 1, w.j - 1])


def relative_error(analytic: float, numeric: float, tiny: float = 1e-12) -> float:
    """|a - n| / max(|a|, |n|, tiny): 0 when both are 0, never a division by zero."""
    return abs(analytic - numeric) / max(abs(analytic), abs(numeric), tiny)
