"""Hypothesis strategies shared by the gradient tests: random small networks.

Every activation of the table in hidden layers, every loss with a compatible
output layer, biases on and off, a batch of samples with matching targets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st

from backprop_core.engine.activations import ACTIVATIONS, Activation
from backprop_core.engine.losses import LOSSES
from backprop_core.engine.network import Layer, Network

HIDDEN = sorted(name for name, a in ACTIVATIONS.items() if not a.output_only)

Case = tuple[Network, np.ndarray, np.ndarray]


def activations(draw: st.DrawFn, name: str) -> Activation:
    params = {
        key: draw(st.floats(0.2, 2.0)) if key == "slope" else draw(st.floats(0.01, 0.3))
        for key in ACTIVATIONS[name].parameters
    }
    return Activation(name, params)


@st.composite
def networks(
    draw: st.DrawFn,
    max_outputs: int = 3,
    batch_sizes: Sequence[int] = (1, 2, 5),
    hidden_activations: Sequence[str] = HIDDEN,
    losses: Sequence[str] = (),
    max_hidden_units: int = 3,
) -> Case:
    """`hidden_activations`: those drawn for layers the loss leaves free; `losses`:
    those drawn from (default: every one)."""
    loss = draw(st.sampled_from(sorted(losses or LOSSES)))
    inputs = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, max_hidden_units), min_size=0, max_size=2))
    low = 2 if loss == "cross_entropy" else 1
    outputs = draw(st.integers(low, max(low, max_outputs)))
    layers = [
        Layer(u, activations(draw, draw(st.sampled_from(hidden_activations))), draw(st.booleans()))
        for u in hidden
    ]
    out_name = LOSSES[loss].output or draw(st.sampled_from(hidden_activations))
    layers.append(Layer(outputs, activations(draw, out_name), draw(st.booleans())))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    units = [inputs, *(layer.units for layer in layers)]
    W = {k: rng.normal(0, 0.8, (units[k - 1], units[k])) for k in range(1, len(units))}
    b = {k: rng.normal(0, 0.5, units[k]) for k, layer in enumerate(layers, 1) if layer.bias}
    n = draw(st.sampled_from(list(batch_sizes)))
    X = rng.normal(0, 1, (n, inputs))
    if loss == "cross_entropy":
        T = np.eye(outputs)[rng.integers(0, outputs, n)]
    elif loss == "bce":
        T = rng.integers(0, 2, (n, outputs)).astype(float)
    else:
        T = rng.normal(0, 1, (n, outputs))
    return Network(inputs, tuple(layers), loss, W, b), X, T
