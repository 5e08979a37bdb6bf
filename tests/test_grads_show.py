"""`bp grads` and `bp show` on the reference example, the unfrozen one and a general net.

Reference gradients by hand from the derivation's deltas (SPEC §2):
dL/dxh1 = delta(1) * x1 = 20 * 2 = 40, dL/dhh1 = delta_1(2) * A1 = 8 * 8 = 64,
dL/dhh2 = delta_2(2) * A1 = 16 * 8 = 128, dL/dhy1 = delta(3) * A21 = 16 * 12 = 192,
dL/dhy2 = delta(3) * A22 = 16 * 4 = 64.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from backprop_core.run.experiment import load_experiment
from backprop_core.run.inspection import gradient_rows, network_summary
from cli.app import app
from cli.render.tables import grads_table, show_tables

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent
PLAIN = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
HAND = {"w1_1_1": 40.0, "w2_1_1": 64.0, "w2_1_2": 128.0, "w3_1_1": 192.0, "w3_2_1": 64.0}
VALUES = {"w1_1_1": 2.0, "w2_1_1": 0.75, "w2_1_2": 0.25, "w3_1_1": 0.25, "w3_2_1": 0.5}

GENERAL = """\
network:
  inputs: 2
  layers:
    - {units: 2, activation: sigmoid, weights: [[0.1, 0.2], [0.3, 0.4]], biases: [0.5, -0.5]}
    - {units: 2, activation: tanh, weights: [[0.6, -0.7], [0.8, 0.9]], biases: [0.1, 0.2]}
    - {units: 1, activation: linear, weights: [[1.0], [-1.0]], biases: [0.3]}
loss: sse
data:
  inputs: [[1.0, 2.0], [0.5, -1.0], [0.0, 1.0]]
  targets: [[1.0], [0.0], [0.5]]
training: {eta: 0.1, freeze: [biases]}
"""


def run(*args: str):
    return runner.invoke(app, list(args), env=PLAIN)


def test_grads_json_reference_example() -> None:
    result = run("grads", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["loss"] == 32 and doc["eta"] == 0.03
    rows = {r["name"]: r for r in doc["weights"]}
    assert list(rows) == list(HAND)
    assert {n: r["grad"] for n, r in rows.items()} == HAND
    assert {n: r["value"] for n, r in rows.items()} == VALUES
    assert [r["alias"] for r in doc["weights"]] == ["xh1", "hh1", "hh2", "hy1", "hy2"]
    for name, r in rows.items():
        np.testing.assert_allclose(r["numeric_grad"], HAND[name], rtol=1e-6)
    # Only xh1 is trained in tiny.yaml: the frozen ones show their true gradient, step 0.
    assert rows["w1_1_1"]["step"] == pytest.approx(-1.2, abs=1e-15)
    assert rows["w1_1_1"]["new_value"] == pytest.approx(0.8, abs=1e-15)
    for name in list(HAND)[1:]:
        assert (rows[name]["step"], rows[name]["new_value"], rows[name]["frozen"]) == (
            0.0,
            VALUES[name],
            True,
        )


def test_grads_nothing_frozen_steps_every_weight() -> None:
    doc = json.loads(run("grads", str(REPO / "configs" / "tiny-all.yaml"), "--json").stdout)
    for r in doc["weights"]:
        assert r["frozen"] is False
        assert r["step"] == pytest.approx(-0.03 * HAND[r["name"]], rel=1e-12)
        assert r["new_value"] == pytest.approx(VALUES[r["name"]] - 0.03 * HAND[r["name"]])


def test_grads_set_and_weight_filter_in_any_name_form() -> None:
    result = run(
        "grads", "--set", "training.eta=0.1", "-w", "hh_1_2", "-w", "xh1", "-w", "w1_1_1", "--json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [(r["name"], r["alias"]) for r in doc["weights"]] == [
        ("w2_1_2", "hh2"),
        ("w1_1_1", "xh1"),
    ]
    assert doc["weights"][1]["step"] == pytest.approx(-4.0, abs=1e-12)


def test_grads_general_network_numeric_matches_and_frozen_biases(tmp_path: Path) -> None:
    path = tmp_path / "general.yaml"
    path.write_text(GENERAL)
    doc = json.loads(run("grads", str(path), "--json").stdout)
    assert len(doc["weights"]) == 15
    for r in doc["weights"]:
        np.testing.assert_allclose(
            r["grad"], r["numeric_grad"], rtol=1e-6, atol=1e-9, err_msg=r["name"]
        )
        bias = r["name"].split("_")[1] == "0"
        assert r["frozen"] is bias
        assert r["step"] == (0.0 if bias else pytest.approx(-0.1 * r["grad"], rel=1e-12))


def test_grads_table_text() -> None:
    result = run("grads")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "one gradient-descent step, eta = 0.03, loss = 32" in out
    lines = [line.split() for line in out.splitlines()]
    row = next(cells for cells in lines if "w1_1_1" in cells)
    assert row == [
        "│",
        "w1_1_1",
        "│",
        "xh1",
        "│",
        "2",
        "│",
        "40",
        "│",
        "40",
        "│",
        "-1.2",
        "│",
        "0.8",
        "│",
    ]
    row = next(cells for cells in lines if "w3_1_1" in cells)
    assert "192" in row and "(frozen)" in row


def test_rendered_into_a_plain_console() -> None:
    # STYLE.md: renderers are tested by printing into a plain Console of fixed width.
    experiment = load_experiment(None, [])
    console = Console(file=StringIO(), width=100, color_system=None)
    for item in grads_table(gradient_rows(experiment)) + show_tables(network_summary(experiment)):
        console.print(item)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "hy2" in text and "linear(slope=2)" in text and "\x1b" not in text


def test_show_json_reference_example() -> None:
    result = run("show", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["name"] == "tiny" and doc["loss"] == "sse"
    assert doc["parameter_count"] == 5 and doc["samples"] == 1
    assert [
        (d["layer"], d["role"], d["units"], d["activation"], d["parameters"]) for d in doc["layers"]
    ] == [
        (0, "input", 1, None, 0),
        (1, "hidden", 1, "linear(slope=2)", 1),
        (2, "hidden", 2, "linear(slope=2)", 2),
        (3, "output", 1, "linear(slope=2)", 2),
    ]
    assert [(w["name"], w["alias"], w["value"]) for w in doc["weights"]] == [
        ("w1_1_1", "xh1", 2.0),
        ("w2_1_1", "hh1", 0.75),
        ("w2_1_2", "hh2", 0.25),
        ("w3_1_1", "hy1", 0.25),
        ("w3_2_1", "hy2", 0.5),
    ]


def test_show_text_lists_layers_and_weights() -> None:
    result = run("show")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "network tiny: loss sse, 5 parameters, 1 training sample" in out
    for name, alias in (("w1_1_1", "xh1"), ("w2_1_2", "hh2"), ("w3_2_1", "hy2")):
        assert any(name in line and alias in line for line in out.splitlines())


def test_show_general_network_counts_biases(tmp_path: Path) -> None:
    path = tmp_path / "general.yaml"
    path.write_text(GENERAL)
    doc = json.loads(run("show", str(path), "--json").stdout)
    assert doc["parameter_count"] == 6 + 6 + 3
    assert [d["parameters"] for d in doc["layers"]] == [0, 6, 6, 3]
    assert doc["weights"][0] == {"name": "w1_0_1", "alias": "xh01", "value": 0.5, "frozen": True}


@pytest.mark.parametrize("command", ["grads", "show"])
def test_unknown_weight_exits_2_with_closest_names(command: str) -> None:
    result = run(command, "-w", "hy3")
    assert result.exit_code == 2, result.output
    assert result.stderr == "error: unknown weight name 'hy3' (closest: hy2, hy1)\n"
    assert result.stdout == ""


@pytest.mark.parametrize("config", sorted(p.name for p in (REPO / "configs").glob("*.yaml")))
@pytest.mark.parametrize("command", ["grads", "show"])
def test_every_shipped_config(command: str, config: str) -> None:
    result = run(command, str(REPO / "configs" / config), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    experiment = load_experiment(REPO / "configs" / config, [])
    assert len(doc["weights"]) == experiment.network.parameter_count()
