"""`bp predict`: outputs of a (trained) config for new inputs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cli import console
from cli.errors import fail, warn
from cli.options import ConfigArg, JsonOpt, PrintConfigOpt, SetOpt, print_config

if TYPE_CHECKING:  # imported where used: `bp --help` loads no numpy
    from rich.table import Table

    from backprop_core.run.predict import Model, Prediction

NAME = "predict"
HELP = (
    "Outputs of a (trained) config for new inputs: --input 0.1,0.2 (repeatable) or "
    "--data FILE.csv; classifiers also give the class and its probabilities."
)

MAX_CLASS_COLUMNS = 8  # more classes than this: only the chosen class's probability


def command(
    config: ConfigArg = None,
    input_: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--input",
            "-i",
            metavar="X1,X2,...",
            help="One row of inputs, comma-separated (network.inputs values). Repeatable.",
            show_default=False,
        ),
    ] = None,
    data: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--data",
            metavar="FILE.csv",
            help="A CSV file with a header; columns matched by name when the model was "
            "trained on a CSV (target columns, when present, give loss and accuracy).",
            show_default=False,
        ),
    ] = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    print_config_: PrintConfigOpt = False,
) -> None:
    if print_config_:
        print_config(config, set_)
        return
    if input_ and data is not None:
        raise fail("give --input or --data, not both")
    if not input_ and data is None:
        raise fail("nothing to predict: give --input X1,X2,... (repeatable) or --data FILE.csv")
    from backprop_core.config.load import load_config
    from backprop_core.run.predict import load_model, parse_inputs, predict, read_inputs

    model = load_model(load_config(config, list(set_ or [])))
    if not model.trained:
        warn(_untrained_warning(model, config))
    T = target_labels = lines = None
    if data is not None:
        X, T, target_labels, table = read_inputs(model, data)
        lines = table.lines
    else:
        X = parse_inputs(model, list(input_ or []))
    result = predict(model, X, T)
    result.target_labels, result.lines = target_labels, lines
    if json_:
        from cli.render import json_documents

        console.emit_json(
            json_documents.predict(model, result, _input_names(model), _output_names(model))
        )
    else:
        from cli.render.fit import fitted

        out = console.stdout()
        out.print(fitted(out, prediction_table(model, result)))
        if result.loss is not None:
            out.print(summary_line(result))


def _untrained_warning(model: Model, config: Path | None) -> str:
    where = "the built-in tiny.yaml " if config is None else f"{config} "
    if model.initial_weights_drawn:
        seed = model.loaded.config.seed
        what = f"these outputs come from random initial weights (seed {seed})"
    else:
        what = "these outputs come from the weights written in it"
    return (
        f"{where}was never trained (it has no trained: record), so {what}; "
        f"train it first: bp train {config or ''} --save trained.yaml".replace("  ", " ")
    )


def _input_names(model: Model) -> list[str]:
    if model.input_names is not None:
        return list(model.input_names)
    return [f"x{i}" for i in range(1, model.network.inputs + 1)]


def _output_names(model: Model) -> list[str]:
    outputs = model.network.units[-1]
    if model.target_names is not None and len(model.target_names) == outputs:
        return list(model.target_names)
    return ["y"] if outputs == 1 else [f"y{j}" for j in range(1, outputs + 1)]


def prediction_table(model: Model, result: Prediction) -> Table:
    from rich.table import Table

    from cli.render.numbers import num, percent

    table = Table(title="predictions", title_justify="left")
    table.add_column("line" if result.lines is not None else "row", justify="right")
    for name in _input_names(model):
        table.add_column(name, justify="right")
    labels, probabilities = result.labels, result.probabilities
    classes = model.classes or []
    classified = labels is not None
    few = classified and len(classes) <= MAX_CLASS_COLUMNS
    if classified:
        table.add_column("class")
        for name in classes if few else ["p(class)"]:
            table.add_column(f"p({name})" if few else name, justify="right")
    else:
        for name in _output_names(model):
            table.add_column(name, justify="right")
    if result.T is not None:
        table.add_column("target", justify="right" if not classified else "left")
    for r in range(result.X.shape[0]):
        cells = [str(result.lines[r] if result.lines is not None else r + 1)]
        cells += [num(v) for v in result.X[r]]
        if labels is not None and probabilities is not None:
            cells.append(labels[r])
            row = probabilities[r]
            shown = row if few else [row[classes.index(labels[r])]]
            cells += [percent(float(p)) for p in shown]
        else:
            cells += [num(v) for v in result.Y[r]]
        style = None
        if result.T is not None:
            if result.target_labels is not None:
                cells.append(result.target_labels[r])
                style = (
                    None if labels is not None and result.target_labels[r] == labels[r] else "red"
                )
            else:
                cells.append(", ".join(num(v) for v in result.T[r]))
        table.add_row(*cells, style=style)
    return table


def summary_line(result: Prediction) -> str:
    from cli.render.numbers import num, percent

    text = f"loss {num(result.loss)} on {result.X.shape[0]} rows"
    if result.accuracy is not None:
        text += f", accuracy {percent(result.accuracy)} ({result.correct}/{result.judged})"
    return text
