"""One YAML reading for bp, the schema and editors (YAML 1.2), and a schema that describes
every key (issue 16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backprop_core.config.model import Config
from backprop_core.config.schema import config_schema
from backprop_core.config.yaml_source import read_text
from cli.app import app

jsonschema = pytest.importorskip("jsonschema")
ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def values(text: str) -> Any:
    return read_text(text, "t.yaml", Path(".")).data


def test_plain_scalars_read_as_yaml_1_2() -> None:
    doc = values("a: [no, yes, on, off, true, False, 017, 0x1F, 0o17, 1e-3, 1_000, 2024-01-01]")
    assert doc["a"] == [
        "no",
        "yes",
        "on",
        "off",
        True,
        False,
        17,
        31,
        15,
        0.001,
        "1_000",
        "2024-01-01",
    ]


def test_yes_no_labels_are_text_classes(tmp_path: Path) -> None:
    config = tmp_path / "yn.yaml"
    config.write_text(
        "network: {inputs: 1, layers: [{units: 2, activation: softmax}]}\n"
        "loss: cross_entropy\n"
        "data: {inputs: [0, 1], targets: [no, yes]}\n"
    )
    result = CliRunner().invoke(app, ["check", str(config), "--json"])
    assert result.exit_code == 0, result.output
    assert '"no",\n      "yes"' in result.stdout


@pytest.mark.parametrize(("written", "meant"), [("yes", "true"), ("off", "false"), ("On", "true")])
def test_a_yaml_1_1_boolean_says_what_to_write(tmp_path: Path, written: str, meant: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "network: {inputs: 1, layers: [{units: 1}]}\ndata: {inputs: [1], targets: [1]}\n"
        f"training:\n  shuffle: {written}\n"
    )
    result = CliRunner().invoke(app, ["check", str(config)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {config}:4: training.shuffle: expected true or false, got '{written}': bp reads "
        f"YAML 1.2, where {written} is text, not a boolean; write {meant}\n"
    )


def properties(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every (path, schema) of a mapping key anywhere in the schema."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for key, sub in node.get("properties", {}).items():
            found.append((f"{path}.{key}", sub))
        for key, sub in node.items():
            found += properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for sub in node:
            found += properties(sub, path)
    return found


def test_every_key_has_a_description_and_its_default() -> None:
    schema = config_schema()
    keys = properties(schema)
    assert len(keys) == 56
    assert [path for path, sub in keys if not sub.get("description")] == []
    # Defaults come from the model; editors show them.
    training = schema["$defs"]["TrainingSpec"]["properties"]
    assert training["eta"]["default"] == 0.1 and training["eta"]["examples"] == [0.03, 0.01]
    assert schema["properties"]["seed"]["default"] == 0
    assert set(schema["properties"]) == set(Config.model_fields)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_as_bp_reads_it_passes_the_schema(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(config_schema())
    assert list(validator.iter_errors(values(path.read_text()))) == []
