"""From a config file to a ready network, its data and its weight names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.config.load import load_config
from backprop_core.config.model import Config, LoadedConfig
from backprop_core.data.load import Dataset, load_data
from backprop_core.engine.init_schemes import initial_weights
from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.engine.network import Layer, Network
from backprop_core.engine.seeding import INIT, rng
from backprop_core.errors import WeightNameError


@dataclass
class Experiment:
    loaded: LoadedConfig
    network: Network
    data: Dataset
    names: WeightNames
    frozen: set[WeightId] = field(default_factory=set)
    frozen_biases: bool = False

    @property
    def config(self) -> Config:
        return self.loaded.config

    # The training settings, as explain/ reads them (explain.derivation.Experiment).
    @property
    def eta(self) -> float:
        return self.config.training.eta

    @property
    def optimizer(self) -> str:
        return self.config.training.optimizer.name

    def masks(self) -> dict[tuple[str, int], NDArray[np.floating[Any]] | None]:
        """Per weight array: None (all trainable) or a 0/1 mask (0 = frozen)."""
        out: dict[tuple[str, int], NDArray[np.floating[Any]] | None] = {}
        for key, p in self.network.parameters():
            if key[0] == "b" and self.frozen_biases:
                out[key] = np.zeros_like(p)
                continue
            mask = None
            for w in self.frozen:
                if w.key != key:
                    continue
                if mask is None:
                    mask = np.ones_like(p)
                mask[w.index] = 0.0
            out[key] = mask
        return out

    def scalar_unsupported(self, batch: int) -> str | None:
        """Why the scalar path (engine/scalar_path.py) cannot train this network in
        batches of `batch` rows; None: it can."""
        from backprop_core.engine.scalar_path import unsupported

        dtype = np.result_type(self.data.X.dtype, self.data.T.dtype)
        return unsupported(self.network, self.optimizer, batch, dtype=dtype)

    def is_frozen(self, w: WeightId) -> bool:
        return w in self.frozen or (w.is_bias and self.frozen_biases)

    def frozen_count(self) -> int:
        """How many weights `is_frozen` (a bias named and also under ``biases`` counts once)."""
        return sum(
            m.size - int(np.count_nonzero(m)) for m in self.masks().values() if m is not None
        )


def load_experiment(path: Path | None = None, overrides: Sequence[str] = ()) -> Experiment:
    loaded = load_config(path, list(overrides))
    return build_experiment(loaded)


def build_experiment(loaded: LoadedConfig) -> Experiment:
    network = build_network(loaded)
    names = WeightNames(network.units, tuple(layer.bias for layer in network.layers))
    frozen, frozen_biases = resolve_freeze(loaded, names)
    dtype = np.float32 if loaded.config.training.precision == "float32" else np.float64
    data = load_data(loaded).astype(dtype)
    experiment = Experiment(loaded, network, data, names, frozen, frozen_biases)
    spec = loaded.config.training
    if spec.engine == "scalar":  # a network the scalar path cannot take: say why
        n = data.n
        reason = experiment.scalar_unsupported(min(n, _rows(spec.batch_size, n)))
        if reason is not None:
            raise loaded.error(
                ("training", "engine"),
                f"scalar cannot train this network: {reason}; use auto or vector",
            )
    return experiment


def _rows(batch_size: int | str, n: int) -> int:
    return n if batch_size == "full" else int(batch_size)


def build_network(loaded: LoadedConfig) -> Network:
    c = loaded.config
    spec = c.network
    dtype = np.float32 if c.training.precision == "float32" else np.float64
    units = [spec.inputs, *(layer.units for layer in spec.layers)]
    layers = tuple(
        Layer(layer.units, layer.activation.build(), layer.bias) for layer in spec.layers
    )
    W: dict[int, NDArray[Any]] = {}
    b: dict[int, NDArray[Any]] = {}
    stored = _weights_file(loaded)
    for k, layer in enumerate(spec.layers, start=1):
        if layer.weights is not None:
            W[k] = np.array(layer.weights, dtype=np.float64)
        elif f"W{k}" in stored:
            W[k] = stored[f"W{k}"]
        else:
            # Each layer draws from its own stream: giving one layer explicit
            # weights does not change the others' initial values.
            W[k] = initial_weights(spec.init, units[k - 1], units[k], rng(c.seed, INIT, k))
        if layer.bias:
            if layer.biases is not None:
                b[k] = np.array(layer.biases, dtype=np.float64)
            elif f"b{k}" in stored:
                b[k] = stored[f"b{k}"]
            else:
                b[k] = np.zeros(units[k])
    W = {k: np.ascontiguousarray(w, dtype=dtype) for k, w in W.items()}
    b = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in b.items()}
    return Network(spec.inputs, layers, c.loss, W, b)


def _weights_file(loaded: LoadedConfig) -> dict[str, NDArray[Any]]:
    name = loaded.config.network.weights_file
    if name is None:
        return {}
    from backprop_core.run.checkpoint import read_weights_file

    return read_weights_file(loaded, name)


def resolve_freeze(loaded: LoadedConfig, names: WeightNames) -> tuple[set[WeightId], bool]:
    frozen: set[WeightId] = set()
    biases = False
    for index, name in enumerate(loaded.config.training.freeze):
        if name == "biases":
            biases = True
            continue
        try:
            frozen.add(names.resolve(name))
        except WeightNameError as e:
            raise loaded.error(("training", "freeze", index), str(e)) from None
    return frozen, biases
