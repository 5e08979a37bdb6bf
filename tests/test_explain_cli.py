"""`bp explain` options beyond one weight: repeated -w, --all, --notation, --epoch, --jacobian."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()
HANDOUTS = Path(__file__).resolve().parent / "data" / "handouts"
PLAIN = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str):
    return runner.invoke(app, list(args), env=PLAIN)


def test_repeated_weight_explains_each_one_then_a_summary() -> None:
    result = run("explain", "-w", "xh1", "-w", "hh1")
    assert result.exit_code == 0, result.output
    out = result.stdout
    first = out.index("dL/dxh1 (w1_1_1): backpropagation step by step")
    second = out.index("dL/dhh1 (w2_1_1): backpropagation step by step")
    assert first < second < out.index("Summary")
    assert "│ xh1    │ w1_1_1 │     2 │    40 │       0.8 │" in out
    assert "│ hh1    │ w2_1_1 │  0.75 │    64 │     -1.17 │" in out


def test_json_is_an_object_for_one_weight_and_a_list_for_several() -> None:
    one = json.loads(run("explain", "-w", "xh1", "--json").stdout)
    assert isinstance(one, dict) and one["grad"] == 40
    two = json.loads(run("explain", "-w", "xh1", "-w", "hy2", "--json").stdout)
    assert [d["weight"] for d in two] == ["w1_1_1", "w3_2_1"]
    assert two[0] == one | {"numeric_grad": two[0]["numeric_grad"]}
    every = json.loads(run("explain", "--all", "--json").stdout)
    assert [d["alias"] for d in every] == ["xh1", "hh1", "hh2", "hy1", "hy2"]
    assert [d["grad"] for d in every] == [40, 64, 128, 192, 64]


def test_all_refuses_past_50_weights_and_choices_must_be_one() -> None:
    result = run("explain", str(HANDOUTS / "wide.yaml"), "--all")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --all explains at most 50 weights; this network has 87: "
        "name the ones you want with --weight\n"
    )
    result = run("explain")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: name a weight with --weight NAME (repeatable), or use --all; this network's "
        "weights: xh1 (w1_1_1), hh1 (w2_1_1), hh2 (w2_1_2), hy1 (w3_1_1), hy2 (w3_2_1)\n",
    )
    result = run("explain", "--all", "-w", "xh1")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --all and --weight both choose weights; use one\n",
    )
    result = run("explain", "--all", "--format", "latex", "--fragment")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --fragment takes one weight: it is a single align* block\n",
    )


def test_standard_notation_writes_partials_and_one_letter_for_the_output() -> None:
    out = run("explain", "-w", "xh1", "--notation", "standard").stdout
    assert "∂L/∂Y = Y - T = 10 - 2 = 8" in out
    assert "∂Y/∂A21 = ∂Y/∂Y_in * ∂Y_in/∂A21 = phi'(Y_in) * hy1 = 2 * 0.25 = 0.5" in out
    assert "dL/dy" not in out and "dy/dA21" not in out
    tex = run("explain", "-w", "xh1", "--notation", "standard", "--format", "latex").stdout
    assert r"\frac{\partial L}{\partial Y} &= Y - T = 10 - 2 = 8" in tex
    assert r"{w^{(1)}_{11}}^{\text{new}} &= w^{(1)}_{11} - \eta" in tex


def test_phi_prime_is_computed_on_the_page_and_the_loss_shows_its_numbers() -> None:
    out = run("explain", str(HANDOUTS / "mazur.yaml"), "-w", "w1_1_1").stdout
    # Mazur's numbers: out_o1 = 0.75136507, out_h1 = 0.59326999.
    assert "phi'(Y_in1) = Y1 * (1 - Y1) = 0.75136507 * 0.24863493 = 0.1868156" in out
    assert "phi'(H11) = A11 * (1 - A11) = 0.59326999 * 0.40673001 = 0.24130071" in out
    assert "= 1/2 * [(0.75136507 - 0.01)^2 + (0.77292847 - 0.99)^2]" in out
    assert "dy1/dA11 = dy1/dY_in1 * dY_in1/dA11" in out
    # L_new - L written to the digits that make the subtraction check by hand.
    line = next(x for x in out.splitlines() if x.strip().startswith("L_new - L"))
    a, b = (float(v) for v in line.split("=")[1].split(" - "))
    assert len(line.split("=")[1].split(" - ")[0].strip()) > len("0.29837098")
    assert abs((a - b) - float(line.split("=")[2])) < 1e-9


def test_jacobian_shows_the_softmax_matrix_and_the_collapse_to_y_minus_t() -> None:
    out = run(
        "explain", str(HANDOUTS / "softmax.yaml"), "-w", "w2_1_1", "--sample", "0", "--jacobian"
    ).stdout
    assert "Softmax Jacobian: why the chain starts at Y - T" in out
    assert "dy1/dY_in1 = Y1 * (1 - Y1) = 0.51838658 * (1 - 0.51838658) = 0.24966193" in out
    assert "dy1/dY_in2 = -Y1 * Y2 = -0.51838658 * 0.3503349 = -0.18160891" in out
    assert "dL/dY_in1 = dL/dy1 * dy1/dY_in1 + dL/dy2 * dy2/dY_in1 + dL/dy3 * dy3/dY_in1" in out
    assert "= (-1.9290623) * 0.24966193 + 0 * (-0.18160891) + 0 * (-0.06805302)" in out
    doc = json.loads(
        run(
            "explain", str(HANDOUTS / "softmax.yaml"), "-w", "w2_1_1", "--jacobian", "--json"
        ).stdout
    )
    assert len(doc["jacobian"]) == 9 + 3
    np.testing.assert_allclose(
        [s["value"] for s in doc["jacobian"][9:]], [s["value"] for s in doc["dL_dy"]], rtol=1e-12
    )
    result = run("explain", "-w", "xh1", "--jacobian")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --jacobian explains a softmax output with the cross_entropy loss; "
        "this network's output is linear with sse\n",
    )


def test_csv_inputs_are_named_and_their_standardization_stated() -> None:
    doc = json.loads(run("explain", "configs/iris.yaml", "-w", "w1_1_1", "--json").stdout)
    described = doc["description"]
    assert (
        "inputs (CSV columns): x1 = sepal_length, x2 = sepal_width, x3 = petal_length, "
        "x4 = petal_width"
    ) in described
    standardized = next(line for line in described if "standardized" in line)
    assert standardized.startswith(
        "inputs are standardized with the training split's mean and standard deviation: "
        "x1 = (sepal_length - "
    )


def test_epoch_explains_the_weights_after_n_epochs_of_training() -> None:
    doc = json.loads(run("explain", "-w", "xh1", "--epoch", "3", "--json").stdout)
    # The reference network is linear: Y = 5 * xh1, so dL/dxh1 = 5 * (5 * xh1 - 2);
    # training moves xh1 alone (the rest is frozen): 2 -> 0.8 -> 0.5 -> 0.425.
    assert doc["value"] == pytest.approx(0.425, rel=1e-12)
    assert doc["grad"] == pytest.approx(5 * (5 * 0.425 - 2), rel=1e-12)
    assert doc["loss"] == pytest.approx(0.5 * (5 * 0.425 - 2) ** 2, rel=1e-12)
    result = run("explain", "-w", "xh1", "--epoch", "3", "--set", "training.eta=1e100")
    assert result.exit_code == 1, result.output
    assert (
        result.stderr == "error: training diverged at epoch 3 of the 3 asked: nothing to explain\n"
    )


def test_a_batch_shows_each_paths_products_per_sample_and_their_mean() -> None:
    doc = json.loads(run("explain", str(HANDOUTS / "tanh3.yaml"), "-w", "w3_1_1", "--json").stdout)
    path = next(s for s in doc_paths_section(doc) if s["symbol"] == "path 1")
    table = path["table"]
    assert table["columns"] == ["dL/dy", "dy/dA31", "dA31/dh2h311", "product"]
    assert [r["sample"] for r in table["rows"]] == [0, 1, 2] and table["samples_not_listed"] == 0
    for row in table["rows"]:
        factors, product = row["values"][:-1], row["values"][-1]
        assert np.prod(factors) == pytest.approx(product, rel=1e-12)
    assert table["mean"][-1] == pytest.approx(path["value"], rel=1e-12)
    # The mean of the products is the path's value; the product of the means is not.
    assert np.prod(table["mean"][:-1]) != pytest.approx(path["value"], rel=1e-3)
    notes = " ".join(doc["notes"])
    assert "the mean of its per-sample products" in notes
    assert "not the product of the factors' means" in notes
    # Past 8 samples: the first 5 and the mean.
    iris = json.loads(run("explain", "configs/iris.yaml", "-w", "w2_1_1", "--json").stdout)
    table = next(s for s in doc_paths_section(iris) if s["symbol"] == "path 1")["table"]
    assert [r["sample"] for r in table["rows"]] == [0, 1, 2, 3, 4]
    assert table["samples_not_listed"] == iris["samples"] - 5


def doc_paths_section(doc: dict) -> list[dict]:
    return [
        {"symbol": f"path {i + 1}", "value": p["product"], "table": p.get("table")}
        for i, p in enumerate(doc["paths"])
    ]
