"""The training loop: batches, optimizers, freeze, early stop, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backprop_core.run.experiment import load_experiment
from backprop_core.run.training import Trainer

REGRESSION = """
seed: {seed}
network:
  inputs: 2
  init: xavier
  layers:
    - {{units: 3, activation: tanh}}
    - {{units: 1, activation: linear}}
loss: mse
data:
  inputs: [[0, 1], [1, 0], [1, 1], [0, 0], [0.5, 0.2], [0.3, 0.9], [0.7, 0.1]]
  targets: [1, 1, 0, 0, 0.6, 0.4, 0.9]
training:
  eta: 0.1
  epochs: 30
  batch_size: {batch}
  optimizer: {optimizer}
  freeze: {freeze}
"""


def write(
    tmp_path: Path, seed: int = 0, batch: str = "2", optimizer: str = "sgd", freeze: str = "[]"
) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(REGRESSION.format(seed=seed, batch=batch, optimizer=optimizer, freeze=freeze))
    return path


def test_online_epoch_loss_is_the_mean_of_losses_before_each_update(tmp_path: Path) -> None:
    e = load_experiment(write(tmp_path, batch="1"), ["training.shuffle=false", "training.epochs=1"])
    reference = e.network.copy()
    expected = []
    for x, t in zip(e.data.X, e.data.T, strict=True):
        loss, grads, _ = reference.loss_and_gradients(x[None], t[None])
        expected.append(loss)
        for k in reference.W:
            reference.W[k] -= 0.1 * grads.dL_dW[k]
            reference.b[k] -= 0.1 * grads.dL_db[k]
    result = Trainer(e).run()
    assert result.losses == [pytest.approx(np.mean(expected), rel=1e-12)]
    for k in reference.W:
        np.testing.assert_allclose(e.network.W[k], reference.W[k], rtol=1e-12, atol=1e-15)


def test_same_seed_gives_bit_identical_weights_and_another_seed_does_not(tmp_path: Path) -> None:
    runs = []
    for seed in (7, 7, 8):
        e = load_experiment(write(tmp_path, seed=seed, batch="3"))
        result = Trainer(e).run()
        runs.append((result.losses, [w.tobytes() for w in e.network.W.values()]))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_batch_size_above_the_data_is_clamped_to_full(tmp_path: Path) -> None:
    e = load_experiment(write(tmp_path, batch="500"))
    trainer = Trainer(e)
    assert trainer.result.batch_size == 7
    assert trainer.result.batch_warning == (
        "batch_size 500 is larger than the 7 training rows; training will use the full batch"
    )


def test_freeze_biases_keeps_every_bias(tmp_path: Path) -> None:
    e = load_experiment(write(tmp_path, freeze="[biases, w1_1_2]"))
    before_b = {k: v.copy() for k, v in e.network.b.items()}
    before_w = e.network.W[1][0, 1]
    Trainer(e).run()
    for k, v in before_b.items():
        assert e.network.b[k].tolist() == v.tolist()
    assert e.network.W[1][0, 1] == before_w
    assert e.network.W[1][0, 0] != 0  # trained


def test_unknown_freeze_name_is_a_config_error(tmp_path: Path) -> None:
    from backprop_core.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        load_experiment(write(tmp_path, freeze="[hh9]"))
    message = str(info.value)
    assert "run.yaml:18: training.freeze[0]: unknown weight name 'hh9'" in message


def test_stop_at_loss_stops_after_the_epoch_that_reaches_it() -> None:
    e = load_experiment(None, ["training.stop_at_loss=0.01"])
    result = Trainer(e).run()
    assert result.status == "stopped_early"
    assert result.losses == [32.0, 2.0, 0.125, 0.0078125]
    assert result.final_loss == 32.0 / 16**4


def test_momentum_accumulates_velocity_on_the_reference_example() -> None:
    e = load_experiment(None, ["training.optimizer=momentum", "training.epochs=2"])
    trainer = Trainer(e)
    trainer.run()
    # step 1: v = -0.03 * 40 = -1.2, xh1 = 0.8 (as sgd); step 2: dL/dxh1 at 0.8 is 10
    # (delta(1) = 5 at Y = 4), v = 0.9 * -1.2 - 0.03 * 10 = -1.38, xh1 = 0.8 - 1.38
    np.testing.assert_allclose(e.network.W[1][0, 0], 0.8 - 1.38, rtol=1e-12)


def test_adam_first_step_moves_each_trained_weight_by_about_eta() -> None:
    e = load_experiment(None, ["training.optimizer=adam", "training.epochs=1"])
    Trainer(e).run()
    np.testing.assert_allclose(e.network.W[1][0, 0], 2 - 0.03, rtol=1e-6)
    assert e.network.W[2].tolist() == [[0.75, 0.25]]  # frozen


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_every_optimizer_lowers_the_loss(tmp_path: Path, optimizer: str) -> None:
    e = load_experiment(write(tmp_path, optimizer=optimizer), ["training.epochs=200"])
    result = Trainer(e).run()
    assert result.status == "completed"
    assert result.final_loss < 0.5 * result.losses[0]


def test_classifier_records_accuracy_and_validation_each_epoch(tmp_path: Path) -> None:
    path = tmp_path / "clf.yaml"
    path.write_text("""
network:
  inputs: 1
  layers: [{units: 2, activation: softmax}]
loss: cross_entropy
data:
  inputs: [-3, -2, -1, -0.5, 0.5, 1, 2, 3, -4, 4]
  targets: [a, a, a, a, b, b, b, b, a, b]
  validation: 0.2
training: {eta: 0.5, epochs: 50}
""")
    e = load_experiment(path)
    assert e.data.classes == ["a", "b"]
    assert len(e.data.X) == 8 and e.data.X_val is not None and len(e.data.X_val) == 2
    result = Trainer(e).run()
    last = result.history[-1]
    assert last.accuracy == 1.0 and last.val_accuracy == 1.0
    assert all(r.val_loss is not None for r in result.history)


def test_everything_frozen_trains_nothing_and_says_completed() -> None:
    e = load_experiment(None, ["training.freeze=[xh1, hh1, hh2, hy1, hy2]", "training.epochs=3"])
    result = Trainer(e).run()
    assert result.status == "completed"
    assert result.losses == [32.0, 32.0, 32.0]
    assert e.network.W[1].tolist() == [[2.0]]


def test_wholly_frozen_arrays_get_no_gradient_and_the_same_weights() -> None:
    runs = []
    for record in (False, True):
        trainer = Trainer(load_experiment(None, ["training.epochs=3"]))
        if record:  # --grads: every gradient, frozen ones included
            trainer.record_steps = lambda epoch: True
        trainer.run()
        runs.append(trainer)
    fast, full = runs
    assert fast.last_gradients is not None and full.last_gradients is not None
    assert set(fast.last_gradients.dL_dW) == {1}  # W2 and W3 are frozen in tiny.yaml
    assert set(full.last_gradients.dL_dW) == {1, 2, 3}
    assert fast.result.losses == full.result.losses == [32.0, 2.0, 0.125]
    for k in (1, 2, 3):
        np.testing.assert_array_equal(fast.network.W[k], full.network.W[k])


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_optimizer_settings_are_what_the_model_dumps(name: str) -> None:
    overrides = [f"training.optimizer={{name: {name}}}"]
    if name == "adam":
        overrides = ["training.optimizer={name: adam, beta1: 0.8, epsilon: 1.0e-6}"]
    spec = load_experiment(None, overrides).config.training.optimizer
    assert spec.settings() == spec.model_dump(exclude={"name"})
