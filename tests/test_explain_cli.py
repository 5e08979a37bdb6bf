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


def test_a_negative_input_mean_is_added_not_subtracted_twice() -> None:
    doc = json.loads(run("explain", "configs/csv.yaml", "-w", "w1_1_1", "--json").stdout)
    standardized = next(line for line in doc["description"] if "standardized" in line)
    assert "x3 = (x3 + 0.09269375) / 1.18973" in standardized
    tex = run("explain", "configs/iris.yaml", "-w", "w1_1_1", "--format", "latex").stdout
    assert r"$x_{1}$ = $(\text{sepal}\_\text{length} - 5.8858333)/0.86306584$, $x_{2}$ = " in tex
    assert r"inputs (CSV columns): $x_{1}$ = sepal\_length, $x_{2}$ = sepal\_width," in tex
    assert "- -" not in standardized
    assert "x1 = (x1 - 0.11168333) / 1.0116709" in standardized


def test_text_at_80_columns_keeps_every_value_and_breaks_no_expression() -> None:
    result = runner.invoke(
        app,
        ["explain", "configs/csv.yaml", "-w", "w1_1_1"],
        env={**PLAIN, "COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    # Per-sample values wrap after a comma instead of being cut off.
    start = lines.index(
        "  x1 = [-1.0231424, -1.491773, -1.1924662, -2.0826767, 0.44452862, 1.2689074,"
    )
    assert lines[start + 1] == "        ... 90 more], mean -1.8503717e-17"
    # Prose wraps between words, indented, never inside "a -> b" or "(x - m)".
    assert "  x1 = (x1 - 0.11168333) / 1.0116709, x2 = (x2 - 0.055251042) / 1.1178105," in lines
    assert "  x3 = (x3 + 0.09269375) / 1.18973" in lines
    summary = lines[-3:]
    assert summary[0].startswith("dL/dxh11 = -1.3077289 (paths -1.3077289,")
    assert all(line.startswith("  ") for line in summary[1:])
    assert "xh11: 0.39184882 -> 0.40492611;" in " ".join(summary)
    assert "4.8509864 -> 4.8340181" in summary[-1]


def test_latex_per_sample_values_then_a_spaced_mean_with_a_unary_sign() -> None:
    tex = run("explain", str(HANDOUTS / "tanh3.yaml"), "-w", "xh01", "--format", "latex").stdout
    assert r"&= (1.211399, 0.56490971, -2.2892965) \quad\text{mean }{-0.17099593} \\" in tex
    # The heading sets dL/dw on one line, not as a script-size \frac.
    assert r"\section*{$dL/d\,\mathit{xh}_{01}$ (\texttt{w1\_0\_1}):" in tex
    standard = run("explain", "-w", "xh1", "--notation", "standard", "--format", "latex").stdout
    assert r"\section*{$\partial L/\partial w^{(1)}_{11}$ (\texttt{w1\_1\_1}):" in standard


def test_a_weight_asked_for_twice_is_explained_once() -> None:
    result = run("explain", "-w", "xh1", "-w", "hh1", "-w", "w1_1_1", "-w", "hh1")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("backpropagation step by step") == 2
    assert result.stdout.index("dL/dxh1 (w1_1_1)") < result.stdout.index("dL/dhh1 (w2_1_1)")
    one = json.loads(run("explain", "-w", "xh1", "-w", "w1_1_1", "--json").stdout)
    assert one["weight"] == "w1_1_1"


def test_description_and_notes_typeset_their_formulas_in_latex_and_markdown() -> None:
    config = str(HANDOUTS / "activations.yaml")
    text = run("explain", config, "-w", "xh11").stdout
    assert "layer 2: 2 nodes, phi_2 = relu, phi_2'(H) = 1 if H > 0 else 0, with bias" in text
    assert "layer 3: 1 node, phi_3 = tanh, phi_3'(H) = 1 - tanh(H)^2, with bias" in text
    assert "agrees with the delta form to better than 1e-8 (relative)" in text
    # relu's phi' with H's number, as sigmoid's with A's.
    assert "  phi_2'(H22) = 1 if H22 > 0, else 0 = 1 if -0.55866371 > 0, else 0 = 0\n" in text
    assert "  phi_1'(H11) = sigmoid(H11) = sigmoid(0.12713857) = 0.5317419\n" in text
    assert "  phi_3'(Y_in) = 1 - Y^2 = 1 - (-0.29278253)^2 = 0.91427839\n" in text
    tex = run("explain", config, "-w", "xh11", "--format", "latex").stdout
    assert (
        r"\item[--] layer 3: 1 node, $\varphi_{3}$ = tanh, $\varphi_{3}'(H)$ = "
        r"$1 - \tanh(H)^{2}$, with bias"
    ) in tex
    assert (
        r"\item[--] weight: $\mathit{xh}_{11}$ = w1\_1\_1, from $x_{1}$ into $H_{11}$ "
        r"(layer 0 $\to$ 1)"
    ) in tex
    assert r"agrees with the delta form to better than $1\times10^{-8}$ (relative)" in tex
    # The OT1 text font prints > as an inverted question mark: > is set as math.
    assert r"\text{1 if H21 }>\text{ 0, else 0}" in tex
    assert r"$\varphi_{2}'(H)$ = $\text{1 if H }>\text{ 0 else 0}$" in tex
    assert all(">" not in part.partition("}")[0] for part in tex.split(r"\text{")[1:])
    md = run("explain", config, "-w", "xh11", "--format", "markdown").stdout
    assert "- layer 1: 2 nodes, $`\\varphi_{1}`$ = softplus, $`\\varphi_{1}'(H)`$ = " in md


def test_the_jacobian_collapse_is_written_as_math_in_latex() -> None:
    args = ("explain", str(HANDOUTS / "softmax.yaml"), "-w", "xh01", "--jacobian")
    text = run(*args, "--json").stdout
    notes = json.loads(text)["notes"]
    assert (
        "Each term is (-T_i / Y_i) * Y_i * (delta_ij - Y_j): the sum is -T_j + Y_j * sum_i T_i "
        "= Y_j - T_j, because the targets of a sample sum to 1. So the chain starts at "
        "dL/dY_in = Y - T, with no phi' factor for the output layer."
    ) in notes
    tex = run(*args, "--format", "latex").stdout
    assert (
        r"Each term is $(-T_{i}/Y_{i}) \cdot Y_{i} \cdot (\delta_{ij} - Y_{j})$: "
        r"the sum is $-T_{j} + Y_{j} \cdot \sum_{i} T_{i}$ = $Y_{j} - T_{j}$"
    ) in tex
    # In prose a fraction takes a slash: \frac would set it in script size.
    assert r"simplifies to $dL/dY_{\text{in}}$ = $Y - T$, so the chain starts at" in tex


def test_section_titles_name_the_weight_in_the_chosen_notation() -> None:
    tex = run("explain", "-w", "xh1", "--notation", "standard", "--format", "latex").stdout
    assert r"\subsection*{Chain rule: every path from $w^{(1)}_{11}$ to the output}" in tex
    assert r"\subsection*{Forward pass with $w^{(1)}_{11}$ = 0.8 alone updated}" in tex
    assert "\nChain rule: every path from xh1 to the output\n" in run("explain", "-w", "xh1").stdout


def test_markdown_prose_math_escapes_underscores_as_github_renders_them() -> None:
    md = run("explain", "configs/iris.yaml", "-w", "w1_1_1", "--format", "markdown").stdout
    assert (
        r"$`x_{1}`$ = $`(\text{sepal}\_\text{length} - 5.8858333)/0.86306584`$, $`x_{2}`$ = " in md
    )


def test_dl_dy_is_written_to_the_digits_a_nearly_zero_difference_needs() -> None:
    # Hypothesis found Y3 - T3 = 0.50899742 - 0.4999691 = 0.0090283153 (too many digits).
    out = run("explain", "-w", "xh1", "--set", "data.targets=[[10.000001]]").stdout
    assert "  dL/dy = Y - T = 10.00000000000 - 10.00000100000 = -0.00000100000\n" in out
    assert "  Y - T = 10.00000000000 - 10.00000100000 = -0.00000100000\n" in out
