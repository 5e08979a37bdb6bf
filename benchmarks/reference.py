"""The yardstick: a plain vectorized NumPy training loop, as one would write it.

No tricks: one matrix product per layer forward and two backward, element-wise
activations, the loss of every batch, the update. bp is measured against this
loop doing the same maths on the same data in the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.workloads import Array, Workload, initial_weights, make_data, shuffler


def _phi(name: str, slope: float) -> Callable[[Array], Array]:
    if name == "linear":
        return lambda H: slope * H
    if name == "sigmoid":
        return lambda H: 1.0 / (1.0 + np.exp(-H))
    if name == "tanh":
        return np.tanh
    if name == "relu":
        return lambda H: np.maximum(H, 0)

    def softmax(H: Array) -> Array:
        E = np.exp(H - H.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)

    return softmax


def _prime(name: str, slope: float, H: Array, A: Array) -> Any:
    if name == "linear":
        return slope
    if name == "sigmoid":
        return A * (1.0 - A)
    if name == "tanh":
        return 1.0 - A * A
    return H > 0  # relu


def make_epoch(w: Workload) -> Callable[[], float]:
    X, T = make_data(w)
    W, b = initial_weights(w)
    acts = [_phi(name, w.slope) for name in w.activations]
    trainable = set(w.trainable or range(1, w.layers + 1))
    rng = shuffler()
    n, B, L = w.samples, w.batch, w.layers

    def epoch() -> float:
        order = rng.permutation(n) if n > B else None
        total = 0.0
        for start in range(0, n, B):
            if order is None:
                x, t = X, T
            else:
                rows = order[start : start + B]
                x, t = X[rows], T[rows]
            H, A = [], [x]
            for k in range(L):
                h = A[-1] @ W[k]
                if w.bias:
                    h = h + b[k]
                H.append(h)
                A.append(acts[k](h))
            Y, m = A[-1], x.shape[0]
            if w.loss == "sse":
                total += 0.5 * float(np.sum((Y - t) ** 2))
                delta = (Y - t) * _prime(w.activations[-1], w.slope, H[-1], Y)
            else:  # softmax + cross-entropy: delta = Y - T
                total += -float(np.sum(t * np.log(np.maximum(Y, 1e-300))))
                delta = Y - t
            for k in range(L - 1, -1, -1):
                dW = A[k].T @ delta / m
                db = delta.sum(axis=0) / m
                if k > 0:
                    delta = (delta @ W[k].T) * _prime(w.activations[k - 1], w.slope, H[k - 1], A[k])
                if k + 1 in trainable:
                    W[k] -= w.eta * dW
                    if w.bias:
                        b[k] -= w.eta * db
        return total / n

    return epoch
