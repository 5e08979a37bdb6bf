"""`bp schema`: the JSON Schema of the config, generated from the pydantic model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from backprop_core.config.model import Config
from backprop_core.engine.activations import ACTIVATIONS
from cli.app import app

jsonschema = pytest.importorskip("jsonschema")
runner = CliRunner()
CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))


@pytest.fixture(scope="module")
def schema() -> dict:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def validator(schema: dict):  # type: ignore[no-untyped-def]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_is_valid_draft_2020_12_and_comes_from_the_model(schema: dict) -> None:
    validator(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == set(Config.model_fields)
    assert schema["required"] == ["network", "data"]
    assert schema["additionalProperties"] is False
    names = schema["$defs"]["ActivationSpec"]["anyOf"][0]["enum"]
    assert names == list(ACTIVATIONS)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_passes_the_schema(schema: dict, path: Path) -> None:
    errors = list(validator(schema).iter_errors(yaml.safe_load(path.read_text())))
    assert errors == []


def test_shorthands_bp_accepts_pass_the_schema(schema: dict) -> None:
    doc = {
        "network": {
            "inputs": 1,
            "layers": [
                {"units": 2, "activation": "tanh"},
                {"units": 1, "activation": {"name": "linear"}},
            ],
        },
        "data": {"inputs": [1.0, 2.0], "targets": [[1.0], 2.0]},
        "training": {"batch_size": "full", "optimizer": "adam"},
    }
    assert list(validator(schema).iter_errors(doc)) == []
    doc["training"] = {"batch_size": 2, "optimizer": {"name": "momentum", "momentum": 0.5}}
    assert list(validator(schema).iter_errors(doc)) == []


@pytest.mark.parametrize(
    ("patch", "where"),
    [
        ({"trainig": {}}, "additionalProperties"),
        ({"training": {"batch_size": 0}}, "anyOf"),
        ({"training": {"batch_size": "half"}}, "anyOf"),
        ({"training": {"eta": 0}}, "exclusiveMinimum"),
        ({"loss": "l2"}, "enum"),
        ({"network": {"inputs": 1, "layers": []}}, "minItems"),
        ({"network": {"inputs": 1, "layers": [{"units": 1, "activation": "tahn"}]}}, "anyOf"),
    ],
)
def test_mistakes_fail_the_schema(schema: dict, patch: dict, where: str) -> None:
    doc = {
        "network": {"inputs": 1, "layers": [{"units": 1}]},
        "data": {"inputs": [1.0], "targets": [1.0]},
        **patch,
    }
    errors = list(validator(schema).iter_errors(doc))
    assert [e.validator for e in errors] == [where]


def test_output_file_is_written(tmp_path: Path, schema: dict) -> None:
    target = tmp_path / "bp.schema.json"
    result = runner.invoke(app, ["schema", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == f"wrote {target}\n"
    assert json.loads(target.read_text()) == schema


def test_output_into_a_missing_folder_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "s.json"
    result = runner.invoke(app, ["schema", "-o", str(target)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {target}: cannot write: the folder does not exist\n"


def test_a_fresh_process_writes_the_schema() -> None:
    # In-process tests may have built the deferred validators already; a fresh
    # `bp schema` must build what encoding the nested defaults needs by itself.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "from cli.app import main; main()", "schema"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["title"] == "bp config"
