"""`bp gradcheck` and `check_gradients`: backpropagation against central differences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from backprop_core.engine.activations import ACTIVATIONS
from backprop_core.engine.gradcheck import KINK_RTOL, RTOL, check_gradients
from backprop_core.engine.losses import LOSSES
from backprop_core.engine.naming import WeightNames
from backprop_core.engine.network import Network
from cli.app import app

runner = CliRunner()

ROW_KEYS = {
    "name",
    "alias",
    "value",
    "grad",
    "numeric_grad",
    "step",
    "new_value",
    "frozen",
    "abs_error",
    "rel_error",
    "tolerance",
    "ok",
    "kink",
}


def gradcheck_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["gradcheck", "--json", *args])
    return result.exit_code, json.loads(result.stdout)


def test_reference_example_matches_the_hand_derivation() -> None:
    code, doc = gradcheck_json()
    assert code == 0
    assert doc["ok"] is True
    assert [r["name"] for r in doc["weights"]] == ["w1_1_1", "w2_1_1", "w2_1_2", "w3_1_1", "w3_2_1"]
    assert [r["alias"] for r in doc["weights"]] == ["xh1", "hh1", "hh2", "hy1", "hy2"]
    # SPEC §2: dL/dxh1 = 40; the others by the same chain rule (T = 2, Y = 10, L = 32).
    grads = [r["grad"] for r in doc["weights"]]
    assert_allclose(grads, [40.0, 64.0, 128.0, 192.0, 64.0], rtol=0, atol=0)
    assert_allclose([r["numeric_grad"] for r in doc["weights"]], grads, rtol=1e-9)
    assert doc["loss"] == 32.0
    # rows as in `bp grads`: only xh1 is trained, 2 - 0.03 * 40 = 0.8
    assert [r["step"] for r in doc["weights"]] == [-1.2, 0.0, 0.0, 0.0, 0.0]
    assert doc["weights"][0]["new_value"] == 0.8
    assert doc["max_rel_error"] < 1e-9
    assert doc["max_abs_error"] == max(r["abs_error"] for r in doc["weights"])
    assert all(set(r) == ROW_KEYS for r in doc["weights"])
    assert {
        "ok",
        "max_abs_error",
        "max_rel_error",
        "eps",
        "rtol",
        "kink_rtol",
        "checked",
        "total",
        "failed",
        "weights",
    } <= set(doc)


def net_for(
    hidden: str, loss: str, rng: np.random.Generator
) -> tuple[Network, np.ndarray, np.ndarray, list]:
    """A 3-4-3-out network with biases: `hidden` on the hidden layers, the loss's output."""
    from backprop_core.engine.activations import Activation
    from backprop_core.engine.network import Layer

    output = LOSSES[loss].output or "linear"
    out_units = 1 if loss == "bce" else 3
    units = (3, 4, 3, out_units)
    layers = (
        Layer(4, Activation(hidden)),
        Layer(3, Activation(hidden)),
        Layer(out_units, Activation(output)),
    )
    # Small weights and inputs keep sigmoid/bce away from saturation (see the xfail below).
    W = {k: rng.normal(0, 0.5, (units[k - 1], units[k])) for k in (1, 2, 3)}
    b = {k: rng.normal(0, 0.3, units[k]) for k in (1, 2, 3)}
    net = Network(3, layers, loss, W, b)
    X = rng.normal(0, 1, (8, 3))
    if loss == "cross_entropy":
        T = np.eye(3)[rng.integers(0, 3, 8)]
    elif loss == "bce":
        T = rng.integers(0, 2, (8, 1)).astype(float)
    else:
        T = rng.normal(0, 1, (8, out_units))
    return net, X, T, list(WeightNames(units, (True, True, True)).all_ids())


HIDDEN = [name for name, a in ACTIVATIONS.items() if not a.output_only]


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_every_activation_and_loss_passes(hidden: str, loss: str) -> None:
    net, X, T, ids = net_for(hidden, loss, np.random.default_rng(7))
    report = check_gradients(net, X, T, ids)
    assert len(report.rows) == report.total == len(ids) == net.parameter_count()
    assert report.ok, [
        (r.weight.canonical, r.grad, r.numeric_grad, r.kink) for r in report.failures
    ]
    unkinked = [r.rel_error for r in report.rows if r.kink is None]
    assert max(unkinked) < 1e-7


def test_a_wrong_gradient_fails_and_names_the_weight(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Network.backward

    def off_by_a_bit(self: Network, trace, T):  # type: ignore[no-untyped-def]
        grads = original(self, trace, T)
        grads.dL_dW[2][0, 1] *= 1.00001  # hh2 off by 1e-5 relative: above RTOL
        return grads

    monkeypatch.setattr(Network, "backward", off_by_a_bit)
    result = runner.invoke(app, ["gradcheck", "--json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["failed"] == 1
    bad = [r for r in doc["weights"] if not r["ok"]]
    assert [r["alias"] for r in bad] == ["hh2"]
    assert_allclose(bad[0]["rel_error"], 1e-5, rtol=1e-3)
    assert result.stderr.startswith(
        "error: gradient check failed for 1 of 5 weights; worst w2_1_2: analytic 128.00128, "
        "numeric 128"
    )
    human = runner.invoke(app, ["gradcheck", "--failures"])
    assert human.exit_code == 1
    assert "w2_1_2" in human.stdout and "w1_1_1" not in human.stdout
    assert "FAIL" in human.stdout


RELU_AT_ZERO = """\
network:
  inputs: 1
  layers:
    - units: 2
      activation: relu
      weights: [[1.0, 1.0]]
      biases: [0.0, 0.5]
    - units: 1
      activation: linear
      weights: [[1.0], [2.0]]
data: {inputs: [[0.0], [1.0]], targets: [[3.0], [0.0]]}
"""


def test_kink_within_eps_is_named_and_gets_the_looser_tolerance(tmp_path: Path) -> None:
    path = tmp_path / "relu.yaml"
    path.write_text(RELU_AT_ZERO)
    code, doc = gradcheck_json(str(path))
    rows = {r["name"]: r for r in doc["weights"]}
    # H(1)_1 = 0 for sample 0 (x = 0): its bias weight straddles the kink; w1_1_1 does
    # not (it is multiplied by x = 0 there) and neither does anything into node 2.
    kinked = {name for name, r in rows.items() if r["kink"]}
    assert kinked == {"w1_0_1"}
    assert rows["w1_1_1"]["ok"] is True
    assert rows["w1_0_1"]["kink"] == "relu kink at H = 0: layer 1 node 1, sample 0"
    assert rows["w1_0_1"]["tolerance"] == KINK_RTOL
    assert rows["w1_0_2"]["tolerance"] == RTOL
    # Sample 1: H = (1, 1.5), Y = 4, dL/dY = 4; sample 0: Y = 1, dL/dY = -2.
    # relu'(0) = 0 analytically, so only sample 1 counts: (4 * 1) / 2 = 2; central
    # differences see half a slope at sample 0: 2 + 0.5 * (-2) / 2 = 1.5.
    assert_allclose(rows["w1_0_1"]["grad"], 2.0, rtol=1e-12)
    assert_allclose(rows["w1_0_1"]["numeric_grad"], 1.5, rtol=1e-6)
    assert rows["w1_0_1"]["ok"] is False  # 0.25 > 1e-4: at a kink the check cannot vouch
    assert code == 1
    human = runner.invoke(app, ["gradcheck", str(path)])
    assert "w1_0_1: relu kink at H = 0: layer 1 node 1, sample 0 (tolerance 0.0001)" in human.stdout


def test_max_weights_checks_a_seeded_sample(tmp_path: Path) -> None:
    # units 1-1-6-1 without biases: 1 + 6 + 6 = 13 weights
    args = [
        "--set",
        "network.layers[1].units=6",
        "--set",
        "network.layers[1].weights=null",
        "--set",
        "network.layers[2].weights=null",
        "--set",
        "training.freeze=[]",
    ]
    code, doc = gradcheck_json("--max-weights", "3", *args)
    assert code == 0
    assert doc["checked"] == 3 and doc["total"] == 13
    assert len(doc["weights"]) == 3
    again = gradcheck_json("--max-weights", "3", *args)[1]
    assert [r["name"] for r in again["weights"]] == [r["name"] for r in doc["weights"]]


def test_float32_configs_are_checked_in_float64() -> None:
    code, doc = gradcheck_json("--set", "training.precision=float32")
    assert code == 0
    assert doc["max_rel_error"] < 1e-9  # float32 arithmetic would give ~1e-3


def test_narrow_terminal_lists_each_weight_uncut() -> None:
    result = runner.invoke(app, ["gradcheck"], env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.output
    assert "w1_1_1 (xh1) ok" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 40
    assert "…" not in result.stdout


def test_config_error_exits_2() -> None:
    result = runner.invoke(app, ["gradcheck", "--json", "--set", "training.eta=-1"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: --set training.eta=-1: training.eta: expected a number > 0, got -1\n"
    )


def test_bce_on_a_saturated_sigmoid() -> None:
    # At H = 40, sigmoid(H) rounds to 1: the loss must come from H, not from Y.
    from backprop_core.engine.activations import Activation
    from backprop_core.engine.network import Layer

    net = Network(
        1, (Layer(1, Activation("sigmoid")),), "bce", {1: np.array([[40.0]])}, {1: np.array([0.0])}
    )
    ids = list(WeightNames((1, 1), (True,)).all_ids())
    assert check_gradients(net, np.array([[1.0]]), np.array([[0.0]]), ids).ok


def test_cross_entropy_on_a_saturated_softmax() -> None:
    from backprop_core.engine.activations import Activation
    from backprop_core.engine.network import Layer

    net = Network(
        1,
        (Layer(2, Activation("softmax")),),
        "cross_entropy",
        {1: np.array([[40.0, -40.0]])},
        {1: np.array([0.0, 0.0])},
    )
    ids = list(WeightNames((1, 2), (True,)).all_ids())
    # the wrong class is predicted with probability exp(-80): the loss is 80, not log(1e-300)
    assert check_gradients(net, np.array([[1.0]]), np.array([[0.0, 1.0]]), ids).ok
    trace = net.forward(np.array([[1.0]]))
    assert net.loss_of(trace, np.array([[0.0, 1.0]])) == pytest.approx(80.0, rel=1e-12)
