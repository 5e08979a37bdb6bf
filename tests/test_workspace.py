"""Reused buffers (network.Workspace) give the same bits as arrays made afresh."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backprop_core.engine.activations import Activation
from backprop_core.engine.network import FRESH, Layer, Network, Workspace
from backprop_core.run.experiment import load_experiment
from backprop_core.run.training import Trainer
from tests.test_training import write

HIDDEN = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "softplus")
OUTPUTS = (("softmax", "cross_entropy"), ("sigmoid", "bce"), ("linear", "mse"), ("tanh", "sse"))


def network(hidden: str, output: str, loss: str, dtype: str) -> Network:
    rng = np.random.default_rng(5)
    units = (4, 6, 5, 3)
    layers = (
        Layer(6, Activation(hidden)),
        Layer(5, Activation(hidden), bias=False),
        Layer(3, Activation(output)),
    )
    W = {k: rng.standard_normal(units[k - 1 : k + 1]).astype(dtype) for k in (1, 2, 3)}
    b = {k: rng.standard_normal(units[k]).astype(dtype) for k in (1, 3)}
    return Network(4, layers, loss, W, b)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output,loss", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_workspace_gives_the_bits_of_fresh_arrays(
    hidden: str, output: str, loss: str, dtype: str
) -> None:
    net = network(hidden, output, loss, dtype)
    ws = Workspace.of(net, 8)
    rng = np.random.default_rng(9)
    for _ in range(2):  # the second pass writes over the first's buffers
        X = rng.standard_normal((8, 4)).astype(dtype)
        T = np.eye(3, dtype=dtype)[rng.integers(0, 3, 8)]
        loss_a, grads_a, trace_a = net.loss_and_gradients(X, T, (), FRESH)
        loss_b, grads_b, trace_b = net.loss_and_gradients(X, T, (), ws)
        assert loss_a == loss_b or (np.isnan(loss_a) and np.isnan(loss_b))
        for k in (1, 2, 3):
            assert trace_b.H[k] is ws.H[k] and trace_b.A[k] is ws.A[k]
            assert same_bits(trace_a.A[k], trace_b.A[k])
            assert same_bits(grads_a.dL_dW[k], grads_b.dL_dW[k])
            assert same_bits(grads_a.delta[k], grads_b.delta[k])
        for k in (1, 3):
            assert same_bits(grads_a.dL_db[k], grads_b.dL_db[k])


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_training_with_workspaces_gives_the_weights_of_fresh_arrays(
    tmp_path: Path, optimizer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # batch 3 of 7 rows: two batch sizes (3 and the last 1), four workspaces
    path = write(tmp_path, batch="3", optimizer=optimizer)
    monkeypatch.setattr(Trainer, "reuse_from_bytes", 0)  # however small the arrays
    reused = Trainer(load_experiment(path, []))
    reused.run()
    assert sorted(reused.workspaces) == [1, 3]
    monkeypatch.setattr(Trainer, "_workspace", lambda self, X, T: FRESH)
    fresh = Trainer(load_experiment(path, []))
    fresh.run()
    assert reused.result.losses == fresh.result.losses
    for (_, a), (_, b) in zip(reused.network.parameters(), fresh.network.parameters(), strict=True):
        assert same_bits(a, b)


def test_recorded_steps_keep_their_gradients_after_later_updates(tmp_path: Path) -> None:
    trainer = Trainer(load_experiment(write(tmp_path, batch="3"), ["training.epochs=3"]))
    trainer.reuse_from_bytes = 0
    trainer.record_steps = lambda epoch: True
    steps, copies = [], []
    for record in trainer.epochs():
        assert record.step is not None
        steps.append(record.step)
        copies.append([g.copy() for g in record.step.grads])  # as the epoch yielded them
    assert not all(np.array_equal(a, b) for a, b in zip(copies[0], copies[2], strict=True))
    for step, copy in zip(steps, copies, strict=True):
        for a, b in zip(step.grads, copy, strict=True):
            assert same_bits(a, b)


def test_small_arrays_are_made_afresh_and_wide_ones_reused(tmp_path: Path) -> None:
    trainer = Trainer(load_experiment(write(tmp_path, batch="3"), ["training.epochs=1"]))
    trainer.run()
    assert sorted(trainer.workspaces) == [1, 3]
    for pair in trainer.workspaces.values():
        assert len(pair) == 2 and pair[0].gradient is not pair[1].gradient
        for ws in pair:  # the gradients in one buffer each; the per-sample arrays afresh
            assert ws.gradient is not None and ws.gradient.size == trainer.network.parameter_count()
            assert ws.H == ws.A == ws.delta == {}
    net = network("tanh", "softmax", "cross_entropy", "float64")
    assert Workspace.largest(net, 8) == 8 * 6 * 8
    assert Workspace.largest(net, 4096) == 4096 * 6 * 8 >= Trainer.reuse_from_bytes
    wide = Workspace.of(net, 8, [("W", 1)], rows=True)
    assert set(wide.H) == {1, 2, 3} and wide.dL_dW[1].base is wide.gradient


def test_packing_moves_the_weights_into_one_buffer_unchanged() -> None:
    net = network("tanh", "softmax", "cross_entropy", "float64")
    before = {key: a.copy() for key, a in net.parameters()}
    order = [("b", 3), ("W", 2), ("W", 1), ("b", 1), ("W", 3)]
    flat = net.pack(order)
    assert flat.size == net.parameter_count() == sum(a.size for a in before.values())
    at = 0
    for key in order:
        array = dict(net.parameters())[key]
        assert same_bits(array, before[key]) and np.shares_memory(array, flat)
        assert same_bits(flat[at : at + array.size], before[key].ravel())
        at += array.size
    flat[0] = 42.0  # the arrays are views: the buffer's first number is b(3)[0]
    assert net.b[3][0] == 42.0


def test_training_packs_the_trained_weights_first(tmp_path: Path) -> None:
    # Biases frozen: they go last, and a step moves only the buffer's head, with
    # the one partly frozen array masked.
    experiment = load_experiment(write(tmp_path, batch="3", freeze="[biases, w1_1_2]"))
    trainer = Trainer(experiment)
    net = trainer.network
    before = {key: a.copy() for key, a in net.parameters()}
    assert trainer.order == [("W", 1), ("W", 2), ("b", 1), ("b", 2)]
    assert trainer.moving_size == net.W[1].size + net.W[2].size
    assert trainer.flat_mask is not None and trainer.flat_mask.tolist().count(0.0) == 1
    trainer.run()
    assert same_bits(net.b[1], before[("b", 1)]) and same_bits(net.b[2], before[("b", 2)])
    assert net.W[1][0, 1] == before[("W", 1)][0, 1] and net.W[1][0, 0] != before[("W", 1)][0, 0]
