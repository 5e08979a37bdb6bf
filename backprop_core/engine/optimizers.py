"""Update rules. Each ``step`` changes the weight arrays in place.

sgd:      w <- w - eta * g
momentum: v <- mu * v - eta * g;  w <- w + v
adam:     Kingma & Ba (2015), with bias-corrected first and second moments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]


class SGD:
    def __init__(self, eta: float) -> None:
        self.eta = eta
        self.scratch: list[Array] | None = None  # eta * g, one buffer per array

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        if self.scratch is None:
            self.scratch = [np.empty_like(w) for w in params]
        for w, g, step in zip(params, grads, self.scratch, strict=True):
            # w -= eta * g, without a new array each update (same numbers).
            np.multiply(g, self.eta, out=step)
            w -= step


class Momentum:
    def __init__(self, eta: float, momentum: float) -> None:
        self.eta, self.mu = eta, momentum
        self.v: list[Array] | None = None

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        if self.v is None:
            self.v = [np.zeros_like(w) for w in params]
        for w, g, v in zip(params, grads, self.v, strict=True):
            v *= self.mu
            v -= self.eta * g
            w += v


class Adam:
    def __init__(self, eta: float, beta1: float, beta2: float, epsilon: float) -> None:
        self.eta, self.beta1, self.beta2, self.epsilon = eta, beta1, beta2, epsilon
        self.t = 0
        self.m: list[Array] | None = None
        self.v: list[Array] | None = None

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        if self.m is None or self.v is None:
            self.m = [np.zeros_like(w) for w in params]
            self.v = [np.zeros_like(w) for w in params]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # Fold both bias corrections into one step size (same maths, fewer passes).
        step = self.eta * np.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        for w, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * g * g
            w -= step * m / (np.sqrt(v) + self.epsilon)


Optimizer = SGD | Momentum | Adam


@dataclass(frozen=True)
class OptimizerRecord:
    """An update rule: how to make it from eta and its settings, and which settings it takes."""

    make: Callable[..., Optimizer]  # make(eta, **settings)
    takes: tuple[str, ...] = ()  # its settings, as `training.optimizer` keys
    # The scalar path (scalar_path.py): `step` as Python statements over floats doing
    # the same operations in the same order. scalar_update: once per update, in the
    # counters; scalar_step: per weight, in "{w}", "{g}", its state "{v}" per name in
    # `slots` (the optimizer's per-array lists of that name, zeros at first), "{eta}"
    # and the settings; `counters`: the optimizer's integer attributes the statements
    # keep (adam's t). Bare `sqrt` is math's. (): none, the vector engine only.
    scalar_update: tuple[str, ...] = ()
    scalar_step: tuple[str, ...] = ()
    slots: tuple[str, ...] = ()
    counters: tuple[str, ...] = ()


# The config's `training.optimizer.name` choices read this table.
OPTIMIZERS: dict[str, OptimizerRecord] = {
    "sgd": OptimizerRecord(SGD, scalar_step=("{w} = {w} - {g} * {eta}",)),
    "momentum": OptimizerRecord(
        Momentum,
        ("momentum",),
        scalar_step=("{v} = {v} * {momentum} - {eta} * {g}", "{w} = {w} + {v}"),
        slots=("v",),
    ),
    "adam": OptimizerRecord(
        Adam,
        ("beta1", "beta2", "epsilon"),
        scalar_update=("t += 1", "step = {eta} * sqrt(1.0 - {beta2} ** t) / (1.0 - {beta1} ** t)"),
        scalar_step=(
            "{m} = {m} * {beta1} + (1.0 - {beta1}) * {g}",
            "{v} = {v} * {beta2} + (1.0 - {beta2}) * {g} * {g}",
            "{w} = {w} - step * {m} / (sqrt({v}) + {epsilon})",
        ),
        slots=("m", "v"),
        counters=("t",),
    ),
}


def make_optimizer(name: str, eta: float, **settings: float) -> Optimizer:
    """The optimizer `name`, given the settings it takes (others are ignored)."""
    record = OPTIMIZERS[name]
    return record.make(eta, **{key: settings[key] for key in record.takes})
