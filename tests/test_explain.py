"""`bp explain`: the derivation of SPEC §2 in every format, and its algebra on random nets.

The reference numbers are the hand derivation's (SPEC.md §2,
source/000_a07c96c46df85d31.txt). Golden files in tests/golden/ are the four
renderings of `bp explain --weight xh1`; regenerate them after a deliberate
change with

    BP_UPDATE_GOLDEN=1 python -m pytest tests/test_explain.py -k golden

and review the diff (docs/explain-example.md is rewritten from the markdown one).
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import networks
from typer.testing import CliRunner

from backprop_core.engine.activations import Activation
from backprop_core.engine.gradcheck import numeric_gradient
from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.engine.network import Layer, Network
from backprop_core.explain import derivation as explain_module
from backprop_core.explain.derivation import TOP_PATHS, explain, explain_experiment
from backprop_core.run.experiment import load_experiment
from cli.app import app

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("BP_UPDATE_GOLDEN") == "1"
# A rendering environment that does not depend on the terminal running the tests.
PLAIN = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str):
    return runner.invoke(app, list(args), env=PLAIN)


# --- the core: SPEC §2 exactly --------------------------------------------------------


def _steps(x, key):
    return {s.symbol: s for s in x.section(key).steps}


def test_reference_derivation_numbers_exactly() -> None:
    x = explain_experiment(load_experiment(None, []), "xh1")
    forward = _steps(x, "forward")
    expected = {
        "x1": 2,
        "H1": 4,
        "A1": 8,
        "H21": 6,
        "A21": 12,
        "H22": 2,
        "A22": 4,
        "Y_in": 5,
        "Y": 10,
        "T": 2,
        "Y - T": 8,
        "L": 32,
    }
    assert {k: forward[k].value for k in expected} == expected
    assert forward["H21"].formula_text == "A1 * hh1"
    assert _steps(x, "output")["dL/dy"].value == 8
    chain = [(s.symbol, s.formula_text, s.numbers_text, s.value) for s in x.section("chain").steps]
    assert chain == [
        ("dy/dA21", "phi'(Y_in) * hy1", "2 * 0.25", 0.5),
        ("dy/dA22", "phi'(Y_in) * hy2", "2 * 0.5", 1.0),
        ("dA21/dA1", "phi'(H21) * hh1", "2 * 0.75", 1.5),
        ("dA22/dA1", "phi'(H22) * hh2", "2 * 0.25", 0.5),
        ("dA1/dxh1", "phi'(H1) * x1", "2 * 2", 4.0),
    ]
    total = x.section("paths").steps[-1]
    assert total.numbers_text == "8 * [0.5 * 1.5 * 4 + 1 * 0.5 * 4]"
    assert total.value == 40
    assert [p.product for p in x.paths] == [24, 16]
    deltas = [(s.symbol, s.numbers_text, s.value) for s in x.section("deltas").steps]
    assert deltas == [
        ("delta(3)", "2 * 8", 16.0),
        ("delta_1(2)", "2 * 0.25 * 16", 8.0),
        ("delta_2(2)", "2 * 0.5 * 16", 16.0),
        ("delta(1)", "2 * [0.75 * 8 + 0.25 * 16]", 20.0),
        ("dL/dxh1", "20 * 2", 40.0),
    ]
    assert x.grad == 40
    np.testing.assert_allclose(x.numeric_grad, 40, rtol=1e-6)
    update = x.section("update").steps[0]
    assert (update.numbers_text, update.value) == ("2 - 0.03 * 40", pytest.approx(0.8, abs=1e-15))
    after = _steps(x, "after")
    assert after["Y"].value == pytest.approx(4, abs=1e-12)
    assert after["Y - T"].value == pytest.approx(2, abs=1e-12)
    assert after["L_new"].value == pytest.approx(2, abs=1e-12)
    assert after["L_new - L"].value == pytest.approx(-30, abs=1e-12)


# --- random networks: paths == deltas == engine == finite differences ------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_outputs=2, batch_sizes=(1, 2, 3, 4)), st.booleans())
def test_path_sum_equals_delta_form_engine_and_finite_differences(case, one_sample) -> None:
    net, X, T = case
    trace = net.forward(X)
    for k, layer in enumerate(net.layers, start=1):
        for kink in layer.activation.record.kinks:
            assume(np.min(np.abs(trace.H[k] - kink)) > 1e-3)
    sample = X.shape[0] - 1 if one_sample else None
    Xs, Ts = (X[-1:], T[-1:]) if one_sample else (X, T)
    engine = net.backward(net.forward(Xs), Ts)
    names = WeightNames(net.units, tuple(layer.bias for layer in net.layers))
    for w in names.all_ids():
        x = explain(net, names, X, T, w, 0.1, sample=sample)
        where = f"{w.canonical} of {[la.activation.describe() for la in net.layers]}, {net.loss}"
        expected = engine.of(w)
        assert x.grad == expected, where
        assert x.path_sum is not None
        assert len(x.paths) == x.path_count
        np.testing.assert_allclose(x.path_sum, expected, rtol=1e-9, atol=1e-12, err_msg=where)
        np.testing.assert_allclose(
            sum(p.product for p in x.paths), expected, rtol=1e-9, atol=1e-12, err_msg=where
        )
        # The last delta step is dL/dw = delta_j(k) * O_i(k-1): the delta form's answer.
        np.testing.assert_allclose(
            x.section("deltas").steps[-1].value, expected, rtol=1e-12, atol=1e-15, err_msg=where
        )
        numeric = numeric_gradient(net, Xs, Ts, w)
        np.testing.assert_allclose(x.numeric_grad, numeric, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(expected, numeric, rtol=1e-6, atol=1e-8, err_msg=where)
        # Each path's product is the batch mean of its factors' per-sample products.
        for path in x.paths:
            per_sample = np.prod(
                [f.samples or (f.value,) * x.samples for f in path.factors], axis=0
            )
            np.testing.assert_allclose(np.mean(per_sample), path.product, rtol=1e-9, atol=1e-14)


def _deep_network() -> tuple[Network, WeightNames, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    units = (2, 6, 6, 6, 2)
    layers = tuple(Layer(u, Activation("tanh"), True) for u in units[1:])
    W = {k: rng.normal(0, 0.7, (units[k - 1], units[k])) for k in range(1, 5)}
    b = {k: rng.normal(0, 0.3, units[k]) for k in range(1, 5)}
    X, T = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    return Network(2, layers, "sse", W, b), WeightNames(units, (True,) * 4), X, T


def test_past_32_paths_the_largest_are_listed_and_the_rest_summed(monkeypatch) -> None:
    net, names, X, T = _deep_network()
    x = explain(net, names, X, T, WeightId(1, 1, 1), 0.1)
    assert x.path_count == 6 * 6 * 2 and len(x.paths) == TOP_PATHS
    assert x.omitted_sum is not None and x.path_sum is not None
    np.testing.assert_allclose(
        sum(p.product for p in x.paths) + x.omitted_sum, x.grad, rtol=1e-9, atol=1e-12
    )
    assert (
        "72 paths in all; the 10 largest are listed, the other 62 add up to"
        in (x.section("paths").notes[-1])
    )
    # The listed ones are the 10 largest |products| of the full list.
    monkeypatch.setattr(explain_module, "MAX_LISTED_PATHS", 1000)
    full = explain(net, names, X, T, WeightId(1, 1, 1), 0.1)
    assert len(full.paths) == 72
    largest = sorted(full.paths, key=lambda p: -abs(p.product))[:TOP_PATHS]
    assert {p.nodes for p in x.paths} == {p.nodes for p in largest}
    # Past the multiplication budget only the count is given; the delta form still is.
    monkeypatch.setattr(explain_module, "MAX_PATH_CELLS", 10)
    counted = explain(net, names, X, T, WeightId(1, 1, 1), 0.1)
    assert counted.paths == [] and counted.path_sum is None and counted.path_count == 72
    assert counted.section("deltas").steps[-1].value == x.grad


# --- the command: every number of SPEC §2 in every format --------------------------------

TEXT_LINES = [
    "H1 = x1 * xh1 = 2 * 2 = 4",
    "A1 = phi(H1) = 2 * 4 = 8",
    "H21 = A1 * hh1 = 8 * 0.75 = 6",
    "A21 = phi(H21) = 2 * 6 = 12",
    "H22 = A1 * hh2 = 8 * 0.25 = 2",
    "A22 = phi(H22) = 2 * 2 = 4",
    "Y_in = A21 * hy1 + A22 * hy2 = 12 * 0.25 + 4 * 0.5 = 5",
    "Y = phi(Y_in) = 2 * 5 = 10",
    "Y - T = 10 - 2 = 8",
    "L = 1/2 * (Y - T)^2 = 1/2 * (10 - 2)^2 = 32",
    "dL/dy = Y - T = 10 - 2 = 8",
    "dy/dA21 = dy/dY_in * dY_in/dA21 = phi'(Y_in) * hy1 = 2 * 0.25 = 0.5",
    "dy/dA22 = dy/dY_in * dY_in/dA22 = phi'(Y_in) * hy2 = 2 * 0.5 = 1",
    "dA21/dA1 = dA21/dH21 * dH21/dA1 = phi'(H21) * hh1 = 2 * 0.75 = 1.5",
    "dA22/dA1 = dA22/dH22 * dH22/dA1 = phi'(H22) * hh2 = 2 * 0.25 = 0.5",
    "dA1/dxh1 = dA1/dH1 * dH1/dxh1 = phi'(H1) * x1 = 2 * 2 = 4",
    "= 8 * [0.5 * 1.5 * 4 + 1 * 0.5 * 4] = 40",
    "delta(3) = phi'(Y_in) * (Y - T) = 2 * 8 = 16",
    "delta_1(2) = phi'(H21) * hy1 * delta(3) = 2 * 0.25 * 16 = 8",
    "delta_2(2) = phi'(H22) * hy2 * delta(3) = 2 * 0.5 * 16 = 16",
    "delta(1) = phi'(H1) * [hh1 * delta_1(2) + hh2 * delta_2(2)] = 2 * [0.75 * 8 + 0.25 * 16] = 20",
    "dL/dxh1 = delta(1) * x1 = 20 * 2 = 40",
    "The delta form gives 40, the same as the sum over the 2 paths (40).",
    "xh1_new = xh1 - eta * dL/dxh1 = 2 - 0.03 * 40 = 0.8",
    "H1 = x1 * xh1 = 2 * 0.8 = 1.6",
    "Y = phi(Y_in) = 2 * 2 = 4",
    "Y - T = 4 - 2 = 2",
    "L_new = 1/2 * (Y - T)^2 = 1/2 * (4 - 2)^2 = 2",
    "L_new - L = 2 - 32 = -30",
]


def test_text_shows_every_number_of_the_derivation_in_order() -> None:
    result = runner.invoke(app, ["explain", "--weight", "xh1"], env={**PLAIN, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    positions = [out.find(line) for line in TEXT_LINES]
    assert -1 not in positions, [line for line in TEXT_LINES if line not in out]
    assert positions == sorted(positions)
    assert "\x1b" not in out and "\x1b" not in result.stderr


MARKDOWN_ROWS = [
    r"| $`H_{1}`$ | $`x_{1} \cdot \mathit{xh}_{1}`$ | `2 * 2` | **4** |",
    r"| $`Y`$ | $`\varphi(Y_{\text{in}})`$ | `2 * 5` | **10** |",
    r"| $`Y - T`$ |  | `10 - 2` | **8** |",
    r"| $`\frac{dL}{dy}`$ | $`Y - T`$ | `10 - 2` | **8** |",
    r" = \varphi'(Y_{\text{in}}) \cdot \mathit{hy}_{1}`$ | `2 * 0.25` | **0.5** |",
    r" = \varphi'(Y_{\text{in}}) \cdot \mathit{hy}_{2}`$ | `2 * 0.5` | **1** |",
    r" = \varphi'(H_{21}) \cdot \mathit{hh}_{1}`$ | `2 * 0.75` | **1.5** |",
    r" = \varphi'(H_{22}) \cdot \mathit{hh}_{2}`$ | `2 * 0.25` | **0.5** |",
    r" = \varphi'(H_{1}) \cdot x_{1}`$ | `2 * 2` | **4** |",
    r"| `8 * [0.5 * 1.5 * 4 + 1 * 0.5 * 4]` | **40** |",
    r"| $`\delta^{(3)}`$ | $`\varphi'(Y_{\text{in}}) \cdot (Y - T)`$ | `2 * 8` | **16** |",
    r"| $`\delta^{(2)}_{1}`$ | $`\varphi'(H_{21}) \cdot \mathit{hy}_{1} \cdot \delta^{(3)}`$ | `2 * 0.25 * 16` | **8** |",  # noqa: E501
    r"| $`\delta^{(2)}_{2}`$ | $`\varphi'(H_{22}) \cdot \mathit{hy}_{2} \cdot \delta^{(3)}`$ | `2 * 0.5 * 16` | **16** |",  # noqa: E501
    r"| `2 * [0.75 * 8 + 0.25 * 16]` | **20** |",
    r"| $`\frac{dL}{d\,\mathit{xh}_{1}}`$ | $`\delta^{(1)} \cdot x_{1}`$ | `20 * 2` | **40** |",
    r"| $`\mathit{xh}_{1}^{\text{new}}`$ | $`\mathit{xh}_{1} - \eta \cdot \frac{dL}{d\,\mathit{xh}_{1}}`$ | `2 - 0.03 * 40` | **0.8** |",  # noqa: E501
    r"| $`Y`$ | $`\varphi(Y_{\text{in}})`$ | `2 * 2` | **4** |",
    r"| $`Y - T`$ |  | `4 - 2` | **2** |",
]


def test_markdown_has_every_number_and_is_valid_github_markdown() -> None:
    from markdown_it import MarkdownIt

    result = run("explain", "--weight", "xh1", "--format", "markdown")
    assert result.exit_code == 0, result.output
    out = result.stdout
    positions = [out.find(row) for row in MARKDOWN_ROWS]
    assert -1 not in positions, [row for row in MARKDOWN_ROWS if row not in out]
    assert positions == sorted(positions)
    tokens = MarkdownIt("commonmark").enable("table").parse(out)
    assert sum(t.type == "table_open" for t in tokens) == 8  # one per section
    # Every row parsed into exactly four cells: no formula broke a table.
    rows = [i for i, t in enumerate(tokens) if t.type == "tr_open"]
    for i in rows:
        cells = 0
        for t in tokens[i + 1 :]:
            if t.type == "tr_close":
                break
            cells += t.type in ("td_open", "th_open")
        assert cells == 4
    # The network drawing comes first: an SVG image, no Mermaid needed to show it.
    html = MarkdownIt("commonmark").enable("table").render(out)
    found = re.search(r'<img alt="[^"]*" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)">', html)
    assert found is not None and found.start() < html.index("<h3>")
    assert ">xh1 = 2</text>" in base64.b64decode(found[1]).decode()
    # GitHub math ($`...`$) reaches the page intact: a code span between dollars.
    assert r"$<code>\frac{dy}{dA_{21}}</code>$" in html
    assert "|" not in html.replace("\\|", "")


LATEX_LINES = [
    r"H_{1} &= x_{1} \cdot \mathit{xh}_{1} = 2 \cdot 2 = 4 \\",
    r"Y &= \varphi(Y_{\text{in}}) = 2 \cdot 5 = 10 \\",
    r"Y - T &= 10 - 2 = 8 \\",
    r"\frac{dL}{dy} &= Y - T = 10 - 2 = 8",
    r"\varphi'(Y_{\text{in}}) \cdot \mathit{hy}_{1} = 2 \cdot 0.25 = 0.5 \\",
    r"\varphi'(Y_{\text{in}}) \cdot \mathit{hy}_{2} = 2 \cdot 0.5 = 1 \\",
    r"\varphi'(H_{21}) \cdot \mathit{hh}_{1} = 2 \cdot 0.75 = 1.5 \\",
    r"\varphi'(H_{22}) \cdot \mathit{hh}_{2} = 2 \cdot 0.25 = 0.5 \\",
    r"\varphi'(H_{1}) \cdot x_{1} = 2 \cdot 2 = 4",
    r"&= 8 \cdot [0.5 \cdot 1.5 \cdot 4 + 1 \cdot 0.5 \cdot 4] = 40",
    r"\delta^{(3)} &= \varphi'(Y_{\text{in}}) \cdot (Y - T) = 2 \cdot 8 = 16 \\",
    r"\delta^{(2)}_{1} &= \varphi'(H_{21}) \cdot \mathit{hy}_{1} \cdot \delta^{(3)} = 2 \cdot 0.25 \cdot 16 = 8 \\",  # noqa: E501
    r"\delta^{(2)}_{2} &= \varphi'(H_{22}) \cdot \mathit{hy}_{2} \cdot \delta^{(3)} = 2 \cdot 0.5 \cdot 16 = 16 \\",  # noqa: E501
    r"= 2 \cdot [0.75 \cdot 8 + 0.25 \cdot 16]",
    r"\frac{dL}{d\,\mathit{xh}_{1}} &= \delta^{(1)} \cdot x_{1} = 20 \cdot 2 = 40",
    r"\mathit{xh}_{1}^{\text{new}} &= \mathit{xh}_{1} - \eta \cdot \frac{dL}{d\,\mathit{xh}_{1}} = 2 - 0.03 \cdot 40 = 0.8",  # noqa: E501
    r"Y &= \varphi(Y_{\text{in}}) = 2 \cdot 2 = 4 \\",
    r"Y - T &= 4 - 2 = 2 \\",
]


def _align_rows(lines: list[str]) -> list[list[str]]:
    """The rows of every align* block."""
    blocks, inside = [], False
    for line in lines:
        if line == r"\begin{align*}":
            blocks.append([])
            inside = True
        elif line == r"\end{align*}":
            inside = False
        elif inside:
            blocks[-1].append(line)
    return blocks


def test_latex_is_a_complete_document_with_every_number() -> None:
    result = run("explain", "--weight", "xh1", "--format", "latex")
    assert result.exit_code == 0, result.output
    out = result.stdout
    positions = [out.find(line) for line in LATEX_LINES]
    assert -1 not in positions, [line for line in LATEX_LINES if line not in out]
    assert positions == sorted(positions)
    lines = out.splitlines()
    assert lines[1:3] == [r"\documentclass{article}", r"\usepackage{amsmath}"]
    assert [line for line in lines if line.startswith(r"\usepackage")] == [r"\usepackage{amsmath}"]
    assert lines.count(r"\begin{document}") == 1 and lines[-1] == r"\end{document}"
    blocks = _align_rows(lines)
    assert len(blocks) == 8  # one per section
    for rows in blocks:
        for row in rows:
            assert row.count("&") == 1 and row.count("{") == row.count("}"), row
        # Every row but the last ends the line; the last must not (no empty row at the end).
        assert all(r.endswith(r" \\") for r in rows[:-1]) and not rows[-1].endswith("\\")


def test_latex_fragment_is_one_bare_align_block() -> None:
    result = run("explain", "--weight", "xh1", "--format", "latex", "--fragment")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "\\documentclass" not in result.stdout
    assert lines.count(r"\begin{align*}") == 1 and lines.count(r"\end{align*}") == 1
    body = lines[lines.index(r"\begin{align*}") + 1 : lines.index(r"\end{align*}")]
    for line in body:
        assert line.startswith(r"\intertext{") or line.count("&") == 1, line
        assert line.count("{") == line.count("}"), line
        if line.startswith(r"\intertext{"):
            # prose: underscores escaped outside its formulas ($...$)
            prose = re.sub(r"\$[^$]*\$", "", line)
            assert "_" not in prose.replace(r"\_", ""), line
    rows = [line for line in body if not line.startswith(r"\intertext")]
    assert all(r.endswith(r" \\") for r in rows[:-1]) and not rows[-1].endswith("\\")
    # At the article's default width a long step continues on the next row.
    factor = lines.index(
        r"\frac{dA_{21}}{dA_{1}} &= \frac{dA_{21}}{dH_{21}} \cdot \frac{dH_{21}}{dA_{1}} "
        r"= \varphi'(H_{21}) \cdot \mathit{hh}_{1} \\"
    )
    assert lines[factor + 1] == r"&= 2 \cdot 0.75 = 1.5 \\"
    result = run("explain", "--weight", "xh1", "--fragment")
    assert (result.exit_code, result.stderr) == (2, "error: --fragment is for --format latex\n")


def test_json_has_the_spec_keys_and_every_number() -> None:
    result = run("explain", "--weight", "xh1", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in (
        "weight",
        "value",
        "grad",
        "paths",
        "deltas",
        "numeric_grad",
        "eta",
        "new_value",
        "after",
    ):
        assert key in doc
    assert (doc["weight"], doc["alias"], doc["value"], doc["grad"]) == ("w1_1_1", "xh1", 2, 40)
    assert doc["eta"] == 0.03
    np.testing.assert_allclose(doc["numeric_grad"], 40, rtol=1e-6)
    np.testing.assert_allclose(doc["new_value"], 0.8, rtol=0, atol=1e-15)
    assert [[f["value"] for f in p["factors"]] for p in doc["paths"]] == [
        [8, 0.5, 1.5, 4],
        [8, 1, 0.5, 4],
    ]
    assert [f["symbol"] for f in doc["paths"][0]["factors"]] == [
        "dL/dy",
        "dy/dA21",
        "dA21/dA1",
        "dA1/dxh1",
    ]
    assert doc["paths"][0]["factors"][1]["formula"] == "phi'(Y_in) * hy1"
    assert sum(p["product"] for p in doc["paths"]) == doc["grad"] == 40
    assert {d["layer"]: [s["value"] for s in d["steps"]] for d in doc["deltas"]} == {
        3: [16],
        2: [8, 16],
        1: [20],
    }
    assert doc["delta_form"]["numbers"] == "20 * 2"
    assert doc["after"]["outputs"] == [[pytest.approx(4, abs=1e-12)]]
    assert doc["after"]["loss"] == pytest.approx(2, abs=1e-12)
    assert doc["after"]["loss_change"] == pytest.approx(-30, abs=1e-12)
    forward = {s["symbol"]: s["value"] for s in doc["forward"]}
    assert forward["Y - T"] == 8 and forward["L"] == 32


# --- golden files: the four renderings of `bp explain --weight xh1` -------------------------

FORMATS = {"text": "txt", "markdown": "md", "latex": "tex", "json": "json"}


def _golden_json(text: str) -> object:
    """JSON compared at 9 significant digits: finite differences vary in the last bits."""

    def rounded(value: object) -> object:
        if isinstance(value, float):
            return float(f"{value:.9g}")
        if isinstance(value, list):
            return [rounded(v) for v in value]
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in value.items()}
        return value

    return rounded(json.loads(text))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_golden(fmt: str) -> None:
    result = run("explain", "--weight", "xh1", "--format", fmt)
    assert result.exit_code == 0, result.output
    path = GOLDEN / f"explain_xh1.{FORMATS[fmt]}"
    if UPDATE:
        path.write_text(result.stdout)
        if fmt == "markdown":
            (REPO / "docs" / "explain-example.md").write_text(
                "# `bp explain --weight xh1`: the derivation, number by number\n\n"
                "The output of `bp explain --weight xh1 --format markdown` on the built-in\n"
                "reference example (`configs/tiny.yaml`), the hand derivation of "
                "[math.md](math.md).\n"
                "It is also a golden file of the test suite (`tests/golden/explain_xh1.md`).\n\n"
                + result.stdout
            )
    expected = path.read_text()
    if fmt == "json":
        assert _golden_json(result.stdout) == _golden_json(expected)
    else:
        assert result.stdout == expected


def test_docs_example_is_the_markdown_golden() -> None:
    docs = (REPO / "docs" / "explain-example.md").read_text()
    assert docs.endswith((GOLDEN / "explain_xh1.md").read_text())


# --- options, batches, other networks ----------------------------------------------------

GENERAL = """\
name: general
network:
  inputs: 2
  layers:
    - units: 2
      activation: sigmoid
      weights: [[0.1, 0.2], [0.3, 0.4]]
      biases: [0.5, -0.5]
    - units: 2
      activation: tanh
      weights: [[0.6, -0.7], [0.8, 0.9]]
      biases: [0.1, 0.2]
    - units: 1
      activation: linear
      weights: [[1.0], [-1.0]]
      biases: [0.3]
loss: sse
data:
  inputs: [[1.0, 2.0], [0.5, -1.0], [0.0, 1.0]]
  targets: [[1.0], [0.0], [0.5]]
training:
  eta: 0.1
"""


@pytest.fixture
def general(tmp_path: Path) -> Path:
    path = tmp_path / "general.yaml"
    path.write_text(GENERAL)
    return path


def test_batch_is_the_mean_and_sample_is_one_row(general: Path) -> None:
    mean = json.loads(run("explain", str(general), "-w", "hh_01", "--json").stdout)
    rows = [
        json.loads(run("explain", str(general), "-w", "hh01", "--sample", str(s), "--json").stdout)
        for s in range(3)
    ]
    assert mean["samples"] == 3 and mean["sample"] is None
    assert [r["sample"] for r in rows] == [0, 1, 2] and all(r["samples"] == 1 for r in rows)
    np.testing.assert_allclose(mean["grad"], np.mean([r["grad"] for r in rows]), rtol=1e-12)
    np.testing.assert_allclose(mean["grad"], mean["numeric_grad"], rtol=1e-6)
    # One path (hh01 feeds H21, which feeds the one output); its product is the batch mean.
    assert [p["product"] for p in mean["paths"]] == [pytest.approx(mean["grad"], rel=1e-12)]
    head = mean["paths"][0]["factors"][0]
    assert head["symbol"] == "dL/dy" and len(head["samples"]) == 3
    assert [r["paths"][0]["factors"][0]["value"] for r in rows] == pytest.approx(head["samples"])


def test_sample_out_of_range_exits_2(general: Path) -> None:
    result = run("explain", str(general), "-w", "xh11", "--sample", "3")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "error: sample 3 is out of range: the training data has 3 rows (0..2)\n"
    )
    assert result.stdout == ""


def test_softmax_cross_entropy_starts_the_chain_at_y_in(tmp_path: Path) -> None:
    path = tmp_path / "soft.yaml"
    path.write_text(
        "network:\n  inputs: 2\n  layers:\n"
        "    - {units: 2, activation: tanh, weights: [[0.1, 0.2], [0.3, 0.4]]}\n"
        "    - {units: 3, activation: softmax, weights: [[0.6, -0.7, 0.2], [0.8, 0.9, -0.3]]}\n"
        "loss: cross_entropy\n"
        "data: {inputs: [[1.0, 2.0]], targets: [[0, 1, 0]]}\n"
    )
    doc = json.loads(run("explain", str(path), "-w", "xh11", "--json").stdout)
    heads = [p["factors"][0] for p in doc["paths"]]
    assert [h["symbol"] for h in heads] == ["dL/dY_in1", "dL/dY_in2", "dL/dY_in3"]
    assert [h["formula"] for h in heads] == ["Y1 - T1", "Y2 - T2", "Y3 - T3"]
    assert doc["paths"][0]["factors"][1] == {
        "symbol": "dY_in1/dA11",
        "formula": "hy11",
        "numbers": "",
        "value": 0.6,
    }
    np.testing.assert_allclose(sum(p["product"] for p in doc["paths"]), doc["grad"], rtol=1e-12)
    np.testing.assert_allclose(doc["grad"], doc["numeric_grad"], rtol=1e-6)
    assert any("softmax + cross_entropy" in note for note in doc["notes"])


def test_frozen_weight_is_explained_and_says_so() -> None:
    doc = json.loads(run("explain", "-w", "hh1", "--json").stdout)
    assert doc["frozen"] is True and doc["grad"] == 64  # delta_1(2) * A1 = 8 * 8
    assert any("hh1 is frozen" in note for note in doc["notes"])


def test_set_override_changes_the_update() -> None:
    doc = json.loads(run("explain", "-w", "xh1", "--set", "training.eta=0.1", "--json").stdout)
    assert doc["eta"] == 0.1 and doc["new_value"] == pytest.approx(-2, abs=1e-12)


def test_unknown_weight_and_conflicting_formats_exit_2() -> None:
    result = run("explain", "--weight", "hy3")
    assert result.exit_code == 2, result.output
    assert result.stderr == "error: unknown weight name 'hy3' (closest: hy2, hy1)\n"
    result = run("explain", "--weight", "xh1", "--json", "--format", "latex")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "error: --json and --format latex ask for different formats; use one\n"
    )
    result = run("explain")
    assert result.exit_code == 2, result.output
    assert "--weight" in result.stderr


@pytest.mark.parametrize("config", sorted(p.name for p in (REPO / "configs").glob("*.yaml")))
def test_every_shipped_config_explains_its_first_and_last_weight(config: str) -> None:
    experiment = load_experiment(REPO / "configs" / config, [])
    ids = list(experiment.names.all_ids())
    for w in (ids[0], ids[-1]):
        x = explain_experiment(experiment, w.canonical)
        assert x.section("deltas").steps[-1].value == x.grad
        if x.path_sum is not None:
            np.testing.assert_allclose(x.path_sum, x.grad, rtol=1e-9, atol=1e-12)
