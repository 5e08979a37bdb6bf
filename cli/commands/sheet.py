"""`bp sheet`: a blank answer sheet for a hand derivation, its answer key, or the exercise."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.errors import fail
from cli.options import ConfigArg, PrintConfigOpt, SetOpt, print_config

NAME = "sheet"
HELP = (
    "A blank answer sheet (YAML) for the derivation of one or more weights; --key fills it "
    "with bp's values; --format markdown|latex prints the exercise for a handout."
)


class SheetFormat(str, Enum):
    yaml = "yaml"
    markdown = "markdown"
    latex = "latex"


WeightsOpt = Annotated[
    list[str],
    typer.Option(
        "--weight",
        "-w",
        metavar="NAME",
        help="Weight whose derivation the sheet asks (xh1, hh_01, w1_1_1). Repeatable.",
    ),
]
OutputOpt = Annotated[
    Optional[Path],  # noqa: UP045 - Typer reads this annotation at runtime
    typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
]


def command(
    config: ConfigArg = None,
    weights: WeightsOpt = ...,  # type: ignore[assignment]
    output: OutputOpt = None,
    key: Annotated[
        bool, typer.Option("--key", help="Fill the sheet with bp's values: the answer key.")
    ] = False,
    format_: Annotated[
        SheetFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="yaml: the sheet; markdown or latex: the exercise statement for a handout.",
        ),
    ] = SheetFormat.yaml,
    set_: SetOpt = None,
    print_config_: PrintConfigOpt = False,
) -> None:
    if print_config_:
        print_config(config, set_)
        return
    from backprop_core.grading.derivation import derive_experiment
    from backprop_core.run.experiment import load_experiment

    if key and format_ is not SheetFormat.yaml:
        raise fail(f"--key fills the YAML sheet; --format {format_.value} prints the exercise")
    experiment = load_experiment(config, list(set_ or []))
    derivation = derive_experiment(experiment, weights)
    if format_ is SheetFormat.yaml:
        from backprop_core.grading.sheet import sheet_text

        text = sheet_text(derivation, title(derivation.weights, config, key), key=key)
    else:
        from cli.render.statement import latex, markdown

        render = markdown if format_ is SheetFormat.markdown else latex
        text = render(derivation, experiment, str(config) if config else "the reference example")
    write(text, output)


def title(weights: list[str], config: Path | None, key: bool) -> str:
    what = "answer key" if key else "answer sheet"
    where = str(config) if config is not None else "the reference example"
    gradients = ", ".join(f"dL/d{w}" for w in weights)
    return f"bp {what}: {gradients} on {where}"


def write(text: str, output: Path | None) -> None:
    if output is None:
        from cli.console import write as write_out

        write_out(text)
        return
    from backprop_core.atomic import write_text

    write_text(output, text)  # atomic; a ConfigError names the file on failure
    from cli.console import printable

    sys.stderr.write(f"wrote {printable(str(output))}\n")
