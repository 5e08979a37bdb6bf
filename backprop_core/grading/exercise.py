"""A fresh hand-derivation exercise from a seed: a small network with hand-friendly numbers.

Weights and inputs have at most two decimals. For linear and relu networks,
every quantity of the derivation (the answer key) has at most four significant
digits, so no step of the hand computation runs longer; draws that break this,
or whose gradient is (nearly) zero, are drawn again, from the same seeded
stream, so the same seed always gives the same exercise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backprop_core.engine.activations import Activation
from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.engine.network import Layer, Network
from backprop_core.errors import BpError
from backprop_core.explain.steps import fmt
from backprop_core.grading.derivation import derive
from backprop_core.grading.quantities import Array, Derivation

SHAPES = {"1-1-2-1": (1, 1, 2, 1), "2-2-1": (2, 2, 1), "2-2-2": (2, 2, 2)}
ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu")
EXACT = ("linear", "relu")  # activations whose key can be kept to MAX_DIGITS
MAX_DIGITS = 4
MAX_MAGNITUDE = 1000.0
MIN_GRADIENT = 0.01
MAX_DRAWS = 5000

WEIGHTS = (0.1, 0.2, 0.25, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0)
INPUTS = (0.5, 1.0, 1.5, 2.0, 3.0)
TARGETS = {
    "linear": (-1.0, 0.0, 1.0, 2.0, 3.0),
    "relu": (0.0, 1.0, 2.0, 3.0),
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 0.5, 1.0),
}
ETAS = (0.1, 0.05, 0.01)


class ExerciseError(BpError):
    """No hand-friendly exercise within MAX_DRAWS draws (not seen for the shipped shapes)."""


@dataclass(frozen=True)
class Exercise:
    seed: int
    shape: str
    activation: str
    W: tuple[Array, ...]  # W[k - 1]: layer k's (units[k-1], units[k]) weights
    X: Array  # (1, inputs)
    T: Array  # (1, outputs)
    eta: float
    weight: WeightId

    @property
    def units(self) -> tuple[int, ...]:
        return SHAPES[self.shape]

    @property
    def names(self) -> WeightNames:
        return WeightNames(self.units, tuple(False for _ in self.W))

    @property
    def alias(self) -> str:
        return self.names.alias(self.weight)

    def network(self) -> Network:
        layers = tuple(Layer(u, Activation(self.activation), bias=False) for u in self.units[1:])
        return Network(
            self.units[0], layers, "sse", {k: w.copy() for k, w in enumerate(self.W, start=1)}
        )

    def derivation(self) -> Derivation:
        return derive(self.network(), self.names, self.X, self.T, [self.weight], self.eta)

    def config_text(self) -> str:
        """The exercise as a bp config (written the same, byte for byte, for the same seed)."""
        command = (
            f"bp exercise --seed {self.seed} --shape {self.shape} --activation {self.activation}"
        )
        lines = [
            f"# {command}",
            f"# Compute dL/d{self.alias} by hand: forward pass, chain rule, deltas, update.",
            f"name: exercise-{self.seed}",
            "seed: 0",
            "network:",
            f"  inputs: {self.units[0]}",
            "  layers:",
        ]
        for W in self.W:
            lines += [
                f"    - units: {W.shape[1]}",
                f"      activation: {self.activation}",
                "      bias: false",
                f"      weights: {_matrix(W)}",
            ]
        lines += [
            "loss: sse",
            "data:",
            f"  inputs: {_matrix(self.X)}",
            f"  targets: {_matrix(self.T)}",
            "training:",
            f"  eta: {fmt(self.eta)}",
            "  epochs: 1",
            "  batch_size: full",
            "  optimizer: sgd",
        ]
        return "\n".join(lines) + "\n"


def _matrix(M: Array) -> str:
    return "[" + ", ".join("[" + ", ".join(fmt(v) for v in row) + "]" for row in M) + "]"


def short(values: Array, digits: int = MAX_DIGITS) -> bool:
    """Every value written exactly with at most `digits` significant digits."""
    flat = np.asarray(values, np.float64).reshape(-1)
    rounded = np.array([float(f"{v:.{digits}g}") for v in flat])
    # Relative: 0.0049960008 is not 0.004996, however small the difference.
    return bool(np.all(np.abs(rounded - flat) <= 1e-9 * np.abs(flat) + 1e-15))


def hand_friendly(exercise: Exercise, derivation: Derivation) -> bool:
    """The bounds every generated exercise keeps (tests check them over many seeds)."""
    values = [np.asarray(q.expected) for q in derivation.quantities]
    if not all(np.all(np.isfinite(v)) and np.all(np.abs(v) <= MAX_MAGNITUDE) for v in values):
        return False
    givens = [*exercise.W, exercise.X, exercise.T]
    if not all(
        short(np.round(g * 100) / 100) and np.allclose(g * 100, np.round(g * 100)) for g in givens
    ):
        return False
    gradient = derivation.quantity(f"dL/d{exercise.alias}").expected
    if abs(float(gradient)) < MIN_GRADIENT:
        return False
    if exercise.activation in EXACT:
        # relu's kink: H exactly 0 has no derivative a student can be sure of.
        if exercise.activation == "relu" and any(
            q.name.startswith(("H", "Y_in")) and np.any(q.expected == 0)
            for q in derivation.quantities
        ):
            return False
        return all(short(v) for v in values)
    return True


def quick_reject(exercise: Exercise) -> bool:
    """Most draws that `hand_friendly` refuses, found from the engine's passes alone."""
    net = exercise.network()
    trace = net.forward(exercise.X)
    grads = net.backward(trace, exercise.T)
    w = exercise.weight
    gradient = grads.dL_dW[1][w.i - 1, w.j - 1]
    if abs(gradient) < MIN_GRADIENT:
        return True
    if exercise.activation not in EXACT:
        return False
    new_value = exercise.W[0][w.i - 1, w.j - 1] - exercise.eta * gradient
    after = net.copy()
    after.W[1][w.i - 1, w.j - 1] = new_value
    after_trace = after.forward(exercise.X)
    values = [*trace.H.values(), *trace.A.values(), *grads.delta.values(), *after_trace.A.values()]
    values += [np.asarray([new_value, net.loss_of(trace, exercise.T)])]
    values.append(np.asarray(after.loss_of(after_trace, exercise.T)))
    return not all(short(v) for v in values)


def generate(seed: int, shape: str = "1-1-2-1", activation: str = "linear") -> Exercise:
    """The exercise of `seed` (the same one every time)."""
    units = SHAPES[shape]
    rng = np.random.default_rng([seed, list(SHAPES).index(shape), ACTIVATIONS.index(activation)])
    for _ in range(MAX_DRAWS):
        W = tuple(_signed(rng, WEIGHTS, (units[k - 1], units[k])) for k in range(1, len(units)))
        X = _signed(rng, INPUTS, (1, units[0]))
        T = rng.choice(TARGETS[activation], size=(1, units[-1]))
        eta = float(rng.choice(ETAS))
        weight = WeightId(1, int(rng.integers(1, units[0] + 1)), int(rng.integers(1, units[1] + 1)))
        exercise = Exercise(seed, shape, activation, W, X, T.astype(np.float64), eta, weight)
        if quick_reject(exercise):
            continue
        if hand_friendly(exercise, exercise.derivation()):
            return exercise
    raise ExerciseError(f"no hand-friendly exercise for seed {seed} in {MAX_DRAWS} draws")


def _signed(rng: np.random.Generator, choices: tuple[float, ...], shape: tuple[int, int]) -> Array:
    """Values from `choices`, one in four negative."""
    values = rng.choice(choices, size=shape)
    signs = np.where(rng.random(shape) < 0.25, -1.0, 1.0)
    return np.asarray(values * signs, np.float64)
