"""`bp train` through the real entry point: Typer's CliRunner and a subprocess."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from installed import installed_bp
from typer.testing import CliRunner

from backprop_core.run.experiment import load_experiment
from cli.app import app

runner = CliRunner()


def run(*args: str) -> object:
    return runner.invoke(app, list(args), env={"COLUMNS": "100", "NO_COLOR": "1"})


def test_builtin_example_prints_the_table_and_summary() -> None:
    result = run("train")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = [line.split("│")[1:3] for line in lines if line.startswith("│")]
    losses = [cells[1].strip() for cells in rows[:10]]
    assert losses == [
        "32",
        "2",
        "0.125",
        "0.0078125",
        "0.00048828125",
        "3.0517578e-05",
        "1.9073486e-06",
        "1.1920929e-07",
        "7.4505806e-09",
        "4.6566129e-10",
    ]
    assert "tiny: completed after 10/10 epochs" in result.stdout
    assert "final loss 2.910383e-11" in result.stdout
    assert result.stderr == ""


def test_json_reports_losses_status_and_weights() -> None:
    result = run("train", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["status"] == "completed"
    assert doc["epochs_run"] == 10
    assert doc["losses"] == [32 / 16**i for i in range(10)]
    assert doc["final_loss"] == 32 / 16**10
    assert doc["weights"]["w2_1_1"] == 0.75
    assert doc["weights"]["w1_1_1"] == pytest.approx(0.4, abs=1e-5)
    assert set(doc) == {
        "name",
        "status",
        "epochs_run",
        "threads",
        "engine",
        "losses",
        "final_loss",
        "weights",
    }


def test_one_epoch_moves_xh1_to_0_8() -> None:
    doc = json.loads(run("train", "--epochs", "1", "--json").stdout)
    assert doc["losses"] == [32.0]
    assert doc["weights"]["w1_1_1"] == 0.8
    assert doc["final_loss"] == 2.0  # Y = 4, error 2: 1/2 * 2^2


def test_tiny_all_diverges_with_one_clear_message_and_exit_1(tiny_all_path: Path) -> None:
    result = run("train", str(tiny_all_path))
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: training diverged at epoch 5: the loss is inf;")
    assert "largest gradients in the last update: xh1 (w1_1_1) 1.6e+69" in result.stderr
    assert "try a smaller eta, e.g. --eta 0.003" in result.stderr
    assert "Traceback" not in result.output


def test_tiny_all_json_says_diverged(tiny_all_path: Path) -> None:
    result = run("train", str(tiny_all_path), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["status"] == "diverged"
    assert doc["epochs_run"] == 5
    assert doc["losses"][:2] == [32.0, 10624.388142079995]
    assert doc["losses"][-1] is None  # inf is not JSON
    assert doc["diverged_epoch"] == 5


def test_a_smaller_eta_makes_tiny_all_converge(tiny_all_path: Path) -> None:
    result = run("train", str(tiny_all_path), "--eta", "0.003", "--epochs", "50", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["final_loss"] < 1e-3


def test_set_overrides_and_their_errors() -> None:
    doc = json.loads(run("train", "--set", "training.eta=0.01", "--epochs", "1", "--json").stdout)
    assert doc["weights"]["w1_1_1"] == pytest.approx(2 - 0.01 * 40, rel=1e-15)
    bad = run("train", "--set", "training.eta=-1")
    assert bad.exit_code == 2
    assert bad.stderr == (
        "error: --set training.eta=-1: training.eta: expected a number > 0, got -1\n"
    )


def test_grads_table_shows_gradient_step_and_new_value() -> None:
    result = run("train", "--epochs", "1", "--grads")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "w1_1_1" in line and "40" in line)
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert cells == ["w1_1_1", "xh1", "2", "40", "-1.2", "0.8"]
    frozen = next(line for line in result.stdout.splitlines() if "w2_1_1" in line and "hh1" in line)
    # a frozen weight shows its true gradient and a step of 0
    assert [c.strip() for c in frozen.split("│")[1:-1]] == [
        "w2_1_1",
        "hh1",
        "0.75",
        "64",
        "0 (frozen)",
        "0.75",
    ]


def test_every_chooses_the_logged_epochs() -> None:
    result = run("train", "--every", "4")
    epochs = [
        line.split("│")[1].strip() for line in result.stdout.splitlines() if line.startswith("│")
    ][:4]
    assert epochs == ["1", "4", "8", "10"]


def test_fail_above_and_quiet() -> None:
    ok = run("train", "--quiet", "--fail-above", "1e-9")
    assert (ok.exit_code, ok.stdout, ok.stderr) == (0, "", "")
    failed = run("train", "--quiet", "--fail-above", "1e-12")
    assert failed.exit_code == 1
    assert failed.stderr == "error: final loss 2.91038e-11 is above --fail-above 1e-12\n"


def test_save_writes_a_config_that_loads_with_the_trained_weights(tmp_path: Path) -> None:
    target = tmp_path / "trained.yaml"
    result = run("train", "--save", str(target), "--quiet")
    assert result.exit_code == 0, result.output
    e = load_experiment(target)
    assert e.network.W[1][0, 0] == pytest.approx(0.4, abs=1e-5)
    assert e.config.trained.epochs == 10
    # training again continues from the saved weights
    doc = json.loads(run("train", str(target), "--epochs", "1", "--json").stdout)
    assert doc["losses"][0] == pytest.approx(32 / 16**10, rel=1e-9)


def test_divergence_saves_the_last_weights_whose_loss_was_finite(
    tiny_all_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "out.yaml"
    result = run("train", str(tiny_all_path), "--save", str(target), "--quiet")
    assert result.exit_code == 1
    e = load_experiment(target)
    # Epoch 5's pass gave inf on the weights after epoch 4; epoch 4's pass gave
    # 5.595e81 on the weights after epoch 3: those are saved, with that loss.
    assert e.config.trained.status == "diverged"
    assert e.config.trained.epochs == 3
    assert e.config.trained.final_loss == pytest.approx(5.5953193e81, rel=1e-7)
    loss = e.network.loss_of(e.network.forward(e.data.X), e.data.T)
    assert loss == pytest.approx(5.5953193e81, rel=1e-7)


def test_two_runs_with_one_seed_print_identical_json(tmp_path: Path) -> None:
    path = tmp_path / "random.yaml"
    path.write_text("""
seed: 3
network:
  inputs: 2
  layers: [{units: 4, activation: tanh}, {units: 1, activation: sigmoid}]
loss: bce
data:
  inputs: [[0, 0], [0, 1], [1, 0], [1, 1], [0.2, 0.8], [0.9, 0.1]]
  targets: [0, 1, 1, 0, 1, 1]
training: {eta: 0.5, epochs: 40, batch_size: 2, optimizer: adam}
""")
    first = run("train", str(path), "--json").stdout
    second = run("train", str(path), "--json").stdout
    assert first == second
    assert json.loads(first)["metrics"]["accuracy"][0] is not None
    third = run("train", str(path), "--json", "--seed", "4").stdout
    assert third != first


def test_missing_config_is_a_usage_error() -> None:
    result = run("train", "nope.yaml")
    assert result.exit_code == 2
    assert result.stderr == "error: nope.yaml: no such file\n"


def test_installed_bp_runs_as_a_real_process() -> None:
    exe = installed_bp()
    assert exe is not None, "bp is not installed for this interpreter"
    proc = subprocess.run(
        [exe, "train", "--json"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["losses"][:3] == [32, 2, 0.125]
    piped = subprocess.run([exe, "train"], capture_output=True, text=True, timeout=60, check=False)
    assert "\x1b[" not in piped.stdout  # no control codes when piped


def test_plot_writes_the_loss_curve_and_the_summary_has_a_sparkline(tmp_path: Path) -> None:
    pytest.importorskip(
        "matplotlib", reason="matplotlib is not installed: pip install 'backprop-explained[plot]'"
    )
    path = tmp_path / "loss.svg"
    result = run("train", "--plot", str(path))
    assert result.exit_code == 0, result.output
    assert b"loss per epoch" in path.read_bytes()
    assert "loss █▇▆▆▅▄▃▃▂▁  (log scale, epoch 1 to 10)" in result.stdout


def test_plot_with_a_bad_extension_fails_before_training(tmp_path: Path) -> None:
    path = tmp_path / "loss.jpg"
    result = run("train", "--plot", str(path))
    assert result.exit_code == 2, result.output
    expected = f"error: {path}: expected a file name ending in .png or .svg, got '.jpg'\n"
    assert result.stderr == expected
    assert result.stdout == ""  # no epoch was run


def test_divergence_before_any_update_blames_the_inputs_not_eta(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(
        "network:\n  inputs: 1\n  layers: [{units: 1, activation: linear, weights: [[1e300]]}]\n"
        "data: {inputs: [1e300], targets: [1]}\n"
    )
    result = run("train", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: training diverged at epoch 1: the loss is inf before any update; the inputs "
        "or the initial weights are too large (try data.standardize: true, or smaller weights)\n"
    )


def test_save_and_fail_above_are_checked_before_training(tmp_path: Path) -> None:
    result = run("train", "--save", str(tmp_path / "missing" / "out.yaml"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.endswith("out.yaml: cannot write: the folder does not exist\n")
    result = run("train", "--fail-above", "nan")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "error: --fail-above: expected a finite loss, got nan\n"


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        (
            "training..eta=1",
            "error: --set training..eta=1: empty key in key path 'training..eta'\n",
        ),
        (
            "foo.bar=1",
            "error: --set foo.bar=1: foo: unknown key 'foo'; expected one of name, seed, "
            "network, loss, data, training, trained\n",
        ),
    ],
)
def test_set_errors_name_the_option(assignment: str, expected: str) -> None:
    result = run("train", "--set", assignment)
    assert (result.exit_code, result.stderr) == (2, expected)


def test_a_network_too_large_for_memory_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(
        "network:\n  inputs: 1\n  layers: [{units: 1000000000000}, {units: 1}]\n"
        "data: {inputs: [1], targets: [1]}\n"
    )
    result = run("check", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:3: network.layers[0].units: the network would have more than "
        "100,000,000 weights; bp trains small networks\n"
    )


def test_threads_is_set_by_config_or_option_and_stated_in_the_summary() -> None:
    # The reference example's products are far too small to split: one thread
    # (tests/test_threads.py has the default of a larger network).
    result = runner.invoke(app, ["train", "--epochs", "2", "--json"])
    assert json.loads(result.stdout)["threads"] == 1
    result = runner.invoke(app, ["train", "--epochs", "2", "--set", "training.threads=3", "--json"])
    assert json.loads(result.stdout)["threads"] == 3
    result = runner.invoke(app, ["train", "--epochs", "2", "--threads", "1"])
    assert "tiny: completed after 2/2 epochs in " in result.stdout
    assert " s (1 BLAS thread)" in result.stdout
    result = runner.invoke(app, ["train", "--threads", "0"])
    assert result.exit_code == 2


def test_a_long_run_keeps_one_float_per_epoch_not_a_record() -> None:
    import gc

    from backprop_core.run.experiment import load_experiment
    from backprop_core.run.training import EpochRecord, Trainer

    def records() -> int:
        gc.collect()
        return sum(type(o) is EpochRecord for o in gc.get_objects())

    before = records()
    trainer = Trainer(load_experiment(None, ["training.epochs=3000"]))
    for _ in trainer.epochs():
        pass
    result = trainer.result
    assert result.epochs_run == 3000 and list(result.curves.columns) == ["loss"]
    assert result.losses[:3] == [32.0, 2.0, 0.125]
    assert records() - before == 1  # the last epoch's
    assert [r.loss for r in result.history[:2]] == [32.0, 2.0]  # records built when asked


def test_the_summary_and_json_say_which_engine_trained() -> None:
    def engine_of(*args: str) -> str:
        result = runner.invoke(app, ["train", *args, "--json"])
        assert result.exit_code == 0, result.output
        return str(json.loads(result.stdout)["engine"])

    # xor: 9 weights, 500 full-batch epochs: `auto` takes the scalar path.
    assert engine_of("configs/xor.yaml") == "scalar"
    assert engine_of("configs/xor.yaml", "--set", "training.engine=vector") == "vector"
    assert engine_of() == "vector"  # the reference example: 10 updates, too few to pay
    shown = run("train", "configs/xor.yaml").stdout
    assert "xor: completed after 500/500 epochs in " in shown and " s (scalar path)\n" in shown
    shown = run("train", "configs/xor.yaml", "--set", "training.engine=vector").stdout
    assert " s (1 BLAS thread)\n" in shown
