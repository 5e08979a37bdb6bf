"""The derivation of one or more weights as a `Derivation`: what a sheet asks, in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backprop_core.engine.gradcheck import as_float64
from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.engine.network import Network
from backprop_core.explain.derivation import explain
from backprop_core.grading.quantities import Array, Derivation, Quantity
from backprop_core.grading.recompute import Structure


def derive(
    network: Network,
    names: WeightNames,
    X: Array,
    T: Array,
    weights: Sequence[WeightId],
    eta: float,
) -> Derivation:
    """The quantities of the derivations of `weights` (shared ones asked once)."""
    net = as_float64(network)
    X, T = np.asarray(X, np.float64), np.asarray(T, np.float64)
    explanations = [explain(net, names, X, T, w, eta) for w in weights]
    structure = Structure(net, names, X, T, eta)
    qualify = len(weights) > 1
    quantities: dict[str, Quantity] = {}
    truth = structure.truth()
    for x in explanations:
        for q in structure.quantities(x, qualify):
            if q.name not in quantities:
                quantities[q.name] = q
        truth.update(structure.after_truth(x, qualify))
    for q in quantities.values():
        truth[q.name] = q.expected
    return Derivation(
        list(quantities.values()),
        truth,
        structure.givens(),
        [x.alias for x in explanations],
        explanations,
        X.shape[0],
        net.loss,
        eta,
    )


def derive_experiment(experiment: Any, weights: Sequence[str]) -> Derivation:
    """`derive` for weights named in any SPEC §4 form, on an experiment's training data."""
    ids = list(dict.fromkeys(experiment.names.resolve(name) for name in weights))
    return derive(
        experiment.network,
        experiment.names,
        experiment.data.X,
        experiment.data.T,
        ids,
        experiment.config.training.eta,
    )
