"""Activations as one table of ``(phi, phi_prime)`` pairs.

Each function takes the pre-activation ``H`` (any shape) and returns an array of
the same shape. ``phi_prime`` takes ``H`` too, as the derivation writes
``phi'(H21)``, so `explain` can print the factor literally. At a kink the
derivative takes the left-hand value: ``relu'(0) = 0``,
``leaky_relu'(0) = alpha``.

``softmax`` has no element-wise derivative (its Jacobian is full); it is only
allowed on the output layer with ``cross_entropy``, where the output delta is
``Y - T`` directly (see `losses.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]
Fn = Callable[..., Array]


def linear(H: Array, slope: float = 1.0) -> Array:
    return H * slope  # a new array even for slope 1: A[k] never aliases H[k]


def linear_prime(H: Array, slope: float = 1.0) -> Array:
    return np.full_like(H, slope)


def sigmoid(H: Array) -> Array:
    # 1 / (1 + exp(-H)), with -H kept below exp's overflow: beyond it the result
    # is already 0 to within the dtype's smallest normal number. Computed in one
    # temporary (five passes, one allocation): the engine calls this per update.
    E = np.maximum(H, _EXP_LIMIT[np.dtype(H.dtype).itemsize])
    np.negative(E, out=E)
    np.exp(E, out=E)
    E += 1.0
    return np.divide(1.0, E, out=E)


# The most negative H whose exp(-H) is finite, per float size in bytes.
_EXP_LIMIT = {2: -11.0, 4: -88.0, 8: -709.0}


def sigmoid_prime(H: Array) -> Array:
    S = sigmoid(H)
    return S * (1.0 - S)


def tanh(H: Array) -> Array:
    return np.tanh(H)


def tanh_prime(H: Array) -> Array:
    return 1.0 - np.tanh(H) ** 2


def relu(H: Array) -> Array:
    return np.maximum(H, 0.0)


def relu_prime(H: Array) -> Array:
    return (H > 0).astype(H.dtype)


def leaky_relu(H: Array, alpha: float = 0.01) -> Array:
    return np.where(H > 0, H, alpha * H)


def leaky_relu_prime(H: Array, alpha: float = 0.01) -> Array:
    return np.where(H > 0, 1.0, alpha).astype(H.dtype)


def softplus(H: Array) -> Array:
    return np.logaddexp(0.0, H)


def softplus_prime(H: Array) -> Array:
    return sigmoid(H)


def softmax(H: Array) -> Array:
    # subtracting the row maximum changes nothing mathematically and keeps exp finite
    E = H - H.max(axis=-1, keepdims=True)
    np.exp(E, out=E)  # in place: E is our own temporary
    E /= E.sum(axis=-1, keepdims=True)
    return E


def softmax_prime(H: Array) -> Array:
    raise ValueError("softmax has no element-wise derivative; use it with cross_entropy")


ACTIVATIONS: dict[str, tuple[Fn, Fn]] = {
    "linear": (linear, linear_prime),
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
    "softplus": (softplus, softplus_prime),
    "softmax": (softmax, softmax_prime),
}

# phi'(H) computed from the layer's output A = phi(H), which the forward pass
# already holds: the same number as phi_prime(H) (same operations on the same
# value), without evaluating phi a second time. Used by the engine only; the
# table above, taking H, stays the definition, and `explain` prints it. (A
# deliberate departure from STYLE.md's "derivatives take H": measured, it saves
# one transcendental pass per layer per update on sigmoid and tanh networks.)
PRIME_FROM_OUTPUT: dict[str, Callable[[Array], Array]] = {
    "sigmoid": lambda A: A * (1.0 - A),
    "tanh": lambda A: 1.0 - A**2,
}

# The parameters each activation takes, with their defaults.
PARAMETERS: dict[str, dict[str, float]] = {
    "linear": {"slope": 1.0},
    "leaky_relu": {"alpha": 0.01},
}

# Where phi' jumps: a finite-difference check within eps of these is unreliable.
KINKS: dict[str, tuple[float, ...]] = {"relu": (0.0,), "leaky_relu": (0.0,)}

# phi'(H) written as a formula for `explain`, per activation.
DERIVATIVE_FORMULAS: dict[str, str] = {
    "linear": "{slope}",
    "sigmoid": "phi(H) * (1 - phi(H))",
    "tanh": "1 - tanh(H)^2",
    "relu": "1 if H > 0 else 0",
    "leaky_relu": "1 if H > 0 else {alpha}",
    "softplus": "sigmoid(H)",
    "softmax": "(Jacobian)",
}


@dataclass(frozen=True)
class Activation:
    """One layer's activation: a name from ACTIVATIONS bound to its parameters.

    ``phi(H)`` and ``phi_prime(H)`` are the table's pair with the parameters
    applied; ``derivative(H, A)`` is phi'(H) for the delta recursion, given also
    A = phi(H), in its cheapest equal form: through A for sigmoid and tanh, the
    slope itself for linear (a constant broadcasts), the 0/1 mask ``H > 0`` for
    relu (multiplying by True/False is multiplying by 1/0). All three are bound
    once here because the engine calls them per layer per update.
    """

    name: str
    params: Mapping[str, float] = field(default_factory=dict)
    phi: Fn = field(init=False, repr=False, compare=False)
    phi_prime: Fn = field(init=False, repr=False, compare=False)
    derivative: Callable[[Array, Array], Array | float] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Every parameter present, defaults filled in: `explain` prints them all.
        object.__setattr__(self, "params", {**PARAMETERS.get(self.name, {}), **self.params})
        phi, phi_prime = ACTIVATIONS[self.name]
        if self.params:
            phi, phi_prime = partial(phi, **self.params), partial(phi_prime, **self.params)
        object.__setattr__(self, "phi", phi)
        object.__setattr__(self, "phi_prime", phi_prime)
        object.__setattr__(self, "derivative", self._derivative(phi_prime))

    def _derivative(self, phi_prime: Fn) -> Callable[[Array, Array], Array | float]:
        if self.name == "linear":
            slope = float(self.params.get("slope", 1.0))
            return lambda H, A: slope
        if self.name == "relu":
            return lambda H, A: H > 0
        from_output = PRIME_FROM_OUTPUT.get(self.name)
        if from_output is not None:
            return lambda H, A: from_output(A)
        return lambda H, A: phi_prime(H)

    @property
    def elementwise(self) -> bool:
        return self.name != "softmax"

    def describe(self) -> str:
        """``linear(slope=2)``, ``sigmoid``: how output and `explain` name it."""
        if not self.params:
            return self.name
        inner = ", ".join(f"{k}={_num(v)}" for k, v in self.params.items())
        return f"{self.name}({inner})"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
