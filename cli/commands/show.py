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
    from backprop_core.run.inspection import NetworkSummary

NAME = "show"
HELP = "The network: layers, activations, parameter count, every weight's names and value."


class ShowFormat(str, Enum):
    table = "table"
    json = "json"
    mermaid = "mermaid"
    dot = "dot"
    png = "png"
    svg = "svg"
    html = "html"


DRAWINGS = (ShowFormat.mermaid, ShowFormat.dot, ShowFormat.png, ShowFormat.svg)
FILES = (ShowFormat.png, ShowFormat.svg)

FormatOpt = Annotated[
    ShowFormat,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="table; json; the network drawn as mermaid or dot (printed) or png or svg "
        "(written to --output); html: drawing and every weight as one page.",
    ),
]
OutputOpt = Annotated[
    Optional[Path],  # noqa: UP045 - Typer reads this annotation at runtime
    typer.Option(
        "--output",
        "-o",
        metavar="PATH",
        help="File for --format png|svg|mermaid|dot|html (- : stdout).",
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
    if format_ is ShowFormat.html:
        _write(output, _html(experiment, summary))
        return
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
        # The network's SVG is written as text (cli/render/svg.py); only PNG needs matplotlib.
        if check_picture_path(output, matplotlib=format_ is ShowFormat.png) != wanted:
            raise fail(f"--format {wanted} needs an --output name ending in .{wanted}")
    elif output is not None and format_ not in (*DRAWINGS, ShowFormat.html):
        raise fail("--output is for --format mermaid, dot, png, svg or html")
    if output is not None and str(output) != "-":
        from backprop_core.atomic import check_writable

        check_writable(output)


def _draw(format_: ShowFormat, experiment: Experiment, output: Path | None) -> None:
    """The network as the derivation draws it: mermaid/dot text, or a png/svg file."""
    if format_ in FILES:
        from cli.render.plots import save_network_image

        assert output is not None  # checked by _check_format
        from cli.render.diagram import drawing_of

        save_network_image(output, drawing_of(experiment), fmt=format_.value)
        if not _is_dash(output):
            wrote(output)
        return
    from cli.render.diagram import dot, mermaid

    draw = mermaid if format_ is ShowFormat.mermaid else dot
    _write(output, draw(experiment.network, experiment.names))


def _write(output: Path | None, text: str) -> None:
    if output is None or _is_dash(output):
        console.write(text)
    else:
        from backprop_core.atomic import write_text

        write_text(output, text)
        wrote(output)


def _html(experiment: Experiment, summary: NetworkSummary) -> str:
    """The page: the drawing (or why there is none) and the table of every weight."""
    from cli.render.diagram import DiagramTooLargeError, drawing_of
    from cli.render.show_html import render
    from cli.render.svg import svg

    try:
        layout = drawing_of(experiment)
    except DiagramTooLargeError as e:
        return render(summary, None, f"No drawing: {e}.")
    # The weights table below lists every value: a numbered drawing needs no legend.
    return render(summary, svg(layout.without_legend(), standalone=False))


def _is_dash(path: Path) -> bool:
    return str(path) == "-"
