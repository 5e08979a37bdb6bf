"""`bp check`: validate a config and load its data, without training."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cli import console
from cli.errors import EXIT_USAGE, collector_paused, print_error, warn
from cli.options import ConfigArg, JsonOpt, PrintConfigOpt, SetOpt, print_config

if TYPE_CHECKING:  # imported where used: `bp --help` loads no numpy
    from pathlib import Path

    from backprop_core.run.experiment import Experiment

NAME = "check"
HELP = "Validate a config and load its data without training; exit 0 (valid) or 2."


def command(
    config: ConfigArg = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    print_config_: PrintConfigOpt = False,
) -> None:
    if print_config_:
        print_config(config, set_)
        return
    import typer

    with collector_paused():
        from backprop_core.config.load import read_source, schema_problems, validate
        from backprop_core.errors import BpError
        from backprop_core.run.experiment import build_experiment
        from cli.render import json_documents

        overrides = list(set_ or [])
        experiment = None
        try:
            # All schema problems at once; the semantic and data checks stop at the first.
            # Read once: CONFIG may be `-` or /dev/stdin, which a second read finds empty.
            source = read_source(config, overrides)
            problems: list[BpError] = list(schema_problems(source))
            if not problems:
                experiment = build_experiment(validate(source))
        except BpError as e:
            problems = [e]
    warnings = _warnings(experiment) if experiment is not None else []
    for message in warnings:
        warn(message)
    for problem in problems:
        print_error(str(problem))
    if json_:
        console.emit_json(json_documents.check(_label(config), problems, warnings, experiment))
    elif experiment is not None:
        summary = json_documents.check_summary(experiment)
        console.line(f"{_label(config)}: ok ({_describe(summary)})")
    if problems:
        raise typer.Exit(EXIT_USAGE)


def _label(config: Path | None) -> str:
    if config is None:
        return "built-in tiny.yaml"
    return "<stdin>" if str(config) == "-" else str(config)


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


def _warnings(experiment: Experiment) -> list[str]:
    batch_size = experiment.config.training.batch_size
    if batch_size == "full":  # nothing to clamp: no need to load the trainer to say so
        return []
    from backprop_core.run.training import batch_rows

    _, warning = batch_rows(batch_size, experiment.data.n)
    return [warning] if warning is not None else []
