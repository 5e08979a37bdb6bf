"""Data for `bp grads` and `bp show`: one row per weight, read from the engine.

`gradient_rows` takes one plain gradient-descent step on the full training
batch, as the derivation does (``w_new = w - eta * dL/dw``); a frozen weight
shows its true gradient, a step of 0 and its value unchanged. `network_summary`
describes the layers and lists every weight's names and value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backprop_core.engine.gradcheck import numeric_gradient
from backprop_core.engine.naming import WeightId
from backprop_core.run.experiment import Experiment

# Finite differences cost two forward passes per weight: past this many weights
# `bp grads` leaves the numeric column empty (bp gradcheck samples instead).
NUMERIC_LIMIT = 5000


@dataclass(frozen=True)
class WeightRow:
    name: str  # canonical
    alias: str
    value: float
    grad: float
    numeric_grad: float | None
    step: float  # -eta * grad, 0 for a frozen weight
    new_value: float
    frozen: bool


@dataclass(frozen=True)
class GradReport:
    loss: float
    eta: float
    optimizer: str
    rows: list[WeightRow]
    numeric_skipped: bool


def selected(experiment: Experiment, names: Sequence[str]) -> list[WeightId]:
    """The weights named (any SPEC §4 form, in the order given, once each), or all of them."""
    if not names:
        return list(experiment.names.all_ids())
    out: list[WeightId] = []
    for name in names:
        w = experiment.names.resolve(name)
        if w not in out:
            out.append(w)
    return out


def weight_row(
    experiment: Experiment, w: WeightId, value: float, grad: float, numeric: float | None
) -> WeightRow:
    """One weight's row: one plain gradient-descent step, -eta * grad (0 when frozen)."""
    frozen = experiment.is_frozen(w)
    step = 0.0 if frozen else -experiment.config.training.eta * grad
    return WeightRow(
        name=w.canonical,
        alias=experiment.names.alias(w),
        value=value,
        grad=grad,
        numeric_grad=numeric,
        step=step,
        new_value=value + step,
        frozen=frozen,
    )


def gradient_rows(experiment: Experiment, names: Sequence[str] = ()) -> GradReport:
    network, data = experiment.network, experiment.data
    eta = experiment.config.training.eta
    loss, grads, _ = network.loss_and_gradients(data.X, data.T)
    ids = selected(experiment, names)
    numeric = len(ids) <= NUMERIC_LIMIT
    rows = [
        weight_row(
            experiment,
            w,
            network.weight(w),
            grads.of(w),
            numeric_gradient(network, data.X, data.T, w) if numeric else None,
        )
        for w in ids
    ]
    optimizer = experiment.config.training.optimizer.name
    return GradReport(loss, eta, optimizer, rows, not numeric)


@dataclass(frozen=True)
class LayerRow:
    layer: int
    role: str  # input, hidden, output
    units: int
    activation: str | None
    bias: bool
    parameters: int


@dataclass(frozen=True)
class NetworkSummary:
    name: str | None
    loss: str
    layers: list[LayerRow]
    parameter_count: int
    samples: int
    weights: list[tuple[str, str, float, bool]]  # canonical, alias, value, frozen


def network_summary(experiment: Experiment, names: Sequence[str] = ()) -> NetworkSummary:
    network = experiment.network
    layers = [LayerRow(0, "input", network.inputs, None, False, 0)]
    for k in range(1, network.K + 1):
        layer = network.layer(k)
        count = network.W[k].size + (network.b[k].size if k in network.b else 0)
        role = "output" if k == network.K else "hidden"
        activation = layer.activation.describe()
        layers.append(LayerRow(k, role, layer.units, activation, layer.bias, count))
    weights = [_weight(experiment, w) for w in selected(experiment, names)]
    return NetworkSummary(
        experiment.config.name,
        network.loss,
        layers,
        network.parameter_count(),
        experiment.data.n,
        weights,
    )


def _weight(experiment: Experiment, w: WeightId) -> tuple[str, str, float, bool]:
    return (
        w.canonical,
        experiment.names.alias(w),
        experiment.network.weight(w),
        experiment.is_frozen(w),
    )
