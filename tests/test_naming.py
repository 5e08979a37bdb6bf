"""Weight names (SPEC §4) on the reference example and the source's general 2-2-2-1 net.

Every form resolves to its canonical name in the core and through `bp show -w`,
`bp grads -w` and `bp explain -w`; unknown names exit 2 listing the closest names.
The resolver's "ambiguous" branch cannot be reached by SPEC §4 names: the prefixes
(xh, hh / h1h2 ..., hy, xy) never overlap and a short form is only read on the
side with one node; names a human might find ambiguous (``hh2`` where both
layers have two nodes) are rejected as unknown, with suggestions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backprop_core.errors import WeightNameError
from backprop_core.run.experiment import load_experiment
from cli.app import app

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent
PLAIN = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}

# The derivation's general network: 2 inputs, two hidden layers of 2, one output, biases.
GENERAL = """\
network:
  inputs: 2
  init: zeros
  layers:
    - {units: 2, activation: sigmoid}
    - {units: 2, activation: sigmoid}
    - {units: 1, activation: linear}
data: {inputs: [[1.0, 2.0]], targets: [[1.0]]}
"""

TINY_FORMS = {
    # short forms, as in the derivation
    "xh1": "w1_1_1",
    "hh1": "w2_1_1",
    "hh2": "w2_1_2",
    "hy1": "w3_1_1",
    "hy2": "w3_2_1",
    # two indices i, j, with and without underscores
    "xh11": "w1_1_1",
    "hh11": "w2_1_1",
    "hh12": "w2_1_2",
    "hy11": "w3_1_1",
    "hy21": "w3_2_1",
    "xh_11": "w1_1_1",
    "hh_12": "w2_1_2",
    "hy_21": "w3_2_1",
    "hh_1_2": "w2_1_2",
    # canonical
    "w1_1_1": "w1_1_1",
    "w2_1_2": "w2_1_2",
    "w3_2_1": "w3_2_1",
}

GENERAL_FORMS = {
    "xh_11": "w1_1_1",
    "xh11": "w1_1_1",
    "xh_1_2": "w1_1_2",
    "xh21": "w1_2_1",
    "xh01": "w1_0_1",
    "xh_02": "w1_0_2",
    "hh_01": "w2_0_1",
    "hh01": "w2_0_1",
    "hh_0_2": "w2_0_2",
    "hh22": "w2_2_2",
    "hy_21": "w3_2_1",
    "hy21": "w3_2_1",
    "hy2": "w3_2_1",
    "hy1": "w3_1_1",
    "hy01": "w3_0_1",
    "hy_0_1": "w3_0_1",
    "w3_2_1": "w3_2_1",
    "w1_0_2": "w1_0_2",
    "w2_1_2": "w2_1_2",
}

TINY_ALIASES = {"w1_1_1": "xh1", "w2_1_1": "hh1", "w2_1_2": "hh2", "w3_1_1": "hy1", "w3_2_1": "hy2"}
GENERAL_ALIASES = {
    "w1_0_1": "xh01",
    "w1_1_1": "xh11",
    "w2_0_1": "hh01",
    "w2_2_1": "hh21",
    "w3_0_1": "hy01",
    "w3_2_1": "hy2",
}


@pytest.fixture
def general(tmp_path: Path) -> Path:
    path = tmp_path / "general.yaml"
    path.write_text(GENERAL)
    return path


def run(*args: str):
    return runner.invoke(app, list(args), env=PLAIN)


@pytest.mark.parametrize(("name", "canonical"), sorted(TINY_FORMS.items()))
def test_tiny_forms_resolve(name: str, canonical: str) -> None:
    assert load_experiment(None, []).names.resolve(name).canonical == canonical


@pytest.mark.parametrize(("name", "canonical"), sorted(GENERAL_FORMS.items()))
def test_general_forms_resolve(general: Path, name: str, canonical: str) -> None:
    assert load_experiment(general, []).names.resolve(name).canonical == canonical


def test_aliases_are_the_derivations_names(general: Path) -> None:
    tiny = load_experiment(None, [])
    assert {w.canonical: tiny.names.alias(w) for w in tiny.names.all_ids()} == TINY_ALIASES
    net = load_experiment(general, [])
    aliases = {w.canonical: net.names.alias(w) for w in net.names.all_ids()}
    assert {k: aliases[k] for k in GENERAL_ALIASES} == GENERAL_ALIASES
    assert len(aliases) == 15


def test_every_form_through_every_command(general: Path) -> None:
    forms = list(TINY_FORMS)
    show = json.loads(run("show", *[a for f in forms for a in ("-w", f)], "--json").stdout)
    # Repeated forms of one weight list it once, in first-named order.
    assert [w["name"] for w in show["weights"]] == list(dict.fromkeys(TINY_FORMS.values()))
    grads = json.loads(run("grads", str(general), "-w", "hh_01", "-w", "hy_21", "--json").stdout)
    assert [(w["name"], w["alias"]) for w in grads["weights"]] == [
        ("w2_0_1", "hh01"),
        ("w3_2_1", "hy2"),
    ]
    for name in ("xh_11", "hh_01", "hy_21", "w3_2_1"):
        result = run("explain", str(general), "-w", name, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["weight"] == GENERAL_FORMS[name]


UNKNOWN = [
    # (config, name, stderr)
    (None, "hy3", "error: unknown weight name 'hy3' (closest: hy2, hy1)\n"),
    (None, "xh2", "error: unknown weight name 'xh2' (closest: xh1, hy2, hh2)\n"),
    (None, "xh01", "error: unknown weight name 'xh01' (closest: xh1, hy1, hh1)\n"),
    (
        None,
        "w4_1_1",
        "error: unknown weight name 'w4_1_1' (closest: w3_1_1, w2_1_1, w1_1_1, w2_1_2, w3_2_1)\n",
    ),
    (None, "XH1", "error: unknown weight name 'XH1' (closest: w1_1_1, xh1, w2_1_1)\n"),
    # "hh2" on 2-2-2-1: both layers have two nodes, so one index cannot name a weight.
    ("general", "hh2", "error: unknown weight name 'hh2' (closest: hh22, hh21, hh12, hh02, hy2)\n"),
    # bias weights never have a short form
    ("general", "hy0", "error: unknown weight name 'hy0' (closest: hy01, hy2, hy1, xh02, xh01)\n"),
]


@pytest.mark.parametrize(("config", "name", "stderr"), UNKNOWN)
@pytest.mark.parametrize("command", ["explain", "grads", "show"])
def test_unknown_names_exit_2_with_the_closest(
    general: Path, command: str, config: str | None, name: str, stderr: str
) -> None:
    args = [command] + ([str(general)] if config else []) + ["-w", name]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr == stderr
    assert result.stdout == ""


def test_no_spec_name_is_ambiguous(general: Path) -> None:
    # Every alias and canonical name of both networks names exactly one weight.
    for path in (None, general):
        names = load_experiment(path, []).names
        for w in names.all_ids():
            for name in (w.canonical, names.alias(w)):
                assert names.resolve(name) == w
    with pytest.raises(WeightNameError, match="unknown weight name 'hh2'"):
        load_experiment(general, []).names.resolve("hh2")
