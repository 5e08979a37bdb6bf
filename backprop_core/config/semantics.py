"""Config rules that span keys, checked after the schema: layer shapes, softmax, loss pairing.

pydantic validates each key on its own; `check_semantics` checks what only
the whole config can tell (a weight matrix's shape against the layer sizes, a
loss against its output activation) and raises a `ConfigError` at the key to
fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backprop_core.engine.activations import ACTIVATIONS
from backprop_core.engine.losses import LOSSES

if TYPE_CHECKING:
    from backprop_core.config.model import LoadedConfig
    from backprop_core.config.yaml_source import Key

# Beyond this a network no longer fits a "small network" tool's memory budget
# (800 MB of float64 weights before gradients and optimizer state).
MAX_PARAMETERS = 100_000_000


def check_semantics(loaded: LoadedConfig) -> None:
    """Rules that span keys: layer shapes, softmax placement, loss/output pairing."""
    c = loaded.config
    layers = c.network.layers
    K = len(layers)
    units = [c.network.inputs, *(layer.units for layer in layers)]
    total = 0
    for k, layer in enumerate(layers, start=1):
        at: Key = ("network", "layers", k - 1)
        total += (units[k - 1] + layer.bias) * units[k]
        if total > MAX_PARAMETERS:
            raise loaded.error(
                (*at, "units"),
                f"the network would have more than {MAX_PARAMETERS:,} weights; bp trains "
                "small networks",
            )
        if ACTIVATIONS[layer.activation.name].output_only and k != K:
            raise loaded.error(
                (*at, "activation"), f"{layer.activation.name} is only allowed on the output layer"
            )
        if layer.weights is not None:
            rows, cols = len(layer.weights), {len(r) for r in layer.weights}
            if rows != units[k - 1] or cols != {units[k]}:
                got = f"{rows} rows of {'/'.join(map(str, sorted(cols))) or 0}"
                raise loaded.error(
                    (*at, "weights"),
                    f"expected {units[k - 1]} rows (source nodes) of {units[k]} values "
                    f"(destination nodes), got {got}",
                )
        if layer.biases is not None:
            if not layer.bias:
                raise loaded.error((*at, "biases"), "biases given but the layer has bias: false")
            if len(layer.biases) != units[k]:
                raise loaded.error(
                    (*at, "biases"), f"expected {units[k]} values, got {len(layer.biases)}"
                )
    output = layers[-1].activation.name
    required = LOSSES[c.loss].output
    if required and output != required:
        raise loaded.error(
            ("loss",), f"{c.loss} needs a {required} output layer, but the output is {output}"
        )
    needs = ACTIVATIONS[output].loss
    if needs is not None and c.loss != needs:
        raise loaded.error(
            ("network", "layers", K - 1, "activation"), f"{output} output needs loss {needs}"
        )
    if c.network.standardization is not None:
        for field in ("mean", "std"):
            if len(getattr(c.network.standardization, field)) != units[0]:
                raise loaded.error(
                    ("network", "standardization", field), f"expected {units[0]} values"
                )
