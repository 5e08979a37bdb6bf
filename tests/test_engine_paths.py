"""The training hot path's shortcuts give what the plain definitions give.

Each shortcut (the loss from Y on softmax + cross_entropy, accuracy counted once
per epoch) is checked against the definition it replaces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backprop_core.engine.activations import Activation
from backprop_core.engine.losses import LOSSES
from backprop_core.engine.network import Layer, Network
from backprop_core.run.experiment import load_experiment
from backprop_core.run.training import Trainer, correct, judged


def softmax_net(scale: float) -> Network:
    rng = np.random.default_rng(3)
    W = {1: rng.standard_normal((3, 4)) * scale}
    return Network(3, (Layer(4, Activation("softmax")),), "cross_entropy", W, {1: np.zeros(4)})


def test_softmax_loss_is_taken_from_Y_when_no_output_underflowed() -> None:
    net = softmax_net(1.0)
    rng = np.random.default_rng(4)
    X, T = rng.standard_normal((16, 3)), np.eye(4)[rng.integers(0, 4, 16)]
    trace = net.forward(X)
    record = LOSSES["cross_entropy"]
    assert record.exact_from_Y is not None and record.exact_from_Y(trace.Y)
    assert net.loss_of(trace, T) == record.loss(trace.Y, T)
    assert net.loss_of(trace, T) == pytest.approx(record.from_H(trace.H[1], T), rel=1e-14)


def test_softmax_loss_is_taken_from_H_where_an_output_underflowed() -> None:
    net = softmax_net(1.0)
    X, T = np.array([[1.0, 0.0, 0.0]]), np.array([[1.0, 0.0, 0.0, 0.0]])
    net.W[1][0] = [-800.0, 0.0, 0.0, 0.0]  # Y_1 = exp(-800) / 3: below any float64
    trace = net.forward(X)
    assert trace.Y[0, 0] == 0.0
    assert net.loss_of(trace, T) == pytest.approx(800.0 + np.log(3.0), rel=1e-15)
    assert LOSSES["cross_entropy"].loss(trace.Y, T) < 700  # what Y alone would say


CLASSIFIERS = {
    "softmax": """
network:
  inputs: 2
  layers: [{units: 4, activation: tanh}, {units: 3, activation: softmax}]
loss: cross_entropy
data:
  generate: {name: spiral, samples: 60, classes: 3}
training: {eta: 0.5, epochs: 4, batch_size: 7, shuffle: true}
""",
    "sigmoid": """
network:
  inputs: 2
  layers: [{units: 3, activation: tanh}, {units: 2, activation: sigmoid}]
loss: bce
data:
  inputs: [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.2], [0.3, 0.9], [0.7, 0.1]]
  targets: [[0, 1], [1, 1], [1, 0], [0, 0], [1, 1], [0, 1], [1, 0]]
training: {eta: 0.5, epochs: 4, batch_size: 3, shuffle: true}
""",
}


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_epoch_accuracy_counts_each_batch_before_its_update(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clf.yaml"
    path.write_text(CLASSIFIERS[kind])
    experiment = load_experiment(path)
    seen: list[tuple[Any, Any]] = []
    original = Network.loss_and_gradients

    def spy(self: Network, X: Any, T: Any, *args: Any) -> Any:
        loss, grads, trace = original(self, X, T, *args)
        seen.append((trace.Y.copy(), T.copy()))
        return loss, grads, trace

    monkeypatch.setattr(Network, "loss_and_gradients", spy)
    result = Trainer(experiment).run()
    loss, n = experiment.network.loss, experiment.data.n
    per_epoch = len(seen) // result.epochs_run
    for e, record in enumerate(result.history):
        batches = seen[e * per_epoch : (e + 1) * per_epoch]
        right = sum(correct(Y, T, loss) for Y, T in batches)
        assert record.accuracy == right / judged(experiment.data.T, loss)
    assert sum(len(T) for _, T in seen[:per_epoch]) == n


@pytest.mark.parametrize("shape", [(1, 1), (4, 2), (32, 10), (7, 3)])
def test_softmax_row_maximum_is_the_reductions_own(shape: tuple[int, int]) -> None:
    from backprop_core.engine.activations import _row_max

    rng = np.random.default_rng(sum(shape))
    H = rng.standard_normal(shape)
    H[0, -1] = np.nan  # a NaN row: both pick the NaN
    if shape[0] > 1:
        H[1, 0] = np.inf
    for layout in (H, np.asfortranarray(H), H[::-1]):
        expected = np.maximum.reduce(layout, axis=-1, keepdims=True)
        assert np.array_equal(_row_max(layout), expected, equal_nan=True)
    assert _row_max(H[0]).shape == (1,)  # a single sample keeps its axis too


def test_a_whole_data_pass_holds_one_chunk_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracemalloc

    from backprop_core.run import training

    path = tmp_path / "wide.yaml"
    path.write_text("""
network:
  inputs: 1
  layers:
    - {units: 300, activation: tanh}
    - {units: 300, activation: tanh}
    - {units: 1, activation: linear}
loss: mse
data:
  generate: {name: sine, samples: 640}
training: {eta: 0.01, epochs: 1}
""")
    monkeypatch.setattr(training, "CHUNK", 64)
    trainer = Trainer(load_experiment(path))
    trainer.loss_on_training_data()  # allocator warm
    # One chunk's forward pass: H and A of both hidden layers and the output.
    one_chunk = 64 * (300 + 300 + 300 + 300 + 1 + 1) * 8
    tracemalloc.start()
    trainer.loss_on_training_data()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert one_chunk <= peak < 1.5 * one_chunk
