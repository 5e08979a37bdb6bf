"""Bad configs: each exits 2 with one line naming file, line, key path and what was expected.

Every case is a small edit of BASE (line numbers below are BASE's), run through
`bp check` with CliRunner. The table backs docs/reliability.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()

BASE = """\
name: t
seed: 0
network:
  inputs: 2
  init: xavier
  layers:
    - units: 3
      activation: tanh
    - units: 1
      activation: sigmoid
loss: bce
data:
  inputs: [[0, 0], [0, 1], [1, 0], [1, 1]]
  targets: [0, 1, 1, 0]
training:
  eta: 0.5
  epochs: 5
  batch_size: full
  optimizer: sgd
"""


def edit(**lines: str) -> str:
    """BASE with line N replaced (`l7="    - units: -3"`); an empty string deletes it."""
    out = BASE.splitlines()
    for name, text in sorted(lines.items(), key=lambda kv: -int(kv[0][1:])):
        n = int(name[1:]) - 1
        out[n : n + 1] = text.splitlines() if text else []
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    line: int | None  # None: no line (a --set override, or the file as a whole)
    key: str | None
    expected: str  # a part of the message after the key path
    args: tuple[str, ...] = ()


CASES = [
    # --- network.layers[*]: nested list items --------------------------------------
    Case(
        "units negative",
        edit(l7="    - units: -3"),
        7,
        "network.layers[0].units",
        "expected a positive integer, got -3",
    ),
    Case(
        "units zero",
        edit(l9="    - units: 0"),
        9,
        "network.layers[1].units",
        "expected a positive integer, got 0",
    ),
    Case(
        "units fractional",
        edit(l7="    - units: 1.5"),
        7,
        "network.layers[0].units",
        "expected an integer, got 1.5",
    ),
    Case(
        "units quoted",
        edit(l7='    - units: "3"'),
        7,
        "network.layers[0].units",
        "expected an integer, got '3'",
    ),
    Case(
        "units boolean",
        edit(l7="    - units: true"),
        7,
        "network.layers[0].units",
        "expected an integer, got true",
    ),
    Case(
        "activation misspelt",
        edit(l8="      activation: tahn"),
        8,
        "network.layers[0].activation",
        "got 'tahn' (did you mean 'tanh'?)",
    ),
    Case(
        "activation parameter not taken",
        edit(l8="      activation: {name: relu, slope: 2}"),
        8,
        "network.layers[0].activation",
        "relu takes no parameters, not slope",
    ),
    Case(
        "activation wrong parameter",
        edit(l8="      activation: {name: linear, alpha: 1}"),
        8,
        "network.layers[0].activation",
        "linear takes slope, not alpha",
    ),
    Case(
        "activation a list",
        edit(l8="      activation: [relu]"),
        8,
        "network.layers[0].activation",
        "expected an activation name or a mapping",
    ),
    Case(
        "activation parameter not a number",
        edit(l8="      activation: {name: linear, slope: x}"),
        8,
        "network.layers[0].activation.slope",
        "expected a number, got 'x'",
    ),
    Case(
        "layer key misspelt",
        edit(l8="      activaton: tanh"),
        8,
        "network.layers[0].activaton",
        "unknown key 'activaton' (did you mean 'activation'?)",
    ),
    Case(
        "layer without units",
        edit(l7="    - activation: tanh", l8=""),
        7,
        "network.layers[0]",
        "missing required key 'units'",
    ),
    Case(
        "no layers",
        edit(l6="  layers: []", l7="", l8="", l9="", l10=""),
        6,
        "network.layers",
        "expected at least 1 item, got []",
    ),
    Case(
        "layers a mapping",
        edit(l6="  layers: {units: 1}", l7="", l8="", l9="", l10=""),
        6,
        "network.layers",
        "expected a list, got {'units': 1}",
    ),
    Case(
        "bias not boolean",
        edit(l8="      activation: tanh\n      bias: 1"),
        9,
        "network.layers[0].bias",
        "expected true or false, got 1",
    ),
    Case(
        "weights wrong shape",
        edit(l8="      activation: tanh\n      weights: [[1, 2]]"),
        9,
        "network.layers[0].weights",
        "expected 2 rows (source nodes) of 3 values",
    ),
    Case(
        "weight not a number",
        edit(l8="      activation: tanh\n      weights: [[1, 2, 3], [4, five, 6]]"),
        9,
        "network.layers[0].weights[1][1]",
        "expected a number, got 'five'",
    ),
    Case(
        "weight NaN",
        edit(l8="      activation: tanh\n      weights: [[1, 2, 3], [4, .nan, 6]]"),
        9,
        "network.layers[0].weights[1][1]",
        "expected a finite number, got .nan",
    ),
    Case(
        "weight row not a list",
        edit(l8="      activation: tanh\n      weights: [[1, 2, 3], 4]"),
        9,
        "network.layers[0].weights[1]",
        "expected a list, got 4",
    ),
    Case(
        "biases with bias false",
        edit(l8="      activation: tanh\n      bias: false\n      biases: [0, 0, 0]"),
        10,
        "network.layers[0].biases",
        "biases given but the layer has bias: false",
    ),
    Case(
        "biases wrong length",
        edit(l8="      activation: tanh\n      biases: [0, 0]"),
        9,
        "network.layers[0].biases",
        "expected 3 values, got 2",
    ),
    Case(
        "softmax on a hidden layer",
        edit(l8="      activation: softmax"),
        8,
        "network.layers[0].activation",
        "softmax is only allowed on the output layer",
    ),
    # --- network ----------------------------------------------------------------
    Case(
        "inputs zero",
        edit(l4="  inputs: 0"),
        4,
        "network.inputs",
        "expected a positive integer, got 0",
    ),
    Case("inputs missing", edit(l4=""), 3, "network", "missing required key 'inputs'"),
    Case(
        "init unknown",
        edit(l5="  init: glorot"),
        5,
        "network.init",
        "expected one of 'xavier', 'he', 'normal', 'uniform' or 'zeros', got 'glorot'",
    ),
    Case(
        "network key misspelt",
        edit(l5="  inti: xavier"),
        5,
        "network.inti",
        "unknown key 'inti' (did you mean 'init'?)",
    ),
    Case(
        "standardization wrong length",
        edit(l5="  init: xavier\n  standardization: {mean: [0], std: [1]}"),
        6,
        "network.standardization.mean",
        "expected 2 values",
    ),
    # --- loss and output pairing ---------------------------------------------------
    Case("loss unknown", edit(l11="loss: l2"), 11, "loss", "got 'l2'"),
    Case(
        "bce needs sigmoid",
        edit(l10="      activation: tanh"),
        11,
        "loss",
        "bce needs a sigmoid output layer, but the output is tanh",
    ),
    Case(
        "cross_entropy needs softmax",
        edit(l11="loss: cross_entropy"),
        11,
        "loss",
        "cross_entropy needs a softmax output layer, but the output is sigmoid",
    ),
    Case(
        "softmax output needs cross_entropy",
        edit(l10="      activation: softmax", l11="loss: sse"),
        10,
        "network.layers[1].activation",
        "softmax output needs loss cross_entropy",
    ),
    # --- data --------------------------------------------------------------------
    Case("data missing", edit(l12="", l13="", l14=""), 1, None, "missing required key 'data'"),
    Case(
        "two data sources",
        edit(l14="  targets: [0, 1, 1, 0]\n  generate: {name: xor}"),
        12,
        "data",
        "expected exactly one data source",
    ),
    Case(
        "inputs without targets",
        edit(l14=""),
        12,
        "data",
        "inline data needs both inputs and targets",
    ),
    Case(
        "input cell not a number",
        edit(l13="  inputs: [[0, 0], [0, one], [1, 0], [1, 1]]"),
        13,
        "data.inputs[1][1]",
        "expected a number, got 'one'",
    ),
    Case(
        "generator unknown",
        edit(l13="  generate: {name: xorr}", l14=""),
        13,
        "data.generate.name",
        "got 'xorr' (did you mean 'xor'?)",
    ),
    Case(
        "generator samples zero",
        edit(l13="  generate: {name: xor, samples: 0}", l14=""),
        13,
        "data.generate.samples",
        "expected a positive integer, got 0",
    ),
    Case(
        "generator noise negative",
        edit(l13="  generate: {name: xor, noise: -1}", l14=""),
        13,
        "data.generate.noise",
        "expected a number >= 0, got -1",
    ),
    Case(
        "validation fraction 1.5",
        edit(l14="  targets: [0, 1, 1, 0]\n  validation: 1.5"),
        15,
        "data.validation",
        "expected a number < 1, got 1.5",
    ),
    Case(
        "file source key misspelt",
        edit(l13="  file: {paht: x.csv}", l14=""),
        13,
        "data.file.paht",
        "unknown key 'paht' (did you mean 'path'?)",
    ),
    # --- training ------------------------------------------------------------------
    Case("eta zero", edit(l16="  eta: 0"), 16, "training.eta", "expected a number > 0, got 0"),
    Case(
        "eta negative",
        edit(l16="  eta: -0.1"),
        16,
        "training.eta",
        "expected a number > 0, got -0.1",
    ),
    Case(
        "eta a word", edit(l16="  eta: fast"), 16, "training.eta", "expected a number, got 'fast'"
    ),
    Case(
        "eta infinite",
        edit(l16="  eta: .inf"),
        16,
        "training.eta",
        "expected a finite number, got .inf",
    ),
    Case(
        "epochs zero",
        edit(l17="  epochs: 0"),
        17,
        "training.epochs",
        "expected a positive integer, got 0",
    ),
    Case(
        "epochs fractional",
        edit(l17="  epochs: 2.5"),
        17,
        "training.epochs",
        "expected an integer, got 2.5",
    ),
    Case(
        "batch_size zero",
        edit(l18="  batch_size: 0"),
        18,
        "training.batch_size",
        "expected 'full' or a positive integer, got 0",
    ),
    Case(
        "batch_size a word",
        edit(l18="  batch_size: half"),
        18,
        "training.batch_size",
        "expected 'full' or a positive integer, got 'half'",
    ),
    Case(
        "optimizer misspelt",
        edit(l19="  optimizer: adamm"),
        19,
        "training.optimizer",
        "got 'adamm' (did you mean 'adam'?)",
    ),
    Case(
        "optimizer parameter it ignores",
        edit(l19="  optimizer: {name: sgd, momentum: 0.9}"),
        19,
        "training.optimizer",
        "optimizer sgd takes no parameters, not momentum",
    ),
    Case(
        "momentum out of range",
        edit(l19="  optimizer: {name: momentum, momentum: 1.5}"),
        19,
        "training.optimizer.momentum",
        "expected a number < 1, got 1.5",
    ),
    Case(
        "freeze unknown weight",
        edit(l19="  optimizer: sgd\n  freeze: [xh11, w9_9_9]"),
        20,
        "training.freeze[1]",
        "unknown weight name 'w9_9_9'",
    ),
    Case(
        "freeze not a list",
        edit(l19="  optimizer: sgd\n  freeze: 7"),
        20,
        "training.freeze",
        "expected a list, got 7",
    ),
    Case(
        "stop_at_loss negative",
        edit(l19="  optimizer: sgd\n  stop_at_loss: -1"),
        20,
        "training.stop_at_loss",
        "expected a number >= 0, got -1",
    ),
    Case(
        "precision unknown",
        edit(l19="  optimizer: sgd\n  precision: float16"),
        20,
        "training.precision",
        "got 'float16'",
    ),
    Case(
        "training key misspelt",
        edit(l19="  optimizer: sgd\n  shufle: false"),
        20,
        "training.shufle",
        "unknown key 'shufle' (did you mean 'shuffle'?)",
    ),
    # --- top level ---------------------------------------------------------------
    Case(
        "top-level key misspelt",
        edit(l15="trainig:"),
        15,
        "trainig",
        "unknown key 'trainig' (did you mean 'training'?)",
    ),
    Case(
        "seed negative", edit(l2="seed: -1"), 2, "seed", "expected a non-negative integer, got -1"
    ),
    Case("name not a string", edit(l1="name: [1, 2]"), 1, "name", "expected a string, got [1, 2]"),
    Case(
        "checkpoint record bad",
        edit(l1="name: t\ntrained: {epochs: -2}"),
        2,
        "trained.epochs",
        "expected a non-negative integer, got -2",
    ),
    # --- YAML itself ---------------------------------------------------------------
    Case("duplicate key", edit(l17="  epochs: 5\n  eta: 0.1"), 18, "training.eta", "duplicate key"),
    Case(
        "unclosed bracket",
        edit(l13="  inputs: [[0, 0], [0, 1]"),
        14,
        None,
        "YAML syntax error at column",
    ),
    Case("bad indentation", edit(l17="   epochs: 5"), 17, None, "YAML syntax error at column"),
    Case(
        "python object tag",
        edit(l1="name: !!python/object/apply:os.system [echo hi]"),
        1,
        "name",
        "tag !!python/object/apply:os.system is not allowed",
    ),
    Case("not a mapping", "- 1\n- 2\n", 1, None, "expected a mapping of config keys, got list"),
    Case("empty file", "", 1, None, "expected a mapping of config keys, got an empty file"),
    # --- --set overrides name the option instead of a line ------------------------
    Case(
        "--set bad value",
        BASE,
        None,
        "training.eta",
        "expected a number > 0, got 0",
        ("--set", "training.eta=0"),
    ),
    Case("--set without =", BASE, None, None, "expected key.path=value", ("--set", "training.eta")),
    Case(
        "--set into a list item that is not there",
        BASE,
        None,
        "network.layers[5]",
        "no such list item",
        ("--set", "network.layers[5].units=2"),
    ),
]


def test_the_table_has_at_least_40_cases() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_config(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open("c.yaml", "w", encoding="utf-8") as f:
        f.write(case.text)
    result = runner.invoke(app, ["check", "c.yaml", *case.args])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) >= 1, result.stderr
    message = lines[0]
    if case.args and case.args[0] == "--set":
        where = f"error: --set {case.args[1]}: "
    else:
        where = f"error: c.yaml:{case.line}: " if case.line is not None else "error: c.yaml: "
    prefix = where + (f"{case.key}: " if case.key else "")
    assert message.startswith(prefix), message
    assert case.expected in message[len(prefix) :], message
    assert "Traceback" not in result.output


def test_every_schema_problem_is_listed_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(edit(l2="seed: -1", l7="    - units: 0", l16="  eta: 0", l17="  epochs: x"))
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2, result.output
    keys = [line.split(": ")[2] for line in result.stderr.splitlines()]
    assert keys == ["seed", "network.layers[0].units", "training.eta", "training.epochs"]
