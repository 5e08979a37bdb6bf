"""bp's own engine and training loop (`backprop_core.run.training.Trainer`) on a workload.

The reference example is loaded from the built-in config, as `bp train` does.
The other workloads are a config with one placeholder row whose data and initial
weights are then replaced by the workload's, so every variant starts equal.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.workloads import Workload, initial_weights, make_data


def config_text(w: Workload, *, inline_data: bool = False) -> str:
    """A bp config for the workload; data: one row of zeros unless `inline_data`."""
    layers = "\n".join(
        f"    - {{units: {u}, activation: {a}, bias: {str(w.bias).lower()}}}"
        for u, a in zip(w.units[1:], w.activations, strict=True)
    )
    if inline_data:
        X, T = (m.tolist() for m in make_data(w))
    else:
        # One placeholder row (replaced after loading), a valid target for any loss.
        X, T = [[0] * w.units[0]], [[1] + [0] * (w.units[-1] - 1)]
    return (
        f"seed: 0\nnetwork:\n  inputs: {w.units[0]}\n  layers:\n{layers}\nloss: {w.loss}\n"
        f"data:\n  inputs: {X}\n  targets: {T}\n"
        f"training:\n  eta: {w.eta}\n  epochs: 1000000000\n  batch_size: {w.batch}\n"
        f"  precision: {w.dtype}\n"
    )


def make_epoch(
    w: Workload, threads: int = 1, *, fresh: bool = False, engine: str = "vector"
) -> Callable[[], float]:
    """`fresh`: every update makes its arrays afresh (no reused workspace), as
    before buffers were reused: the width benchmark's comparison. `engine`:
    `training.engine`; vector unless asked, so that "bp" times the vector engine
    (on the reference and tiny networks `auto` would take the scalar path)."""
    from backprop_core.data.load import Dataset
    from backprop_core.engine.network import FRESH
    from backprop_core.run.experiment import load_experiment
    from backprop_core.run.training import Trainer

    if w.name == "reference":
        experiment = load_experiment(
            None, ["training.epochs=1000000000", f"training.engine={engine}"]
        )
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "workload.yaml"
            path.write_text(config_text(w))
            experiment = load_experiment(path, [f"training.engine={engine}"])
        X, T = make_data(w)
        experiment.data = Dataset(X, T)
        W, b = initial_weights(w)
        for k in range(1, w.layers + 1):
            experiment.network.W[k][...] = W[k - 1]
            if w.bias:
                experiment.network.b[k][...] = b[k - 1]
    trainer = Trainer(experiment)
    trainer.threads = threads  # as training.threads / --threads set it
    if fresh:
        trainer._workspace = lambda X, T: FRESH  # type: ignore[method-assign]
    # As `bp train` does: the gradient norm is measured only for the ~20 epochs
    # its table logs, none of which fall in a timed stretch this short.
    trainer.measure_norm = lambda epoch: False
    epochs = trainer.epochs()
    return lambda: next(epochs).loss
