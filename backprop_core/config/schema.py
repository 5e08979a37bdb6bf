"""The JSON Schema of a config file, generated from the pydantic `Config` model.

Editors (the YAML language server, VS Code, JetBrains) use it to complete keys
and flag mistakes while typing. pydantic describes the model after validation;
a few keys also accept a shorthand that a before-validator expands (``sigmoid``
for ``{name: sigmoid}``, a bare number for a one-value row, ``batch_size:
full``). `config_schema` widens exactly those places, so every config that
`bp check` accepts also passes the schema.
"""

from __future__ import annotations

import copy
from typing import Any

from backprop_core.config.model import Config

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Shown by editors on hover, for the top-level keys.
DESCRIPTIONS = {
    "name": "Shown in output.",
    "seed": "All randomness (init, shuffling, generators, split) derives from it.",
    "network": "Inputs, init scheme and layers (hidden layers first, output layer last).",
    "loss": "sse | mse | cross_entropy (softmax output) | bce (sigmoid output).",
    "data": "Exactly one source: inputs + targets, file, or generate.",
    "training": "eta, epochs, batch_size, optimizer, freeze, stop_at_loss.",
    "trained": "Written by `bp train --save`: what produced these weights.",
}


def config_schema() -> dict[str, Any]:
    """The schema as a JSON-ready dict (draft 2020-12)."""
    schema = copy.deepcopy(Config.model_json_schema())
    defs = schema["$defs"]
    # `activation: sigmoid` and `optimizer: adam` mean {name: ...}.
    for name in ("ActivationSpec", "OptimizerSpec"):
        obj = defs[name]
        defs[name] = {
            "anyOf": [{"type": "string", "enum": obj["properties"]["name"]["enum"]}, obj],
            "title": obj.get("title", name),
        }
    # A bare number is a row of width 1: inputs: [1, 2] means [[1], [2]].
    data = defs["DataSpec"]["properties"]
    for key in ("inputs", "targets"):
        rows = next(s for s in data[key]["anyOf"] if s.get("type") == "array")
        row = rows["items"]
        rows["items"] = {"anyOf": [row, *_as_list(row["items"])]}
    # `targets: species` is one column.
    targets = defs["FileSource"]["properties"]["targets"]
    targets["anyOf"].insert(0, {"type": "string"})
    defs["TrainingSpec"]["properties"]["batch_size"] = {
        "anyOf": [{"const": "full"}, {"type": "integer", "minimum": 1}],
        "default": "full",
        "title": "Batch Size",
        "description": "full, or rows per update (1 = online); above the row count: full.",
    }
    for key, text in DESCRIPTIONS.items():
        schema["properties"][key].setdefault("description", text)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "bp config",
        "description": "A bp config file: network, loss, data and training.",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def _as_list(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of one cell schema: itself, or the members of its anyOf."""
    return list(item["anyOf"]) if "anyOf" in item else [item]
