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

from pydantic import BaseModel

from backprop_core.config.model import Config, Strict

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Shown by editors on hover: every key of every mapping, as docs/config.md
# describes it: model -> key -> (description, examples). pydantic adds defaults.
KEYS: dict[str, dict[str, tuple[str, list[Any]]]] = {
    "Config": {
        "name": ("Shown in output and in saved checkpoints.", ["iris"]),
        "seed": (
            "All randomness (initial weights, shuffling, generated data, the validation "
            "split) derives from it: the same config and seed give bit-identical results.",
            [0, 5],
        ),
        "network": ("Inputs, init scheme and layers (hidden layers first, output last).", []),
        "loss": (
            "sse (1/2 sum (Y-T)^2, the derivation's) | mse | cross_entropy (softmax output) "
            "| bce (sigmoid output).",
            ["sse", "cross_entropy"],
        ),
        "data": ("Exactly one source: inputs + targets, file, or generate.", []),
        "training": ("eta, epochs, batch_size, optimizer, freeze, stop_at_loss.", []),
        "trained": ("Written by `bp train --save`: what produced these weights.", []),
    },
    "NetworkSpec": {
        "inputs": ("Width of X: one per input column.", [1, 4]),
        "init": (
            "Initial weights of layers without explicit weights: xavier U(-l, l), "
            "l = sqrt(6/(fan_in+fan_out)) | he N(0, 2/fan_in) | normal N(0, 0.01) "
            "| uniform U(-0.5, 0.5) | zeros.",
            ["xavier", "he"],
        ),
        "layers": ("Hidden layers first, the output layer last.", []),
        "weights_file": (
            "Written by --save above 10,000 weights: an .npz beside the config with W1, b1, ...",
            ["trained.weights.npz"],
        ),
        "standardization": (
            "Written by --save with data.standardize: the training split's mean and std.",
            [],
        ),
        "classes": ("Written by --save for classifiers: class names in output order.", []),
    },
    "LayerSpec": {
        "units": ("Nodes in this layer.", [1, 16]),
        "activation": (
            "A name, or a mapping with parameters: linear (slope) | sigmoid | tanh | relu "
            "| leaky_relu (alpha) | softplus | softmax (output layer, cross_entropy only).",
            ["sigmoid", {"name": "linear", "slope": 2}],
        ),
        "bias": ("Whether the layer has bias weights w_0j (from the bias node O_0 = 1).", [False]),
        "weights": (
            "Explicit weights: rows = source node i (1..), columns = destination node j.",
            [[[2.0]]],
        ),
        "biases": ("Explicit bias weights w_0j, one per node.", [[0.0]]),
    },
    "ActivationSpec": {
        "name": ("The activation function.", ["tanh"]),
        "slope": ("linear only: phi(H) = slope * H (default 1).", [2]),
        "alpha": ("leaky_relu only: the slope below 0 (default 0.01).", [0.01]),
    },
    "Standardization": {
        "mean": ("Per input column, from the training split.", []),
        "std": ("Per input column, from the training split.", []),
    },
    "DataSpec": {
        "inputs": ("Inline input rows; a bare number is a row of width 1.", [[[0, 0], [0, 1]]]),
        "targets": (
            "Inline target rows; one label column with cross_entropy is one-hot encoded.",
            [[0, 1], ["setosa", "virginica"]],
        ),
        "file": ("A CSV (header row required) or .npz file (arrays X and T).", []),
        "generate": ("A seeded generated data set.", [{"name": "xor", "samples": 200}]),
        "validation": (
            "Held-out fraction of the rows: seeded, stratified by class for classifiers.",
            [0.2],
        ),
        "standardize": (
            "Scale inputs to zero mean, unit variance with training-split statistics "
            "(saved with the model).",
            [True],
        ),
    },
    "FileSource": {
        "path": ("Relative to the config file's folder.", ["data/iris.csv"]),
        "targets": ("Target column name(s); default: the last column.", [["species"]]),
        "inputs": ("Input column names; default: every column that is not a target.", []),
    },
    "GenerateSource": {
        "name": ("xor | circles | moons | spiral | sine.", ["spiral"]),
        "samples": ("Number of rows drawn.", [200]),
        "noise": ("Standard deviation of the noise added.", [0.1]),
        "classes": ("spiral only: number of arms (classes).", [3]),
    },
    "TrainingSpec": {
        "eta": ("Learning rate: w_new = w_old - eta * dL/dw.", [0.03, 0.01]),
        "epochs": ("Passes over the training data.", [10, 500]),
        "batch_size": (
            "full, or rows per update (1 = online); above the row count: a warning, then full.",
            ["full", 32],
        ),
        "shuffle": ("Reshuffle the mini-batches each epoch (seeded).", [True]),
        "optimizer": (
            "sgd | momentum | adam, or a mapping with parameters.",
            ["adam", {"name": "momentum", "momentum": 0.9}],
        ),
        "freeze": (
            "Weight names not updated (any form bp show lists); the word biases freezes "
            "every bias.",
            [["hh1", "hy2"], ["biases"]],
        ),
        "stop_at_loss": ("Stop early when an epoch's training loss reaches this.", [0.001]),
        "precision": (
            "float64 (exact teaching numbers) | float32 (faster on big networks).",
            ["float64"],
        ),
        "threads": (
            "BLAS threads for the matrix products; default: the CPUs bp may use, "
            "1 for a network whose products are too small to split "
            "(1 is often fastest on a busy machine).",
            [1],
        ),
        "engine": (
            "auto | vector | scalar: scalar writes a float64 network of at most 64 weights, "
            "batches of at most 64 rows, out as plain float arithmetic (last bits may differ "
            "from vector, see docs/performance.md); auto: scalar where that is faster "
            "(up to 256 weights x rows, runs long enough to repay compiling it).",
            ["auto", "vector"],
        ),
    },
    "OptimizerSpec": {
        "name": ("sgd | momentum | adam.", ["adam"]),
        "momentum": ("momentum only: the velocity's decay.", [0.9]),
        "beta1": ("adam only: decay of the first moment.", [0.9]),
        "beta2": ("adam only: decay of the second moment.", [0.999]),
        "epsilon": ("adam only: added to the denominator.", [1e-8]),
    },
    "TrainedRecord": {
        "epochs": ("Epochs these weights went through, over every run.", [500]),
        "final_loss": ("Loss of the saved weights on the training data.", [0.0338]),
        "status": ("completed | stopped_early | diverged | interrupted.", ["completed"]),
        "bp_version": ("The bp that saved the file.", ["0.1.0"]),
        "note": ("Why these weights, when not the last epoch's.", []),
    },
}


def _build_every_model(model: type[BaseModel]) -> None:
    # The models defer building their validators to first use (start-up time);
    # the schema encodes nested models' defaults, which needs each one built.
    for sub in model.__subclasses__():
        sub.model_rebuild()
        _build_every_model(sub)


def config_schema() -> dict[str, Any]:
    """The schema as a JSON-ready dict (draft 2020-12)."""
    _build_every_model(Strict)
    schema = copy.deepcopy(Config.model_json_schema())
    defs = schema["$defs"]
    for model, keys in KEYS.items():
        properties = (schema if model == "Config" else defs[model])["properties"]
        for key, (description, examples) in keys.items():
            properties[key]["description"] = description
            if examples:
                properties[key]["examples"] = examples
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
    defs["TrainingSpec"]["properties"]["batch_size"] |= {
        "anyOf": [{"const": "full"}, {"type": "integer", "minimum": 1}],
        "default": "full",
    }
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "bp config",
        "description": "A bp config file: network, loss, data and training.",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def _as_list(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of one cell schema: itself, or the members of its anyOf."""
    return list(item["anyOf"]) if "anyOf" in item else [item]
