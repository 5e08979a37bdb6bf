"""Checkpoints are configs: `--save` writes weights, scaling, classes; they load back exactly."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from numpy.testing import assert_array_equal
from typer.testing import CliRunner

from backprop_core.run.checkpoint import INLINE_LIMIT, save_checkpoint
from backprop_core.run.experiment import load_experiment
from backprop_core.run.training import Trainer
from cli.app import app

runner = CliRunner()
CONFIGS = Path(__file__).resolve().parent.parent / "configs"

IRIS_SMALL = """\
name: iris-small
seed: 5
network:
  inputs: 4
  layers:
    - {units: 5, activation: tanh}
    - {units: 3, activation: softmax}
loss: cross_entropy
data:
  file: {path: data/iris.csv, targets: [species]}
  validation: 0.2
  standardize: true
training: {eta: 0.02, epochs: 40, optimizer: adam}
"""


@pytest.fixture
def iris_config(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    shutil.copy(CONFIGS / "data" / "iris.csv", tmp_path / "data" / "iris.csv")
    path = tmp_path / "iris.yaml"
    path.write_text(IRIS_SMALL, encoding="utf-8")
    return path


def train_and_save(config: Path, saved: Path, *args: str) -> dict[str, object]:
    result = runner.invoke(app, ["train", str(config), "--save", str(saved), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def parameters(experiment: object) -> list[np.ndarray]:
    return [p for _, p in experiment.network.parameters()]  # type: ignore[attr-defined]


def test_saved_config_loads_bitwise_identical_weights_and_loss(
    iris_config: Path, tmp_path: Path
) -> None:
    experiment = load_experiment(iris_config)
    trainer = Trainer(experiment)
    result = trainer.run()
    saved = tmp_path / "out" / "trained.yaml"
    saved.parent.mkdir()
    written = save_checkpoint(
        saved,
        experiment.loaded,
        trainer.network,
        experiment.data,
        epochs=result.epochs_run,
        final_loss=result.final_loss,
    )
    assert written == [saved]
    again = load_experiment(saved)
    for before, after in zip(parameters(experiment), parameters(again), strict=True):
        assert before.dtype == after.dtype
        assert_array_equal(before, after)
    # Same standardized data (the statistics round-trip exactly), so the same loss.
    assert_array_equal(again.data.X, experiment.data.X)
    assert_array_equal(again.data.X_val, experiment.data.X_val)
    loss = again.network.loss_of(again.network.forward(again.data.X), again.data.T)
    assert loss == result.final_loss
    doc = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert doc["network"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert doc["network"]["standardization"]["mean"] == experiment.data.mean.tolist()
    assert "standardize" not in doc["data"]
    assert doc["trained"] == {
        "epochs": 40,
        "final_loss": result.final_loss,
        "status": "completed",
        "bp_version": "0.1.0",
    }
    # Saved into another folder, the data path still reaches the CSV.
    assert (saved.parent / doc["data"]["file"]["path"]).resolve() == (
        iris_config.parent / "data" / "iris.csv"
    ).resolve()


def test_cli_save_then_train_again_continues_from_the_saved_weights(
    iris_config: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "trained.yaml"
    first = train_and_save(iris_config, saved)
    loaded = load_experiment(saved)
    # Every weight `bp train --json` reported is the one the saved file holds.
    assert first["weights"] == {
        w.canonical: loaded.network.weight(w) for w in loaded.names.all_ids()
    }
    again = tmp_path / "again.yaml"
    second = train_and_save(saved, again, "--epochs", "5")
    # Full batch: epoch 1's loss is the saved weights' loss on the training rows.
    assert second["losses"][0] == first["final_loss"]
    assert second["losses"][4] < first["final_loss"]
    assert yaml.safe_load(again.read_text(encoding="utf-8"))["trained"]["epochs"] == 45


def test_large_weight_sets_go_to_an_npz_beside_the_yaml(tmp_path: Path) -> None:
    config = tmp_path / "wide.yaml"
    config.write_text(
        "seed: 1\nnetwork:\n  inputs: 2\n  layers:\n"
        "    - {units: 100, activation: relu}\n    - {units: 100, activation: relu}\n"
        "    - {units: 2, activation: softmax}\nloss: cross_entropy\n"
        "data: {generate: {name: moons, samples: 40}}\ntraining: {epochs: 2, eta: 0.01}\n",
        encoding="utf-8",
    )
    experiment = load_experiment(config)
    assert experiment.network.parameter_count() > INLINE_LIMIT
    trainer = Trainer(experiment)
    result = trainer.run()
    saved = tmp_path / "wide-trained.yaml"
    written = save_checkpoint(
        saved,
        experiment.loaded,
        trainer.network,
        experiment.data,
        epochs=result.epochs_run,
        final_loss=result.final_loss,
    )
    npz = written[0]
    # Named by the start of its SHA-256: each save's weights have their own name.
    assert re.fullmatch(r"wide-trained\.weights-[0-9a-f]{12}\.npz", npz.name)
    assert hashlib.sha256(npz.read_bytes()).hexdigest()[:12] == npz.name[-16:-4]
    assert written == [npz, saved]
    doc = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert doc["network"]["weights_file"] == npz.name
    assert all("weights" not in layer for layer in doc["network"]["layers"])
    again = load_experiment(saved)
    for before, after in zip(parameters(experiment), parameters(again), strict=True):
        assert_array_equal(before, after)
    assert saved.stat().st_size < 2000


def test_float32_weights_round_trip_bitwise(tmp_path: Path) -> None:
    experiment = load_experiment(
        CONFIGS / "xor.yaml", ["training.precision=float32", "training.epochs=20"]
    )
    trainer = Trainer(experiment)
    result = trainer.run()
    saved = tmp_path / "xor32.yaml"
    save_checkpoint(
        saved,
        experiment.loaded,
        trainer.network,
        experiment.data,
        epochs=20,
        final_loss=result.final_loss,
    )
    again = load_experiment(saved)
    for before, after in zip(parameters(experiment), parameters(again), strict=True):
        assert after.dtype == np.float32
        assert_array_equal(before, after)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"W1": np.ones((2, 3))}, "wide.weights.npz has no array 'W2' for layer 2"),
        (
            {"W1": np.ones((2, 3)), "W2": np.ones((4, 1))},
            "wide.weights.npz: W2 has shape (4, 1) (float64), expected (3, 1) numbers for layer 2",
        ),
        (
            {"W1": np.full((2, 3), np.nan), "W2": np.ones((3, 1))},
            "wide.weights.npz: W1 holds NaN or infinite values",
        ),
    ],
)
def test_a_bad_weights_file_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arrays: dict[str, np.ndarray], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "wide.weights.npz", **arrays)
    (tmp_path / "w.yaml").write_text(
        "network:\n  inputs: 2\n  weights_file: wide.weights.npz\n  layers:\n"
        "    - {units: 3, bias: false}\n    - {units: 1, bias: false}\n"
        "data: {inputs: [[1, 2]], targets: [1]}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["train", "w.yaml", "--epochs", "1"])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: w.yaml:3: network.weights_file: {message}\n"
