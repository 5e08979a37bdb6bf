"""Initial weights: one table of schemes, which the config's `network.init` choices read.

Each scheme draws a ``(fan_in, fan_out)`` matrix from the generator it is given
(biases always start at 0). Adding a scheme is one function and one entry in
`INIT_SCHEMES`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float64]
Scheme = Callable[[int, int, np.random.Generator], Matrix]


def xavier(fan_in: int, fan_out: int, rng: np.random.Generator) -> Matrix:
    """U(-l, l), l = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out))


def he(fan_in: int, fan_out: int, rng: np.random.Generator) -> Matrix:
    """N(0, 2 / fan_in) (He et al. 2015)."""
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out))


def normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> Matrix:
    """N(0, 0.1^2)."""
    return rng.normal(0.0, 0.1, (fan_in, fan_out))


def uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> Matrix:
    """U(-0.5, 0.5)."""
    return rng.uniform(-0.5, 0.5, (fan_in, fan_out))


def zeros(fan_in: int, fan_out: int, rng: np.random.Generator) -> Matrix:
    return np.zeros((fan_in, fan_out))


INIT_SCHEMES: dict[str, Scheme] = {
    "xavier": xavier,
    "he": he,
    "normal": normal,
    "uniform": uniform,
    "zeros": zeros,
}


def initial_weights(scheme: str, fan_in: int, fan_out: int, rng: np.random.Generator) -> Matrix:
    """A ``(fan_in, fan_out)`` matrix drawn by `scheme`."""
    return INIT_SCHEMES[scheme](fan_in, fan_out, rng)
