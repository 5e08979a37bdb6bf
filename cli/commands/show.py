"""`bp show`: the network's layers and every weight's names and value, or a drawing of it."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cli import console
from cli.commands.grads import WeightsOpt
from cli.console import wrote
from cli.errors import fail
from cli.options import ConfigArg, JsonOpt, PrintConfigOpt, SetOpt, print_config

if TYPE_CHECKING:  # imported where used: `bp --help` loads no numpy
    from backprop_core.run.experiment import Experiment

NAME = "show"
HELP = "The network: layers, activations, parameter count, every weight's names and value."


class ShowFormat(str, Enum):
    table = "table"
    json = "json"
    mermaid = "mermaid"
    dot = "dot"
    png = "png"
    svg = "svg"


DRAWINGS = (ShowFormat.mermaid, ShowFormat.dot, ShowFormat.png, ShowFormat.svg)
FILES = (ShowFormat.png, ShowFormat.svg)

FormatOpt = Annotated[
    ShowFormat,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="table; json; the network drawn as mermaid or dot (printed) or png or svg "
        "(written to --output).",
    ),
]
OutputOpt = Annotated[
    Optional[Path],  # noqa: UP045 - Typer reads this annotation at runtime
    typer.Option(
        "--output", "-o", metavar="PATH", help="File for --format png|svg|mermaid|dot (- : stdout)."
    ),
]


def command(
    config: ConfigArg = None,
    weight: WeightsOpt = None,
    json_: JsonOpt = False,
    set_: SetOpt = None,
    format_: FormatOpt = ShowFormat.table,
    output: OutputOpt = None,
    print_config_: PrintConfigOpt = False,
) -> None:
    if print_config_:
        print_config(config, set_)
        return
    from backprop_core.run.experiment import load_experiment

    _check_format(format_, output, json_)
    experiment = load_experiment(config, list(set_ or []))
    if format_ in DRAWINGS:
        _draw(format_, experiment, output)
        return
    from backprop_core.run.inspection import network_summary

    summary = network_summary(experiment, weight or [])
    if json_ or format_ is ShowFormat.json:
        from cli.console import emit_json
        from cli.render import json_documents

        emit_json(json_documents.show(summary))
        return
    from rich.table import Table

    from cli.console import stdout
    from cli.render.fit import fitted
    from cli.render.tables import show_tables

    out = stdout()
    for item in show_tables(summary):
        # A table wider than the terminal prints as records, never with cut numbers.
        out.print(fitted(out, item) if isinstance(item, Table) else item)


def _check_format(format_: ShowFormat, output: Path | None, json_: bool) -> None:
    """Usage errors before any work (and before a picture's folder is needed)."""
    if json_ and format_ not in (ShowFormat.table, ShowFormat.json):
        raise fail(f"--json and --format {format_.value} ask for different formats; use one")
    if format_ in FILES:
        if output is None:
            raise fail(f"--format {format_.value} writes a file: add --output PATH")
        from cli.render.plots import check_picture_path

        wanted = format_.value
        if str(output) == "-":
            return
        if check_picture_path(output) != wanted:
            raise fail(f"--format {wanted} needs an --output name ending in .{wanted}")
    elif output is not None and format_ not in DRAWINGS:
        raise fail("--output is for --format mermaid, dot, png or svg")
    elif output is not None:
        from backprop_core.atomic import check_writable

        check_writable(output)


def _draw(format_: ShowFormat, experiment: Experiment, output: Path | None) -> None:
    """The network as the derivation draws it: mermaid/dot text, or a png/svg file."""
    if format_ in FILES:
        from cli.render.plots import save_network_image

        assert output is not None  # checked by _check_format
        save_network_image(output, experiment.network, experiment.names, fmt=format_.value)
        if not _is_dash(output):
            wrote(output)
        return
    from cli.render.diagram import dot, mermaid

    draw = mermaid if format_ is ShowFormat.mermaid else dot
    text = draw(experiment.network, experiment.names)
    if output is None or _is_dash(output):
        console.write(text)
    else:
        from backprop_core.atomic import write_text

        write_text(output, text)
        wrote(output)


def _is_dash(path: Path) -> bool:
    return str(path) == "-"
