"""`bp explain` options beyond one weight: repeated -w, --all, --notation, --epoch, --jacobian."""

from __future__ import annotations

import json
from pathlib import Path

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
        "error: name a weight with --weight NAME (repeatable), or use --all\n",
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
    assert "∂Y/∂A21 = phi'(Y_in) * hy1 = 2 * 0.25 = 0.5" in out
    assert "dL/dy" not in out and "dy/dA21" not in out
    tex = run("explain", "-w", "xh1", "--notation", "standard", "--format", "latex").stdout
    assert r"\frac{\partial L}{\partial Y} &= Y - T = 10 - 2 = 8" in tex
    assert r"{w^{(1)}_{11}}^{\text{new}} &= w^{(1)}_{11} - \eta" in tex
