"""`bp export --to pytorch`: the script trains exactly as bp does.

Most scripts are imported as modules and their `main(argv)` called in this
process (torch loads once); one plain `python` run and one `torchrun` run are
real processes. Losses are compared per epoch, in float64, to 1e-9 relative.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from background import Started, finished, start
from networks import NET_222
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from backprop_core.config.load import load_config
from backprop_core.export.pytorch import export_pytorch
from backprop_core.run.experiment import load_experiment
from backprop_core.run.predict import load_model, predict
from backprop_core.run.training import Trainer
from cli.app import app

torch = pytest.importorskip("torch", reason="the torch extra is not installed")
torch.set_num_threads(1)  # tiny matrices: threads only contend on a shared machine

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
runner = CliRunner()

# Mazur's "step by step backpropagation example": 2-2-2 sigmoid with biases, sse.
# h1 = w1 i1 + w2 i2 + b1, so W1 holds w1, w3 in row i1 and w2, w4 in row i2.
MAZUR = "name: mazur\n" + NET_222 + "training: {eta: 0.5, epochs: 20, optimizer: sgd}\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def bp_losses(config: Path, overrides: list[str]) -> tuple[list[float], float]:
    result = Trainer(load_experiment(config, overrides)).run()
    return result.losses, result.final_loss


def finite(values: list[float | None]) -> list[float]:
    """Losses up to the first non-finite one (JSON null in the script's summary)."""
    out = []
    for v in values:
        if v is None or not np.isfinite(v):
            break
        out.append(v)
    return out


def script_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exported(folder: Path, config: Path, overrides: list[str]) -> ModuleType:
    script = folder / "train_bp.py"
    export_pytorch(load_experiment(config, overrides), script)
    return script_module(script)


def torch_run(module: ModuleType, folder: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    summary = module.main(["--save", str(folder / "trained.yaml")])
    printed = json.loads(capsys.readouterr().out)
    assert printed == summary
    return summary


def trains_as_bp(
    folder: Path, config: Path, overrides: list[str], capsys: pytest.CaptureFixture[str]
) -> list[float]:
    """Export, train in PyTorch, compare every epoch's loss, the final loss and the status."""
    result = Trainer(load_experiment(config, overrides)).run()
    summary = torch_run(exported(folder, config, overrides), folder, capsys)
    assert summary["status"] == result.status
    assert summary["epochs_run"] == len(result.losses)
    assert_allclose(finite(summary["losses"]), finite(result.losses), rtol=1e-9, atol=0)
    if np.isfinite(result.final_loss):
        assert summary["final_loss"] == pytest.approx(result.final_loss, rel=1e-9)
    return result.losses


CASES = {
    "reference example (tiny)": (CONFIGS / "tiny.yaml", ["training.epochs=20"]),
    "every weight of tiny-all, momentum": (
        CONFIGS / "tiny-all.yaml",
        [
            "training.epochs=20",
            "training.eta=0.003",
            "training.optimizer={name: momentum, momentum: 0.8}",
        ],
    ),
    "softmax classifier, mini-batches shuffled (spiral, generated)": (
        CONFIGS / "spiral.yaml",
        ["training.epochs=20", "training.batch_size=32", "training.eta=0.05"],
    ),
    "adam, CSV labels, validation split, standardized (iris)": (
        CONFIGS / "iris.yaml",
        ["training.epochs=20"],
    ),
    "adam, mse, CSV numbers, batches of 32 (csv)": (
        CONFIGS / "csv.yaml",
        ["training.epochs=20"],
    ),
    "momentum, bce, batches of 3 (xor)": (
        CONFIGS / "xor.yaml",
        ["training.epochs=20", "training.batch_size=3", "training.optimizer=momentum"],
    ),
    "softplus and leaky_relu, sse (sine)": (
        CONFIGS / "sine.yaml",
        [
            "training.epochs=20",
            "network.layers[0].activation={name: leaky_relu, alpha: 0.2}",
            "network.layers[1].activation=softplus",
            "loss=sse",
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_script_losses_equal_bp_losses(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, overrides = CASES[case]
    assert len(trains_as_bp(tmp_path, config, overrides, capsys)) == 20


def test_mazur_2_2_2_sigmoid_with_biases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    losses = trains_as_bp(tmp_path, write(tmp_path, "mazur.yaml", MAZUR), [], capsys)
    assert losses[0] == pytest.approx(0.298371109, abs=1e-9)  # Mazur's total error


def test_frozen_weights_stay_and_the_rest_train_as_in_bp(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Partly frozen arrays (one weight of W1, one of W2) and all biases frozen, adam."""
    config = write(tmp_path, "mazur.yaml", MAZUR)
    overrides = ["training.freeze=[w1_2_1, w2_1_2, biases]", "training.optimizer=adam"]
    trains_as_bp(tmp_path, config, overrides, capsys)
    trained = load_experiment(tmp_path / "trained.yaml").network
    assert trained.W[1][1, 0] == 0.20 and trained.W[2][0, 1] == 0.50
    assert trained.b[1].tolist() == [0.35, 0.35] and trained.b[2].tolist() == [0.60, 0.60]
    assert trained.W[1][0, 0] != 0.15


def test_stop_at_loss_and_divergence_end_training_as_in_bp(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped = trains_as_bp(tmp_path, CONFIGS / "tiny.yaml", ["training.stop_at_loss=0.01"], capsys)
    assert stopped == [32.0, 2.0, 0.125, 0.0078125]
    (tmp_path / "diverged").mkdir()
    diverged = trains_as_bp(tmp_path / "diverged", CONFIGS / "tiny-all.yaml", [], capsys)
    assert len(diverged) == 5 and not np.isfinite(diverged[-1])
    assert not (tmp_path / "diverged" / "trained.yaml").exists()  # no non-finite weights


def test_npz_data_is_read_from_its_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    np.savez(tmp_path / "rows.npz", X=X, T=np.sin(X[:, :1]) + X[:, 1:] ** 2)
    config = (CONFIGS / "sine.yaml").read_text()
    config = write(tmp_path, "npz.yaml", config)
    overrides = [
        "network.inputs=2",
        "data={file: {path: rows.npz}, validation: 0.2}",
        "training.epochs=20",
        "training.batch_size=8",
        "training.optimizer=momentum",
    ]
    trains_as_bp(tmp_path, config, overrides, capsys)
    assert "DATA_FILE = HERE / 'rows.npz'\n" in (tmp_path / "train_bp.py").read_text()
    assert not (tmp_path / "train_bp.data.npz").exists()


def test_a_data_file_below_the_script_is_found_after_the_folder_moves(tmp_path: Path) -> None:
    """Data below the script's folder is read relative to the script (a project copied
    to another machine still trains); data elsewhere by its absolute path."""
    project = tmp_path / "project"
    (project / "configs" / "data").mkdir(parents=True)
    shutil.copy(CONFIGS / "csv.yaml", project / "configs")
    shutil.copy(CONFIGS / "data" / "regression.csv", project / "configs" / "data")
    export_pytorch(load_experiment(project / "configs" / "csv.yaml"), project / "train.py")
    text = (project / "train.py").read_text()
    assert "DATA_FILE = HERE / 'configs/data/regression.csv'\n" in text
    X, T = script_module(project.rename(tmp_path / "moved") / "train.py").training_data()
    data = load_experiment(CONFIGS / "csv.yaml").data
    assert np.array_equal(X, data.X) and np.array_equal(T, data.T)
    export_pytorch(load_experiment(CONFIGS / "csv.yaml"), tmp_path / "elsewhere.py")
    path = (CONFIGS / "data" / "regression.csv").resolve()
    assert f"DATA_FILE = Path({str(path)!r})\n" in (tmp_path / "elsewhere.py").read_text()


def test_a_checkpoint_continues_training_in_pytorch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """bp's trained weights, standardization and epoch count carry into the script."""
    saved = tmp_path / "iris-5.yaml"
    result = runner.invoke(
        app, ["train", str(CONFIGS / "iris.yaml"), "--epochs", "5", "--save", str(saved)]
    )
    assert result.exit_code == 0, result.output
    trains_as_bp(tmp_path, saved, ["training.epochs=5"], capsys)
    assert load_experiment(tmp_path / "trained.yaml").config.trained.epochs == 10


def test_checkpoint_loads_in_bp_and_bp_grads_agrees_with_autograd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overrides = ["training.epochs=20", "training.batch_size=40"]
    module = exported(tmp_path, CONFIGS / "iris.yaml", overrides)
    summary = torch_run(module, tmp_path, capsys)
    checkpoint = tmp_path / "trained.yaml"
    experiment = load_experiment(checkpoint)
    assert experiment.config.trained.epochs == 20
    assert experiment.config.trained.final_loss == summary["final_loss"]
    result = runner.invoke(app, ["grads", str(checkpoint), "--json"])
    assert result.exit_code == 0, result.output
    bp_grads = {row["name"]: row["grad"] for row in json.loads(result.stdout)["weights"]}
    # autograd on the same weights and the same (standardized training) rows
    network = module.Network()
    with torch.no_grad():
        for (kind, k), array in experiment.network.parameters():
            getattr(network, f"{kind}{k}").copy_(torch.from_numpy(array))
    X, T = (torch.from_numpy(a) for a in module.training_data())
    H, Y = network(X)
    (module.loss_sum(H, Y, T) / len(X)).backward()
    autograd = {}
    for (kind, k), array in experiment.network.parameters():
        grad = getattr(network, f"{kind}{k}").grad.numpy()
        for index in np.ndindex(array.shape):
            i, j = (0, index[0]) if kind == "b" else (index[0] + 1, index[1])
            autograd[f"w{k}_{i}_{j + 1}"] = float(grad[index])
    assert autograd.keys() == bp_grads.keys()
    for name, value in autograd.items():
        assert bp_grads[name] == pytest.approx(value, rel=1e-9, abs=1e-15), name


def test_a_script_named_after_a_module_it_imports_is_refused(tmp_path: Path) -> None:
    """csv.py would import itself for `import csv` (Python puts its folder first)."""
    out = tmp_path / "csv.py"
    result = runner.invoke(
        app, ["export", str(CONFIGS / "csv.yaml"), "--to", "pytorch", "-o", str(out)]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {out}: a script named csv.py hides Python's csv module from itself and "
        "from torch; choose another name, e.g. train_bp.py\n"
    )
    assert list(tmp_path.iterdir()) == []


# The two real processes (see background.py): started with the test session,
# they run beside the other tests; their tests, at the end of this module, wait.
PLAIN = ["training.epochs=3"]  # csv.yaml: a CSV file at a path relative to the config
TWO_PROCESSES = ["training.epochs=20", "training.optimizer=momentum"]  # iris, full batch


def plain_python(folder: Path) -> subprocess.Popen[str]:
    """`bp export` (the CLI) of csv.yaml, the script run with plain python from another folder."""
    sets = [a for s in PLAIN for a in ("--set", s)]
    out = folder / "t.py"
    result = runner.invoke(
        app, ["export", str(CONFIGS / "csv.yaml"), "--to", "pytorch", "-o", str(out), *sets]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stderr
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    return start([sys.executable, str(out)], elsewhere)


def two_processes(folder: Path) -> subprocess.Popen[str]:
    export_pytorch(load_experiment(CONFIGS / "iris.yaml", TWO_PROCESSES), folder / "t.py")
    torchrun = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    return start([sys.executable, *torchrun, "t.py", "--save", "two.yaml"], folder)


BACKGROUND = {
    "test_a_script_runs_with_plain_python_from_another_folder": plain_python,
    "test_torchrun_two_processes_give_the_one_process_losses": two_processes,
}


def test_every_optimizer_has_its_update_rule_written_out() -> None:
    from backprop_core.engine.optimizers import OPTIMIZERS
    from backprop_core.export.script_template import UPDATE_RULES

    assert UPDATE_RULES.keys() == OPTIMIZERS.keys()


def test_every_activation_and_loss_record_has_a_torch_form() -> None:
    from backprop_core.engine.activations import ACTIVATIONS
    from backprop_core.engine.losses import LOSSES

    assert all("{H}" in record.torch for record in ACTIVATIONS.values())
    assert all(record.torch_sum for record in LOSSES.values())
    # the batch sums of canonical pairs read H(K), as the engine's from_H does
    assert {n for n, r in LOSSES.items() if "H" in r.torch_sum} == {
        n for n, r in LOSSES.items() if r.from_H is not None
    }


def test_generated_scripts_are_lint_clean(tmp_path: Path) -> None:
    """Readable code: no unused import, no undefined name, lines within 100 columns."""
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed beside this interpreter")
    scripts = []
    for name, overrides in [
        ("tiny", []),
        ("iris", []),
        ("spiral", []),
        ("xor", ["training.optimizer=momentum"]),
        ("sine", ["training.optimizer=adam"]),
    ]:
        scripts.append(tmp_path / f"{name}.py")
        export_pytorch(load_experiment(CONFIGS / f"{name}.yaml", overrides), scripts[-1])
    args = ["check", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "100"]
    done = subprocess.run(
        [str(ruff), *args, "--target-version", "py310", *map(str, scripts)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout


def test_a_model_torch_onnx_exports_imports_into_bp(tmp_path: Path) -> None:
    """nn.Linear layers (Gemm with transB) as torch.onnx writes them: bp predicts the same."""
    pytest.importorskip("onnx", reason="the onnx extra is not installed")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2), torch.nn.Softmax(dim=1)
    ).double()
    path = tmp_path / "seq.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter
        torch.onnx.export(model, (torch.zeros(1, 3, dtype=torch.float64),), str(path), dynamo=False)
    result = runner.invoke(app, ["import", str(path), "-o", str(tmp_path / "seq.yaml")])
    assert result.exit_code == 0, result.output
    imported = load_model(load_config(tmp_path / "seq.yaml"))
    assert imported.network.loss == "cross_entropy"
    X = np.random.default_rng(0).normal(size=(10, 3))
    with torch.no_grad():
        expected = model(torch.from_numpy(X)).numpy()
    assert_allclose(predict(imported, X).Y, expected, rtol=1e-12, atol=1e-12)


def test_a_torch_onnx_model_with_a_layer_bp_lacks_is_refused_in_one_line(tmp_path: Path) -> None:
    pytest.importorskip("onnx", reason="the onnx extra is not installed")
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.GELU(), torch.nn.Linear(4, 1))
    path = tmp_path / "gelu.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter
        torch.onnx.export(model, (torch.zeros(1, 3),), str(path), dynamo=False)
    result = runner.invoke(app, ["import", str(path), "-o", str(tmp_path / "gelu.yaml")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}: node 2 Gelu (/1/Gelu) is not supported: bp imports Gemm or "
        "MatMul+Add layers, each followed by one of Mul, Sigmoid, Tanh, Relu, LeakyRelu, "
        "Softplus, Softmax or nothing\n"
    )
    assert not (tmp_path / "gelu.yaml").exists()


def test_a_script_runs_with_plain_python_from_another_folder(
    background_processes: Started, request: pytest.FixtureRequest
) -> None:
    folder, stdout = finished(background_processes, request)
    summary = json.loads(stdout)
    losses, _ = bp_losses(CONFIGS / "csv.yaml", PLAIN)
    assert_allclose(summary["losses"], losses, rtol=1e-9, atol=0)
    checkpoint = folder / "t.checkpoint.yaml"
    assert summary["checkpoint"] == str(checkpoint)
    assert load_experiment(checkpoint).config.trained.status == "completed"


def test_torchrun_two_processes_give_the_one_process_losses(
    background_processes: Started, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Full batch: each process takes half the rows; DDP averages the gradients."""
    try:
        folder, stdout = finished(background_processes, request)
    except AssertionError as first:
        # A gloo worker can abort as its process exits ("terminate called without
        # an active exception", seen when the run overlapped a fresh suite's start);
        # that alone earns one rerun on its own. A wrong script fails both times.
        if "terminate called" not in str(first):
            raise
        folder = tmp_path / "again"
        folder.mkdir()
        process = two_processes(folder)
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, f"{first}\n--- the rerun ---\n{stderr[:3000]}"
    summary = json.loads(stdout)  # one document: printed by rank 0 only
    losses, final = bp_losses(CONFIGS / "iris.yaml", TWO_PROCESSES)
    assert_allclose(summary["losses"], losses, rtol=1e-9, atol=0)
    assert summary["final_loss"] == pytest.approx(final, rel=1e-9)
    assert load_experiment(folder / "two.yaml").config.trained.epochs == 20
