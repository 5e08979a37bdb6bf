"""`bp sheet`, `bp grade`, `bp quiz`, `bp exercise` (issue 14): files, outputs, exit codes."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from backprop_core.grading import exercise as exercises
from backprop_core.grading.derivation import derive_experiment
from backprop_core.grading.quantities import after_name
from backprop_core.run.experiment import load_experiment
from cli.app import app
from cli.commands import quiz as quiz_command

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
TINY = str(ROOT / "configs" / "tiny.yaml")


def bp(*args: str, input: str | None = None) -> Any:
    return runner.invoke(app, list(args), input=input)


def write_key(tmp_path: Path, *args: str) -> Path:
    args = args or ("-w", "xh1")
    path = tmp_path / "key.yaml"
    result = bp("sheet", *args, "--key", "-o", str(path))
    assert result.exit_code == 0, result.output
    return path


def edit(path: Path, changes: dict[str, str], out: Path) -> Path:
    """The sheet at `path` with the values of some lines replaced (comments kept)."""
    lines = []
    for line in path.read_text().splitlines():
        name = line.split(":", 1)[0].strip('"')
        if name in changes and not line.startswith("#"):
            comment = line[line.index("#") :] if "#" in line else ""
            line = f"{line.split(':', 1)[0]}: {changes[name]}  {comment}".rstrip()
        lines.append(line)
    out.write_text("\n".join(lines) + "\n")
    return out


# --- bp sheet --------------------------------------------------------------------------


def test_the_blank_sheet_lists_the_derivation_with_formulas_and_no_numbers() -> None:
    result = bp("sheet", "-w", "xh1")
    assert result.exit_code == 0
    text = result.stdout
    data = yaml.safe_load(text)
    assert data["weights"] == ["xh1"]
    asked = [k for k in data if k != "weights"]
    assert asked[:3] == ["H1", "A1", "H21"] and asked[-1] == "L_new - L"
    assert all(data[k] is None for k in asked)  # blank
    assert "x1 = 2, T = 2" in text and "eta = 0.03" in text  # the givens, as comments
    assert "\ndelta(1):" in text and "# phi'(H1) * [hh1 * delta_1(2) + hh2 * delta_2(2)]" in text
    assert "\ndL/dxh1:      # delta(1) * x1\n" in text  # the formula, never the number
    assert text.count("dL/dxh1:") == 1  # asked once
    derivation = derive_experiment(load_experiment(None), ["xh1"])
    comments = {}
    for line in text.splitlines():
        if not line.startswith("#") and "  # " in line:
            comments[line.split(":")[0]] = line.split("  # ", 1)[1]
    for q in derivation.quantities:
        assert comments.get(q.name, "") == q.formula  # names only: never the numbers
    assert "2 * [0.75 * 8 + 0.25 * 16]" not in text


def test_the_key_fills_the_sheet_with_bps_values(tmp_path: Path) -> None:
    data = yaml.safe_load(write_key(tmp_path).read_text())
    assert data["H1"] == 4 and data["dL/dxh1"] == 40 and data["xh1_new"] == 0.8
    assert data["path 1"] == 24 and data["L_new - L"] == -30


def test_several_weights_share_their_common_quantities() -> None:
    data = yaml.safe_load(bp("sheet", "-w", "xh1", "-w", "hy1").stdout)
    assert data["weights"] == ["xh1", "hy1"]
    assert "path 1 [xh1]" in data and "path 1 [hy1]" in data and "Y_new [hy1]" in data
    assert list(data).count("H1") == 1


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_the_exercise_statement(fmt: str) -> None:
    result = bp("sheet", "-w", "xh1", "--format", fmt)
    assert result.exit_code == 0
    out = result.stdout
    if fmt == "markdown":
        assert "```mermaid" in out and "`xh1 = 2`" in out and "`eta = 0.03`" in out
        assert "- Delta recursion: `delta(3)`, `delta_1(2)`" in out
    else:
        assert r"\section*{Exercise" in out and r"\eta = 0.03" in out
        assert r"$\mathit{xh}_{1} = 2$" in out and r"\frac{dA_{21}}{dA_{1}}" in out
        # The network as a table per layer: the row's node feeds the column's node.
        header = " & $A_{21}$ & $A_{22}$ \\\\ \\hline\n"
        assert (
            header + "$A_{1}$ & $\\mathit{hh}_{1} = 0.75$ & $\\mathit{hh}_{2} = 0.25$ \\\\\n" in out
        )


def test_the_exercise_statement_on_a_batch_with_biases() -> None:
    sets = ["--set", "data.inputs=[[2], [1]]", "--set", "data.targets=[[2], [1]]"]
    sets += ["--set", "network.layers[0].bias=true", "--set", "network.layers[0].biases=[0.5]"]
    latex = bp("sheet", "-w", "xh1", "--format", "latex", *sets).stdout
    assert (
        "$\\text{1}$ & $\\mathit{xh}_{01} = 0.5$ \\\\\n$x_{1}$ & $\\mathit{xh}_{1} = 2$ \\\\\n"
        in latex
    )  # the bias row
    assert "A value per sample is a list of 2" in latex
    markdown = bp("sheet", "-w", "xh1", "--format", "markdown", *sets).stdout
    assert "A value per sample is a list of 2, e.g. `[0.5, 0.25, ...]`; losses" in markdown


def test_sheet_usage_errors() -> None:
    result = bp("sheet", "-w", "xh1", "--key", "--format", "latex")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --key fills the YAML sheet")
    result = bp("sheet", "-w", "zz9")
    assert result.exit_code == 2 and result.stderr.startswith("error: unknown weight name 'zz9'")


# --- bp grade --------------------------------------------------------------------------


def test_grading_the_key_exits_0(tmp_path: Path) -> None:
    key = write_key(tmp_path)
    result = bp("grade", str(key))
    assert result.exit_code == 0
    assert result.stdout.endswith(
        "score: 35/35 (100.0%): 35 right, 0 carried forward, 0 wrong, 0 missing\n"
    )
    assert bp("grade", TINY, str(key)).exit_code == 0  # the config given too


def test_text_report_names_the_first_wrong_step(tmp_path: Path) -> None:
    sheet = edit(
        write_key(tmp_path),
        {"dA1/dxh1": "16", "delta(1)": "16", "dL/dxh1": "32", "L_new": ""},
        tmp_path / "a.yaml",
    )
    result = bp("grade", str(sheet))
    assert result.exit_code == 1
    out = result.stdout
    assert (
        "first wrong step: dA1/dxh1 = 16, expected 4 = phi'(H1) * x1 = 2 * 2; "
        "phi(H) where phi'(H) belongs\n"
    ) in out
    assert "  carried forward  dL/dxh1 = 32, right given your delta(1)\n" in out
    assert "  missing          L_new, expected 2 = 1/2 * (Y_new - T)^2 = 1/2 * (4 - 2)^2\n" in out
    assert out.endswith("score: 32/35 (91.4%): 31 right, 1 carried forward, 2 wrong, 1 missing\n")
    assert bp("grade", str(sheet), "--no-carry").stdout.endswith(
        "score: 31/35 (88.6%): 31 right, 0 carried forward, 3 wrong, 1 missing\n"
    )


def test_json_report(tmp_path: Path) -> None:
    sheet = edit(write_key(tmp_path), {"delta(1)": "16", "dL/dxh1": "32"}, tmp_path / "a.yaml")
    result = bp("grade", str(sheet), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["counts"] == {"right": 33, "carried_forward": 1, "wrong": 1, "missing": 0}
    by_name = {q["name"]: q for q in doc["quantities"]}
    assert by_name["delta(1)"]["status"] == "wrong"
    assert by_name["delta(1)"]["value"] == 16 and by_name["delta(1)"]["expected"] == 20
    assert by_name["dL/dxh1"]["status"] == "carried_forward"
    assert by_name["dL/dxh1"]["given_your"] == ["delta(1)"]
    assert set(by_name["H1"]) == {
        "name", "status", "value", "expected", "formula", "numbers", "diagnosis",
        "given_your", "recomputed", "points", "max_points",
    }  # fmt: skip
    assert by_name["dL/dxh1"]["recomputed"] == 32


def test_gradescope_results_follow_the_schema(tmp_path: Path) -> None:
    sheet = edit(write_key(tmp_path), {"dL/dxh1": "24"}, tmp_path / "a.yaml")
    with sheet.open("a") as f:
        f.write("points: {dL/dxh1: 5, xh1_new: 2}\n")
    result = bp("grade", TINY, str(sheet), "--format", "gradescope")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert {"score", "output", "visibility", "tests"} <= set(doc)
    assert len(doc["tests"]) == 35
    for test in doc["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
        assert isinstance(test["score"], float) and test["visibility"] == "visible"
    assert doc["score"] == sum(t["score"] for t in doc["tests"]) == 33 + 2
    gradient = next(t for t in doc["tests"] if t["name"] == "dL/dxh1")
    assert gradient["max_score"] == 5 and gradient["score"] == 0
    assert "a missing path" in gradient["output"]


def test_a_blank_sheet_is_all_missing(tmp_path: Path) -> None:
    blank = tmp_path / "blank.yaml"
    blank.write_text(bp("sheet", "-w", "xh1").stdout)
    result = bp("grade", str(blank))
    assert result.exit_code == 1
    assert result.stdout.endswith("0 right, 0 carried forward, 0 wrong, 35 missing\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("weights: [xh1]\nH1: 4\nA1: [8\n", ":4: YAML syntax error at column 1:"),
        (
            "weights: [xh1]\nH1: 4\ndL/dxh: 40\n",
            ":3: dL/dxh: not a quantity of this sheet (did you mean 'dL/dxh1'?)",
        ),
        (
            "weights: [xh1]\nH1: four\n",
            ":2: H1: expected a number (or a fraction, 2/3), got 'four'",
        ),
        (
            "weights: [xh1]\nH1: [4, 4]\n",
            ":2: H1: expected one value (one per sample), got a list of 2",
        ),
        ("weights: [xh1]\nh1: 4\n", ":2: h1: not a quantity of this sheet (did you mean 'H1'?)"),
        (
            "weights: [xh1]\nY-T: 8\n",
            ":2: Y-T: not a quantity of this sheet (did you mean 'Y - T'?)",
        ),
        (
            "weights: [xh1]\nH1: [4, x]\n",
            ":2: H1[1]: expected a number (or a fraction, 2/3), got 'x'",
        ),
        ("weights: [xh1]\nH1: 4/0\n", ":2: H1: expected a number (or a fraction, 2/3), got '4/0'"),
        ("weights: [xh1]\npoints: {H1: -1}\n", ":2: points.H1: expected a number of points >= 0"),
        ("weights: [zz9]\nH1: 4\n", ":1: weights[0]: unknown weight name 'zz9'"),
        ("H1: 4\n", "weights: missing; the sheet says whose derivation it is (or pass -w)"),
        ("- 4\n", "expected a mapping from quantity names to values (name: value)"),
        ("", "the sheet is empty"),
    ],
)
def test_bad_sheets_exit_2_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    sheet = tmp_path / "answers.yaml"
    sheet.write_text(text)
    result = bp("grade", str(sheet))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert result.stderr.startswith("error: ")


def test_an_unreadable_sheet_still_gets_a_gradescope_results_json(tmp_path: Path) -> None:
    sheet = tmp_path / "answers.yaml"
    sheet.write_text("weights: [xh1]\nH1: four\n")
    results = tmp_path / "results.json"
    result = bp("grade", str(sheet), "--format", "gradescope", "-o", str(results))
    assert result.exit_code == 2 and "H1: expected a number" in result.stderr
    assert json.loads(results.read_text()) == {
        "score": 0.0,
        "output": "The answer sheet could not be graded: "
        f"{sheet}:2: H1: expected a number (or a fraction, 2/3), got 'four'",
        "visibility": "visible",
        "tests": [],
    }


def test_fractions_are_numbers(tmp_path: Path) -> None:
    sheet = tmp_path / "answers.yaml"
    sheet.write_text("weights: [xh1]\ndy/dA21: 1/2\nxh1_new: 4/5\nL: '64 / 2'\n")
    report = json.loads(bp("grade", str(sheet), "--json").stdout)
    marks = {q["name"]: q for q in report["quantities"] if q["status"] != "missing"}
    assert {name: (q["status"], q["value"]) for name, q in marks.items()} == {
        "L": ("right", 32.0),
        "dy/dA21": ("right", 0.5),
        "xh1_new": ("right", 0.8),
    }
    quiz = bp("quiz", "-w", "xh1", input="8/2\n")
    assert "H1 = 8/2\n  right: H1 = 4\n" in quiz.stdout


def test_w_grades_the_teachers_derivation_whatever_the_sheet_says(tmp_path: Path) -> None:
    sheet = tmp_path / "a.yaml"
    sheet.write_text(write_key(tmp_path).read_text().replace("weights: [xh1]", "weights: [hy1]"))
    assert bp("grade", str(sheet)).exit_code == 2  # hy1's sheet has no H1_new
    assert bp("grade", str(sheet), "-w", "xh1").exit_code == 0


def test_grade_usage_errors(tmp_path: Path) -> None:
    assert bp("grade").exit_code == 2
    missing = bp("grade", str(tmp_path / "none.yaml"))
    assert missing.exit_code == 2 and "none.yaml: no such file" in missing.stderr


# --- round trips: sheet -> filled from `explain --format json` -> 100% ------------------


SIGMOID_222 = """
network:
  inputs: 2
  layers:
    - {units: 2, activation: sigmoid, bias: true,
       weights: [[0.15, 0.25], [0.2, 0.3]], biases: [0.35, 0.35]}
    - {units: 2, activation: sigmoid, bias: true,
       weights: [[0.4, 0.5], [0.45, 0.55]], biases: [0.6, 0.6]}
loss: sse
data:
  inputs: [[0.05, 0.1], [0.5, -0.2]]
  targets: [[0.01, 0.99], [0.2, 0.7]]
training: {eta: 0.5}
"""
SOFTMAX = """
network:
  inputs: 2
  layers:
    - {units: 2, activation: tanh, weights: [[0.5, -0.25], [0.75, 1.0]], biases: [0.1, -0.1]}
    - {units: 3, activation: softmax, weights: [[0.2, -0.4, 0.6], [0.5, 0.1, -0.3]]}
loss: cross_entropy
data:
  inputs: [[1.0, 2.0], [-0.5, 0.5], [0.0, 1.0]]
  targets: [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
training: {eta: 0.1}
"""


def values_from_explain(doc: dict[str, Any], qualify: bool) -> dict[str, Any]:
    """Every quantity `explain --format json` computes, under its sheet name."""

    def value(step: dict[str, Any]) -> Any:
        return step.get("samples", step["value"])

    alias = doc["alias"]
    out: dict[str, Any] = {}
    for key in ("forward", "dL_dy", "factors"):
        out |= {s["symbol"]: value(s) for s in doc[key]}
    for index, path in enumerate(doc["paths"], start=1):
        out[f"path {index} [{alias}]" if qualify else f"path {index}"] = path["product"]
    for layer in doc["deltas"]:
        out |= {s["symbol"]: value(s) for s in layer["steps"]}
    out[doc["delta_form"]["symbol"]] = doc["delta_form"]["value"]
    out[doc["update"]["symbol"]] = doc["update"]["value"]
    for s in doc["after"]["steps"]:
        out[after_name(s["symbol"], alias, qualify)] = value(s)
    return out


@pytest.mark.parametrize(
    ("text", "weights"),
    [(SIGMOID_222, ["xh11", "hy02"]), (SOFTMAX, ["xh21"]), (None, ["xh1", "hh2"])],
    ids=["sigmoid-2-2-2-biases", "softmax-classifier", "spec"],
)
def test_round_trip_through_explain_json(
    tmp_path: Path, text: str | None, weights: list[str]
) -> None:
    config = ROOT / "configs" / "tiny.yaml"
    if text is not None:
        config = tmp_path / "net.yaml"
        config.write_text(text)
    flags = [f for w in weights for f in ("-w", w)]
    blank = yaml.safe_load(bp("sheet", str(config), *flags).stdout)
    filled: dict[str, Any] = {"weights": blank["weights"]}
    known: dict[str, Any] = {}
    for w in weights:
        explained = bp("explain", str(config), "-w", w, "--format", "json")
        known |= values_from_explain(json.loads(explained.stdout), len(weights) > 1)
    for name in blank:
        if name != "weights":
            filled[name] = known[name]
    sheet = tmp_path / "answers.yaml"
    sheet.write_text(yaml.safe_dump(filled, sort_keys=False))
    result = bp("grade", str(config), str(sheet))
    assert result.exit_code == 0, result.stdout
    assert "(100.0%)" in result.stdout and " 0 wrong, 0 missing" in result.stdout


# --- bp quiz ---------------------------------------------------------------------------


SPEC_ANSWERS = ["4", "8", "6", "12", "2", "4", "5", "10", "8", "32", "8", "0.5", "1", "1.5"]


def test_quiz_right_wrong_hints_and_the_final_score() -> None:
    answers = ["4", "7", "7", "7", "six", "6.004"]
    result = bp("quiz", "-w", "xh1", input="\n".join(answers) + "\n")
    assert result.exit_code == 1
    out = result.stdout
    assert out.startswith("bp quiz: dL/dxh1, 35 quantities, one answer per line\n")
    assert "x1 = 2, T = 2\n" in out
    assert "x1 -[xh1]-> A1 -[hh2]-> A22 -[hy2]-> Y\n" in out  # the paths from the weight
    # The network as a table of weights per layer: the row's node feeds the column's node.
    assert "      A21         A22\n  A1  hh1 = 0.75  hh2 = 0.25\n" in out
    assert "xh1 = 2, hh1" not in out  # the weights are in the tables
    assert "H1 = 4\n  right: H1 = 4\n" in out
    assert "A1 = 7\n  not quite: A1 = phi(H1)\n" in out  # the formula in names
    assert "A1 = 7\n  not quite: A1 = phi(H1) = 2 * 4\n" in out  # then with numbers
    assert "A1 = 7\n  A1 = phi(H1) = 2 * 4 = 8\n" in out  # then the value
    assert "H21 = six\n  'six' is not a number\n" in out
    assert "H21 = 6.004\n  right: H21 = 6\n" in out  # 3 significant digits
    assert out.endswith("score: 2/35 right, 32 not asked\n")


def test_quiz_hint_for_a_quantity_named_by_its_formula() -> None:
    # Y - T has no formula besides its name: the first hint is its numbers.
    result = bp("quiz", "-w", "xh1", input="\n".join([*SPEC_ANSWERS[:8], "7", "7"]) + "\n")
    assert (
        "Y - T = 7\n  not quite: Y - T = 10 - 2\nY - T = 7\n  Y - T = 10 - 2 = 8\n" in result.stdout
    )


def test_quiz_on_a_batch_says_how_to_answer_per_sample() -> None:
    result = bp(
        "quiz", "-w", "xh1", "--set", "data.inputs=[[2], [1]]", "--set",
        "data.targets=[[2], [1]]", input="4 2\n",
    )  # fmt: skip
    assert "A value per sample is a list of 2, e.g. 0.5 0.25 ...;\n" in result.stdout
    assert "H1 = 4 2\n  right: H1 = [4, 2]\n" in result.stdout


def test_quiz_an_empty_answer_asks_for_the_next_hint() -> None:
    result = bp("quiz", "-w", "xh1", input="\n\n4\n")
    out = result.stdout
    assert "H1 = \n  not quite: H1 = x1 * xh1\nH1 = \n  not quite: H1 = x1 * xh1 = 2 * 2\n" in out
    assert "H1 = 4\n  right: H1 = 4\n" in out and out.endswith("score: 1/35 right, 34 not asked\n")


def test_quiz_all_right_exits_0(tmp_path: Path) -> None:
    key = yaml.safe_load(write_key(tmp_path).read_text())
    answers = [str(v) for k, v in key.items() if k != "weights"]
    result = bp("quiz", "-w", "xh1", input="\n".join(answers) + "\n")
    assert result.exit_code == 0
    assert result.stdout.endswith("score: 35/35 right\n")


def test_quiz_ctrl_c_prints_the_score_so_far(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = iter(SPEC_ANSWERS[:3])

    def read_line(prompt: str) -> str:
        sys.stdout.write(prompt)
        try:
            return next(lines) + "\n"
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr(quiz_command, "read_line", read_line)
    result = bp("quiz", "-w", "xh1")
    assert result.exit_code == 130
    assert result.stdout.endswith("A21 = \nscore: 3/35 right, 32 not asked\n")


# --- bp exercise -----------------------------------------------------------------------


def test_same_seed_same_files(tmp_path: Path) -> None:
    for folder in ("a", "b", "c"):
        seed = "7" if folder != "c" else "8"
        args = ["exercise", "--seed", seed, "--shape", "2-2-1", "-o", str(tmp_path / folder)]
        assert bp(*args).exit_code == 0
    files = ("exercise.yaml", "sheet.yaml", "key.yaml")
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "exercise.yaml").read_bytes() != (
        tmp_path / "c" / "exercise.yaml"
    ).read_bytes()
    # The key grades 100% against the exercise; the blank sheet asks the same quantities.
    folder = tmp_path / "a"
    key = yaml.safe_load((folder / "key.yaml").read_text())
    blank = yaml.safe_load((folder / "sheet.yaml").read_text())
    assert list(key) == list(blank) and all(v is None for k, v in blank.items() if k != "weights")
    result = bp("grade", str(folder / "exercise.yaml"), str(folder / "key.yaml"))
    assert result.exit_code == 0 and "(100.0%)" in result.stdout


def test_the_key_can_go_elsewhere(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "7.yaml"
    key.parent.mkdir()
    result = bp("exercise", "--seed", "7", "-o", str(tmp_path / "ex"), "--key", str(key))
    assert result.exit_code == 0 and key.exists() and not (tmp_path / "ex" / "key.yaml").exists()


def two_decimals(values: np.ndarray) -> bool:
    return bool(np.allclose(values * 100, np.round(values * 100), rtol=0, atol=1e-9))


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 10**6),
    st.sampled_from(sorted(exercises.SHAPES)),
    st.sampled_from(exercises.ACTIVATIONS),
)
def test_exercises_stay_hand_friendly(seed: int, shape: str, activation: str) -> None:
    ex = exercises.generate(seed, shape, activation)
    assert ex.config_text() == exercises.generate(seed, shape, activation).config_text()
    assert all(two_decimals(W) for W in ex.W) and two_decimals(ex.X) and two_decimals(ex.T)
    assert all(np.all(np.abs(W) <= 2) for W in ex.W) and ex.eta in exercises.ETAS
    d = ex.derivation()
    values = [np.asarray(q.expected) for q in d.quantities]
    assert all(np.all(np.abs(v) <= exercises.MAX_MAGNITUDE) for v in values)
    assert abs(float(d.quantity(f"dL/d{ex.alias}").expected)) >= exercises.MIN_GRADIENT
    if activation in ("linear", "relu"):
        for q in d.quantities:
            for v in np.asarray(q.expected).reshape(-1):
                assert float(f"{v:.4g}") == pytest.approx(v, rel=1e-9, abs=1e-12), q.name


# --- docs/grading.md -------------------------------------------------------------------


def test_the_docs_commands_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (ROOT / "docs" / "grading.md").read_text()
    commands = [  # console blocks (tests/test_docs.py runs them too, as shell lines)
        re.sub(r"\s+# exits \d+$", "", line.removeprefix("$ "))
        for block in re.findall(r"```console\n(.*?)```", doc, re.S)
        for line in block.strip().splitlines()
        if line.startswith("$ ")
    ]
    assert len(commands) >= 10
    for name in ("docs/grading-answers.yaml", "configs/tiny.yaml"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    for line in commands:
        stdin = None
        if line.startswith("printf "):
            printed, line = line.split(" | ")
            stdin = shlex.split(printed)[1].replace("\\n", "\n")
        words = shlex.split(line)
        assert words[0] == "bp", line
        result = runner.invoke(app, words[1:], input=stdin)
        expected = 1 if words[1] == "quiz" or "grading-answers" in line else 0
        assert result.exit_code == expected, (line, result.output)
    assert Path("results.json").exists() and Path("exercises/1234/exercise.md").exists()


def test_the_docs_report_is_what_bp_prints() -> None:
    doc = (ROOT / "docs" / "grading.md").read_text()
    shown = re.search(r"```text\n(first wrong step.*?)```", doc, re.S)
    assert shown is not None
    out = bp("grade", str(ROOT / "docs" / "grading-answers.yaml")).stdout
    for line in shown[1].splitlines():
        if line != "...":
            assert line + "\n" in out, line


def test_the_latex_statement_compiles(tmp_path: Path) -> None:
    body = bp("sheet", "-w", "xh1", "-w", "hy2", "--format", "latex").stdout
    document = "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
    (tmp_path / "handout.tex").write_text(document + body + "\\end{document}\n")
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "handout.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert (tmp_path / "handout.pdf").stat().st_size > 1000
