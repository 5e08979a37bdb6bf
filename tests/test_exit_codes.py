"""SPEC §6 exit codes for every command: 0 success, 1 failed what was asked, 2 usage/config/data
error, 130 interrupted (after saving what is safe to save)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from installed import installed_bp
from typer.testing import CliRunner

from backprop_core.engine.network import Network
from cli.app import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
TINY = str(ROOT / "configs" / "tiny.yaml")
TINY_ALL = str(ROOT / "configs" / "tiny-all.yaml")

SUCCESS = [
    ["train"],
    ["train", TINY, "--fail-above", "32"],
    ["explain", "--weight", "xh1"],
    ["grads"],
    ["show"],
    ["check"],
    ["gradcheck"],
    ["predict", TINY, "--input", "2"],
    ["schema"],
]
USAGE = [
    ["train", "--set", "training.epochs=0"],
    ["train", "--epochs", "0"],
    ["train", "missing.yaml"],
    ["explain", "--weight", "zz9"],
    ["grads", "--set", "loss=l2"],
    ["show", "--set", "network.inputs=-1"],
    ["check", "missing.yaml"],
    ["gradcheck", "--set", "training.eta=0"],
    ["predict", TINY, "--input", "1,2,3"],
    ["init", "no-such-template"],
    ["schema", "--output", "/no/such/folder/s.json"],
    ["no-such-command"],
    ["train", "--no-such-option"],
]


@pytest.mark.parametrize("args", SUCCESS, ids=" ".join)
def test_exit_0(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


def test_init_exit_0(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "tiny", str(tmp_path / "new.yaml")])
    assert result.exit_code == 0, result.output
    again = runner.invoke(app, ["init", "tiny", str(tmp_path / "new.yaml")])
    assert again.exit_code == 2, again.output  # never overwrites without --force


@pytest.mark.parametrize("args", USAGE, ids=" ".join)
def test_exit_2(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.strip() != ""


def test_exit_1_train_diverges() -> None:
    result = runner.invoke(app, ["train", TINY_ALL])
    assert result.exit_code == 1, result.output
    assert "training diverged at epoch" in result.stderr


def test_exit_1_train_fail_above() -> None:
    # The reference run ends at L = 2.9e-11 after 10 epochs (each step divides L by 16).
    result = runner.invoke(app, ["train", "--fail-above", "1e-12", "--quiet"])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: final loss ")
    assert result.stderr == "error: final loss 2.91038e-11 is above --fail-above 1e-12\n"


def test_exit_1_gradcheck_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Network.backward

    def wrong(self: Network, trace, T, *rest):  # type: ignore[no-untyped-def]
        grads = original(self, trace, T, *rest)
        grads.dL_dW[1] = grads.dL_dW[1] * 2.0
        return grads

    monkeypatch.setattr(Network, "backward", wrong)
    result = runner.invoke(app, ["gradcheck"])
    assert result.exit_code == 1, result.output
    assert "gradient check failed for 1 of 5 weights; worst w1_1_1" in result.stderr


# Ctrl-C in any command: the wrapper prints one line and exits 130. The core
# function each command calls first is made to raise KeyboardInterrupt.
INTERRUPTIBLE = [
    (["train"], "backprop_core.run.experiment.load_experiment"),
    (["explain", "--weight", "xh1"], "backprop_core.run.experiment.load_experiment"),
    (["grads"], "backprop_core.run.experiment.load_experiment"),
    (["show"], "backprop_core.run.experiment.load_experiment"),
    (["check"], "backprop_core.config.load.schema_problems"),
    (["gradcheck"], "backprop_core.engine.gradcheck.check_gradients"),
    (["predict", TINY, "--input", "2"], "backprop_core.config.load.load_config"),
    (["init", "tiny", "x.yaml"], "backprop_core.config.templates.resolve"),
    (["schema"], "backprop_core.config.schema.config_schema"),
]


@pytest.mark.parametrize(("args", "target"), INTERRUPTIBLE, ids=[a[0] for a, _ in INTERRUPTIBLE])
def test_exit_130_on_ctrl_c(
    args: list[str], target: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)

    def interrupt(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(target, interrupt)
    result = runner.invoke(app, args)
    assert result.exit_code == 130, result.output
    assert result.stderr.startswith("error: interrupted")
    assert "Traceback" not in result.output


def test_exit_130_on_ctrl_c_while_a_class_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    # Python 3.11 turns a Ctrl-C that lands in a descriptor's __set_name__ (while a
    # module being imported makes its classes: rich's console) into a RuntimeError.
    class Interrupting:
        def __set_name__(self, owner: type, name: str) -> None:
            raise KeyboardInterrupt

    def import_rich(*_: object, **__: object) -> None:
        type("Console", (), {"buffer": Interrupting()})

    monkeypatch.setattr("backprop_core.run.experiment.load_experiment", import_rich)
    result = runner.invoke(app, ["train"])
    assert (result.exit_code, result.stderr) == (130, "error: interrupted\n"), result.output


LONG_RUN = """\
name: long
seed: 1
network:
  inputs: 2
  layers:
    - {units: 64, activation: tanh}
    - {units: 64, activation: tanh}
    - {units: 3, activation: softmax}
loss: cross_entropy
data:
  generate: {name: spiral, samples: 600, noise: 0.2, classes: 3}
training:
  eta: 0.05
  epochs: 1000000
"""


def bp_command() -> list[str]:
    installed = installed_bp()
    return [installed] if installed else [sys.executable, "-m", "cli"]


@pytest.mark.parametrize(
    ("signum", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_during_train_exits_and_saves_a_complete_checkpoint(
    tmp_path: Path, signum: int, code: int, word: str
) -> None:
    """Ctrl-C exits 130; SIGTERM (a cancelled CI job, `timeout`) is handled the same, exit 143."""
    from backprop_core.config.load import load_config
    from backprop_core.run.experiment import load_experiment

    config = tmp_path / "long.yaml"
    config.write_text(LONG_RUN)
    saved = tmp_path / "trained.yaml"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}
    proc = subprocess.Popen(
        [*bp_command(), "train", str(config), "--save", str(saved), "--every", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
        # A test runner started in the background may ignore SIGINT; bp must not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    progress: list[str] = []
    seen = threading.Event()

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            progress.append(line)
            if line.startswith("epoch "):
                seen.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        # Non-interactive progress: one line per logged epoch after the first second.
        assert seen.wait(timeout=60), "".join(progress)
        proc.send_signal(signum)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    assert proc.returncode == code, "".join(progress)
    assert proc.stdout is not None and proc.stdout.read() == ""
    last = [line for line in progress if line.startswith("error: ")]
    assert len(last) == 1 and last[0].startswith(f"error: {word} after "), progress
    completed = int(last[0].split()[3])
    printed = [int(line.split()[1].split("/")[0]) for line in progress if line.startswith("epoch ")]
    assert completed >= max(printed)
    # An epoch had completed (one was printed), so its weights were saved, and no
    # temporary file is left beside them.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.yaml", "trained.yaml"]
    loaded = load_config(saved)
    trained = loaded.config.trained
    assert trained is not None
    assert trained.status == "interrupted"
    assert trained.epochs == completed
    experiment = load_experiment(saved)  # a complete, valid checkpoint
    for _, p in experiment.network.parameters():
        assert p.size > 0 and bool((abs(p) < 1e6).all())
