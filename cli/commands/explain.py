"""`bp explain`: the derivation of one weight's gradient, number by number (SPEC §5)."""

from __future__ import annotations

import shlex
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cli import console
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
) -> None:
    from backprop_core.explain.derivation import explain_experiment
    from backprop_core.run.experiment import load_experiment

    if json_ and format_ not in (Format.text, Format.json):
        raise fail(f"--json and --format {format_.value} ask for different formats; use one")
    chosen = Format.json if json_ else format_
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
            from cli.render.explain_markdown import render as markdown

            picture = _picture(experiment, x.weight)
            console.write(markdown(x, invocation, picture=picture))
        else:
            from cli.render.explain_latex import render as latex

            console.write(latex(x, invocation))


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


def _picture(experiment: Experiment, w: WeightId) -> str | None:
    """The network in mermaid with the paths from `w` to the output highlighted;
    None for a network too large to draw (the derivation still follows)."""
    from cli.render.diagram import DiagramTooLargeError, mermaid, paths_to_output

    names = experiment.names
    try:
        return mermaid(experiment.network, names, highlight=paths_to_output(names, w))
    except DiagramTooLargeError:
        return None
