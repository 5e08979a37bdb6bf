"""`bp check`: validate a config and load its data, without training."""

from __future__ import annotations

from typing import Any

from cli import console
from cli.errors import EXIT_USAGE, print_error, warn
from cli.options import ConfigArg, JsonOpt, SetOpt

NAME = "check"
HELP = "Validate a config and load its data without training; exit 0 (valid) or 2."


def command(config: ConfigArg = None, set_: SetOpt = None, json_: JsonOpt = False) -> None:
    import typer

    from backprop_core.config.model import schema_problems
    from backprop_core.errors import BpError
    from backprop_core.run.experiment import load_experiment

    overrides = list(set_ or [])
    experiment = None
    try:
        # All schema problems at once; the semantic and data checks stop at the first.
        problems: list[BpError] = list(schema_problems(config, overrides))
        if not problems:
            experiment = load_experiment(config, overrides)
    except BpError as e:
        problems = [e]
    warnings = _warnings(experiment) if experiment is not None else []
    for message in warnings:
        warn(message)
    for problem in problems:
        print_error(str(problem))
    if json_:
        console.emit_json(
            {
                "ok": not problems,
                "config": _label(config),
                "problems": [_problem(p) for p in problems],
                "warnings": warnings,
                "summary": _summary(experiment) if experiment is not None else None,
            }
        )
    elif experiment is not None:
        console.stdout().print(
            f"{_label(config)}: ok ({_describe(_summary(experiment))})", soft_wrap=True
        )
    if problems:
        raise typer.Exit(EXIT_USAGE)


def _label(config: Any) -> str:
    return str(config) if config is not None else "built-in tiny.yaml"


def _problem(error: Any) -> dict[str, Any]:
    """A problem as JSON: the full message, and where it is when known."""
    return {
        "message": str(error),
        "file": getattr(error, "file", None),
        "line": getattr(error, "line", None),
        "key": getattr(error, "key", None),
        "detail": getattr(error, "message", str(error)),
    }


def _summary(experiment: Any) -> dict[str, Any]:
    c = experiment.config
    net = experiment.network
    data = experiment.data
    return {
        "name": c.name,
        "inputs": net.inputs,
        "layers": [
            {"units": layer.units, "activation": layer.activation.describe(), "bias": layer.bias}
            for layer in net.layers
        ],
        "loss": c.loss,
        "parameters": net.parameter_count(),
        "rows": data.n,
        "validation_rows": 0 if data.X_val is None else int(data.X_val.shape[0]),
        "classes": list(data.classes) if data.classes is not None else None,
        "frozen": experiment.frozen_count(),
    }


def _describe(summary: dict[str, Any]) -> str:
    shape = "-".join(str(u) for u in [summary["inputs"], *(x["units"] for x in summary["layers"])])
    rows = summary["rows"]
    text = (
        f"network {shape}, {summary['parameters']} weights, loss {summary['loss']}, "
        f"{rows} training row{'s' if rows != 1 else ''}"
    )
    if summary["validation_rows"]:
        text += f", {summary['validation_rows']} validation"
    return text


def _warnings(experiment: Any) -> list[str]:
    from backprop_core.run.training import batch_rows

    _, warning = batch_rows(experiment.config.training.batch_size, experiment.data.n)
    return [warning] if warning is not None else []
