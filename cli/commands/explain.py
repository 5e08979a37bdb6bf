"""`bp explain`: the derivation of one weight's gradient, number by number (SPEC §5)."""

from __future__ import annotations

import shlex
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from cli.errors import fail
from cli.options import ConfigArg, JsonOpt, SetOpt

if TYPE_CHECKING:  # imported where used: `bp --help` loads no numpy
    from pathlib import Path

    from backprop_core.engine.naming import WeightId
    from backprop_core.run.experiment import Experiment

NAME = "explain"
HELP = (
    "The derivation of dL/dw for one weight: forward pass, every chain-rule path, "
    "the delta recursion, a finite-difference check, the update and the next forward pass."
)


class Format(str, Enum):
    text = "text"
    markdown = "markdown"
    latex = "latex"
    html = "html"
    json = "json"


def command(
    config: ConfigArg = None,
    weight: Annotated[
        str,
        typer.Option(
            "--weight",
            "-w",
            metavar="NAME",
            help="Weight to explain, in any form bp show lists: xh1, hh_01, w1_1_1.",
        ),
    ] = ...,  # type: ignore[assignment]
    sample: Annotated[
        Optional[int],  # noqa: UP045 - Typer reads this annotation at runtime
        typer.Option(
            min=0,
            metavar="N",
            help="Explain training sample N (0-based) alone. Default: the mean over the batch.",
        ),
    ] = None,
    format_: Annotated[
        Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = Format.text,
    json_: JsonOpt = False,
    set_: SetOpt = None,
    output: Annotated[
        Optional[Path],  # noqa: UP045 - Typer reads this annotation at runtime
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write the document to PATH instead of stdout (markdown, latex, html). "
            "Markdown then links the drawing from PATH's name with .svg, written beside it.",
        ),
    ] = None,
) -> None:
    from backprop_core.explain.derivation import explain_experiment
    from backprop_core.run.experiment import load_experiment

    if json_ and format_ not in (Format.text, Format.json):
        raise fail(f"--json and --format {format_.value} ask for different formats; use one")
    chosen = Format.json if json_ else format_
    if output is not None and chosen in (Format.text, Format.json):
        raise fail("--output is for --format markdown, latex or html")
    experiment = load_experiment(config, list(set_ or []))
    x = explain_experiment(experiment, weight, sample)
    if chosen is Format.json:
        from cli.console import emit_json
        from cli.render import json_documents

        emit_json(json_documents.explain(x))
    elif chosen is Format.text:
        from backprop_core.explain.derivation import MAX_LISTED_PATHS
        from cli.console import stdout
        from cli.render.diagram import path_sketch
        from cli.render.explain_text import render

        # The sketch lists paths in network order; past MAX_LISTED_PATHS the
        # derivation lists only the largest ones, so the sketch would not match.
        sketch = None
        if x.path_count <= MAX_LISTED_PATHS:
            sketch = path_sketch(experiment.names, x.weight)
        stdout().print(render(x, sketch), soft_wrap=False)
    else:
        invocation = _invocation(config, weight, sample, set_ or [])
        if chosen is Format.markdown:
            _write(output, _markdown(experiment, x, invocation, output))
        elif chosen is Format.html:
            _write(output, _html(experiment, x, invocation))
        else:
            from cli.render.explain_latex import render as latex

            _write(output, latex(x, invocation))


def _invocation(config: Path | None, weight: str, sample: int | None, sets: list[str]) -> str:
    """The command line that reproduces this output, shown at the top of the document."""
    words = ["bp", "explain"]
    if config is not None:
        words.append(str(config))
    words += ["--weight", weight]
    if sample is not None:
        words += ["--sample", str(sample)]
    for s in sets:
        words += ["--set", s]
    return shlex.join(words)


def _write(output: Path | None, text: str) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from backprop_core.atomic import write_text

    write_text(output, text)


def _drawing(experiment: Experiment, w: WeightId, *, page: bool = False) -> str | None:
    """The network as inline SVG, `w` marked and the edges off its paths dimmed;
    None for a network too large to draw (the derivation still follows). On a
    `page` a numbered edges' legend follows as an HTML list."""
    from backprop_core.explain.drawing import on_paths
    from cli.render.diagram import DiagramTooLargeError, drawing_of
    from cli.render.svg import legend_html, svg

    try:
        layout = drawing_of(experiment)
    except DiagramTooLargeError:
        return None
    highlight = on_paths(experiment.names, w)
    title = f"the network; the paths from {experiment.names.alias(w)} to the output highlighted"
    if not page:
        return svg(layout, highlight=highlight, marked=w, title=title, standalone=False)
    drawn = layout.without_legend()
    picture = svg(drawn, highlight=highlight, marked=w, title=title, standalone=False)
    return picture + legend_html(layout)


def _html(experiment: Experiment, x: Any, invocation: str) -> str:
    from backprop_core.explain.focus import focus
    from backprop_core.explain.notation import notation_for
    from cli.render.explain_html import render

    steps = focus(x, notation_for(experiment.network), experiment.names)
    return render([x], invocation, [_drawing(experiment, x.weight, page=True)], [steps])


def _markdown(experiment: Experiment, x: Any, invocation: str, output: Path | None) -> str:
    """The Markdown document with the drawing: an SVG file beside `output`, linked
    as an image (every Markdown viewer shows it, GitHub included), or on stdout an
    ``<img>`` holding the SVG as a data: URI, one line that viewers passing HTML
    through (VS Code, pandoc) show and others skip, never spilling raw SVG text."""
    from cli.render.explain_markdown import render as markdown

    drawing = _drawing(experiment, x.weight)
    if drawing is None:
        return markdown(x, invocation)
    alt = f"the network, the paths from {x.alias} to the output highlighted"
    if output is None:
        import base64

        data = base64.b64encode(drawing.encode()).decode()
        image = f'<img alt="{alt}" src="data:image/svg+xml;base64,{data}">'
        return markdown(x, invocation, picture=image)
    from backprop_core.atomic import write_text

    picture = output.with_suffix(".svg")
    write_text(picture, '<?xml version="1.0" encoding="UTF-8"?>\n' + drawing)
    return markdown(x, invocation, picture=f"![{alt}]({picture.name})")
