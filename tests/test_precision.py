"""training.precision: float32 end to end, close to float64; float64 stays exact (SPEC §2)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from backprop_core.engine.losses import LOSSES
from backprop_core.run.experiment import load_experiment
from backprop_core.run.training import Trainer

ROOT = Path(__file__).resolve().parent.parent

CLASSIFIER = """
seed: 3
network:
  inputs: 2
  layers:
    - {units: 8, activation: tanh}
    - {units: 3, activation: softmax}
loss: cross_entropy
data:
  inputs: [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5], [0.2, 0.9], [0.9, 0.2], [0.1, 0.1]]
  targets: [a, b, b, c, a, b, b, a]
training: {eta: 0.5, epochs: 40, batch_size: 3}
"""

REGRESSION = """
seed: 1
network:
  inputs: 2
  layers:
    - {units: 4, activation: sigmoid}
    - {units: 1, activation: relu}
loss: mse
data:
  inputs: [[0, 1], [1, 0], [1, 1], [0, 0], [0.5, 0.2]]
  targets: [1, 1, 0, 0, 0.6]
training: {eta: 0.2, epochs: 25, optimizer: momentum}
"""


def run(path: Path, precision: str) -> tuple[Trainer, list[float]]:
    trainer = Trainer(load_experiment(path, [f"training.precision={precision}"]))
    return trainer, trainer.run().losses


@pytest.mark.parametrize("text", [CLASSIFIER, REGRESSION], ids=["classifier", "regression"])
def test_float32_trains_in_float32_and_follows_float64(tmp_path: Path, text: str) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    single, losses32 = run(path, "float32")
    double, losses64 = run(path, "float64")
    net = single.network
    assert {w.dtype for w in (*net.W.values(), *net.b.values())} == {np.dtype(np.float32)}
    assert single.experiment.data.X.dtype == np.float32
    grads = single.last_gradients
    assert grads is not None
    assert {g.dtype for _, g in grads.items()} == {np.dtype(np.float32)}
    # float32 carries ~7 digits; after tens of updates the runs agree to ~1e-5.
    np.testing.assert_allclose(losses32, losses64, rtol=2e-4, atol=1e-6)
    for k in net.W:
        np.testing.assert_allclose(net.W[k], double.network.W[k], rtol=1e-3, atol=1e-5)


def test_float64_reference_example_stays_exact() -> None:
    trainer = Trainer(load_experiment(None, []))
    result = trainer.run()
    assert result.losses == [32 / 16**e for e in range(10)]
    assert result.final_loss == 32 / 16**10
    assert trainer.network.dtype == np.float64


def test_float64_tiny_all_diverges_with_the_same_numbers() -> None:
    result = Trainer(load_experiment(ROOT / "configs" / "tiny-all.yaml", [])).run()
    assert result.status == "diverged" and result.diverged_epoch == 5
    assert result.losses[:3] == [32.0, 10624.388142079995, 9.395058478695053e16]


def test_float32_reference_example_is_close_to_the_exact_numbers() -> None:
    result = Trainer(load_experiment(None, ["training.precision=float32"])).run()
    np.testing.assert_allclose(result.losses, [32 / 16**e for e in range(10)], rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_probabilities_give_finite_losses(dtype: type) -> None:
    # A probability of exactly 0 (or 1) is where float32 used to turn log() into
    # -inf and 0 * -inf into nan; the floor now follows the dtype.
    Y = np.array([[0.0, 1.0]], dtype)
    T = np.array([[1.0, 0.0]], dtype)
    floor = max(1e-300, float(np.finfo(dtype).tiny))
    assert LOSSES["cross_entropy"].loss(Y, T) == pytest.approx(-math.log(floor), rel=1e-6)
    bce = LOSSES["bce"].loss(Y, T)
    assert math.isfinite(bce) and bce > 15
    assert np.isfinite(LOSSES["bce"].dL_dY(Y, T)).all()
