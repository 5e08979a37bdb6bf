"""Facts that used to be written twice and disagreed: one source each now (issue 11).

Each test here failed on the code before the fix: explain's loss from Y instead
of H, gradcheck rows without `frozen`, check counting a bias twice, check's own
batch-size clamp.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()

# sigmoid(40) rounds to 1: bce from Y clips log(1 - Y) at log(eps) = -36.74,
# while the loss from H (what training and gradcheck use) is softplus(40) = 40.
SATURATED = """\
name: saturated
network:
  inputs: 1
  layers:
    - units: 1
      activation: sigmoid
      bias: false
      weights: [[40.0]]
loss: bce
data:
  inputs: [[1.0]]
  targets: [[0.0]]
training:
  eta: 0.1
  epochs: 1
"""


def json_of(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"] if args[0] != "explain" else list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_command_reads_one_loss_on_a_saturated_sigmoid_bce(tmp_path: Path) -> None:
    path = tmp_path / "saturated.yaml"
    path.write_text(SATURATED)
    explained = json_of("explain", str(path), "--weight", "xy1", "--format", "json")
    grads = json_of("grads", str(path))
    checked = json_of("gradcheck", str(path))
    trained = json_of("train", str(path))
    losses = [explained["loss"], grads["loss"], checked["loss"], trained["losses"][0]]
    assert losses == [pytest.approx(40.0, rel=1e-15)] * 4
    forward = {s["symbol"]: s["value"] for s in explained["forward"]}
    assert forward["L"] == pytest.approx(40.0, rel=1e-15)
    # The finite difference explain prints is the slope of that same loss: dL/dw = Y - T = 1.
    assert explained["numeric_grad"] == pytest.approx(1.0, rel=1e-6)
    assert explained["grad"] == pytest.approx(1.0, rel=1e-15)


def test_gradcheck_rows_carry_frozen_as_grads_rows_do() -> None:
    grads = json_of("grads")
    checked = json_of("gradcheck")
    frozen = {r["name"]: r["frozen"] for r in grads["weights"]}
    assert {r["name"]: r["frozen"] for r in checked["weights"]} == frozen
    assert sorted(n for n, f in frozen.items() if f) == ["w2_1_1", "w2_1_2", "w3_1_1", "w3_2_1"]


def test_check_counts_frozen_weights_as_show_does(tmp_path: Path) -> None:
    # w1_0_1 is a bias named in freeze and frozen again by `biases`: one weight.
    path = tmp_path / "biased.yaml"
    path.write_text(SATURATED.replace("bias: false", "bias: true"))
    args = [str(path), "--set", "training.freeze=[biases, w1_0_1]"]
    shown = json_of("show", *args)
    checked = json_of("check", *args)
    assert [w["name"] for w in shown["weights"] if w["frozen"]] == ["w1_0_1"]
    assert checked["summary"]["frozen"] == 1


def test_check_and_train_clamp_the_batch_with_one_message() -> None:
    said = (
        "warning: batch_size 8 is larger than the 1 training rows; "
        "training will use the full batch\n"
    )
    for command in ("check", "train"):
        result = runner.invoke(app, [command, "--set", "training.batch_size=8"])
        assert result.exit_code == 0, result.output
        assert result.stderr == said, command


# --- one record per activation and per loss ---------------------------------------

# A test-only activation and loss, each registered in one call; nothing else in
# bp names them, yet config, schema, explain and gradcheck all know them.
REGISTER = """
import json, sys
from typer.testing import CliRunner
from backprop_core.engine.activations import ActivationRecord, register
from backprop_core.engine.losses import LossRecord, register as register_loss

register(ActivationRecord(
    "cube",
    lambda H, scale=1.0: scale * H**3,
    lambda H, scale=1.0: 3.0 * scale * H**2,
    derivative_formula="3 * {scale} * H^2",
    parameters={"scale": 1.0},
))
register_loss(LossRecord(
    "quartic",
    lambda Y, T: float(((Y - T) ** 4).sum() / Y.shape[0]),
    lambda Y, T: 4.0 * (Y - T) ** 3,
    formula="sum_j (Y_j - T_j)^4",
    write_derivative=lambda y, t, m: f"4 * ({y} - {t})^3",
))

from cli.app import app  # the config model reads the records when imported

runner, config = CliRunner(), sys.argv[1]
out = {
    "schema": json.loads(runner.invoke(app, ["schema"]).stdout),
    "explain": json.loads(
        runner.invoke(app, ["explain", config, "--weight", "xh1", "--format", "json"]).stdout
    ),
    "gradcheck": runner.invoke(app, ["gradcheck", config]).exit_code,
    "wrong": runner.invoke(app, ["check", "--set", "loss=nope"]).stderr,
    "param": runner.invoke(app, ["check", config, "--set", "loss=sse"]).exit_code,
}
print(json.dumps(out))
"""

CUBE = """\
network:
  inputs: 1
  layers:
    - units: 2
      activation: {name: cube, scale: 0.5}
      weights: [[0.5, -0.25]]
    - units: 1
      activation: linear
loss: quartic
data:
  inputs: [[1.0], [2.0]]
  targets: [[0.5], [-1.0]]
"""


def test_a_registered_activation_and_loss_reach_config_schema_and_explain(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    config = tmp_path / "cube.yaml"
    config.write_text(CUBE)
    script = tmp_path / "register.py"
    script.write_text(REGISTER)
    done = subprocess.run(
        [sys.executable, str(script), str(config)], capture_output=True, text=True, check=True
    )
    out = json.loads(done.stdout)
    spec = out["schema"]["$defs"]["ActivationSpec"]
    assert "cube" in spec["anyOf"][0]["enum"]
    assert "scale" in spec["anyOf"][1]["properties"]
    assert "quartic" in out["schema"]["properties"]["loss"]["enum"]
    assert out["wrong"] == (
        "error: --set loss=nope: loss: expected one of 'sse', 'mse', 'cross_entropy', "
        "'bce' or 'quartic', got 'nope'\n"
    )
    described = out["explain"]["description"]
    assert "layer 1: 2 nodes, phi_1 = cube(scale=0.5), phi_1'(H) = 3 * 0.5 * H^2, with bias" in (
        described
    )
    assert out["explain"]["dL_dy"][0]["formula"] == "4 * (Y - T)^3"
    assert out["explain"]["grad"] == pytest.approx(out["explain"]["numeric_grad"], rel=1e-7)
    assert out["gradcheck"] == 0
    assert out["param"] == 0


def test_weight_ids_map_to_arrays_in_one_place() -> None:
    from backprop_core.engine.naming import WeightId
    from backprop_core.run.experiment import load_experiment

    e = load_experiment(Path(__file__).parent.parent / "configs" / "xor.yaml")
    net, grads = e.network, e.network.loss_and_gradients(e.data.X, e.data.T)[1]
    arrays = dict(net.parameters())
    seen = set()
    for w in e.names.all_ids():
        assert WeightId.at(w.key, w.index) == w
        array, index = net.locate(w)
        assert array is arrays[w.key] and net.weight(w) == float(array[index])
        assert grads.of(w) == float(dict(grads.items())[w.key][index])
        seen.add((w.key, index))
    assert len(seen) == net.parameter_count()


def test_config_choices_are_the_registries() -> None:
    from typing import get_args

    from backprop_core.config.model import GeneratorName, InitName, OptimizerName
    from backprop_core.engine.generators import GENERATORS
    from backprop_core.engine.init_schemes import INIT_SCHEMES
    from backprop_core.engine.optimizers import OPTIMIZERS

    assert get_args(OptimizerName) == tuple(OPTIMIZERS) == ("sgd", "momentum", "adam")
    assert get_args(InitName) == tuple(INIT_SCHEMES)
    assert get_args(GeneratorName) == tuple(GENERATORS)
    result = runner.invoke(
        app, ["check", "--set", "training.optimizer={name: adam, momentum: 0.5}"]
    )
    assert result.exit_code == 2
    assert result.stderr.endswith("optimizer adam takes beta1, beta2, epsilon, not momentum\n")


# --- JSON documents: one module builds them, docs/json-output.md lists them --------------

REPO = Path(__file__).resolve().parent.parent


def test_every_json_document_is_built_in_json_documents() -> None:
    import ast

    calls = 0
    for path in sorted((REPO / "cli").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = getattr(node, "func", None)
            if getattr(func, "attr", getattr(func, "id", None)) != "emit_json":
                continue
            calls += 1
            (argument,) = node.args  # type: ignore[attr-defined]
            built_by = getattr(getattr(argument, "func", None), "value", None)
            assert getattr(built_by, "id", None) == "json_documents", f"{path}:{node.lineno}"  # type: ignore[attr-defined]
    assert calls == 7  # train, grads, show, check, gradcheck, predict, explain


def test_one_did_you_mean() -> None:
    from backprop_core.errors import close_matches, did_you_mean

    assert did_you_mean("sigmod", ["sigmoid", "tanh"]) == " (did you mean 'sigmoid'?)"
    assert did_you_mean("zzz", ["sigmoid", "tanh"]) == ""
    assert sorted(close_matches("xh", ["xh1", "xh2", "hy1"], n=2, cutoff=0.5)) == ["xh1", "xh2"]
    users = [
        p.relative_to(REPO).as_posix()
        for folder in ("backprop_core", "cli")
        for p in (REPO / folder).rglob("*.py")
        if "difflib" in p.read_text(encoding="utf-8")
    ]
    assert users == ["backprop_core/errors.py"]
