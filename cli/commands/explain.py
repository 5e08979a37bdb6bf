"""`bp explain`: the derivation of one weight's gradient, number by number."""

from __future__ import annotations

import shlex
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from cli.console import wrote
from cli.errors import fail
from cli.options import ConfigArg, JsonOpt, PrintConfigOpt, SetOpt, print_config

if TYPE_CHECKING:  # imported where used: `bp --help` loads no numpy
    from backprop_core.engine.naming import WeightId
    from backprop_core.run.experiment import Experiment

NAME = "explain"
HELP = (
    "The derivation of dL/dw for one weight: forward pass, every chain-rule path, "
    "the delta recursion, a finite-difference check, the update and the next forward pass."
)
MAX_ALL = 50  # --all explains at most this many weights


class Format(str, Enum):
    text = "text"
    markdown = "markdown"
    latex = "latex"
    html = "html"
    json = "json"


class NotationChoice(str, Enum):
    source = "source"
    standard = "standard"


def command(
    config: ConfigArg = None,
    weight: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer reads this annotation at runtime
        typer.Option(
            "--weight",
            "-w",
            metavar="NAME",
            help="Weight to explain, in any form bp show lists: xh1, hh_01, w1_1_1. "
            "Repeatable: one document with a section per weight.",
            show_default=False,
        ),
    ] = None,
    all_: Annotated[
        bool,
        typer.Option("--all", help=f"Explain every weight (networks of up to {MAX_ALL} weights)."),
    ] = False,
    sample: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            min=0,
            metavar="N",
            help="Explain training sample N (0-based) alone. Default: the mean over the batch.",
        ),
    ] = None,
    epoch: Annotated[
        int,
        typer.Option(
            min=0,
            metavar="N",
            help="Explain the weights as they are after N epochs of training "
            "(the same seed and batches as bp train).",
        ),
    ] = 0,
    notation: Annotated[
        NotationChoice,
        typer.Option(
            help="source: the source derivation's dL/dy, dy/dA21; "
            "standard: the textbook ∂L/∂Y, ∂Y/∂A21, w^(k)_ij.",
            case_sensitive=False,
        ),
    ] = NotationChoice.source,
    jacobian: Annotated[
        bool,
        typer.Option(
            "--jacobian",
            help="softmax + cross-entropy: show the Jacobian dY_i/dY_in_j and how the "
            "chain collapses to Y - T.",
        ),
    ] = False,
    format_: Annotated[
        Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = Format.text,
    fragment: Annotated[
        bool,
        typer.Option(
            "--fragment", help="LaTeX: only the align* block, without the document around it."
        ),
    ] = False,
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
    print_config_: PrintConfigOpt = False,
) -> None:
    if print_config_:
        print_config(config, set_)
        return
    from backprop_core.explain.derivation import explain_experiment
    from backprop_core.run.experiment import load_experiment

    if json_ and format_ not in (Format.text, Format.json):
        raise fail(f"--json and --format {format_.value} ask for different formats; use one")
    chosen = Format.json if json_ else format_
    names = list(weight or [])
    if all_ and names:
        raise fail("--all and --weight both choose weights; use one")
    if output is not None and chosen in (Format.text, Format.json):
        raise fail("--output is for --format markdown, latex or html")
    if output is not None:
        from backprop_core.atomic import check_writable

        check_writable(output)  # before the derivation, not after it
    if fragment and chosen is not Format.latex:
        raise fail("--fragment is for --format latex")
    experiment = load_experiment(config, list(set_ or []))
    if not all_ and not names:
        raise fail(
            "name a weight with --weight NAME (repeatable), or use --all; this network's "
            f"weights: {_weight_list(experiment)}"
        )
    if all_:
        count = sum(1 for _ in experiment.names.all_ids())
        if count > MAX_ALL:
            raise fail(
                f"--all explains at most {MAX_ALL} weights; this network has {count}: "
                "name the ones you want with --weight"
            )
        names = [w.canonical for w in experiment.names.all_ids()]
    # One explanation per weight, however often or under whichever names it is asked for.
    chosen_names: dict[str, str] = {}
    for name in names:
        chosen_names.setdefault(experiment.names.resolve(name).canonical, name)
    names = list(chosen_names.values())
    if fragment and len(names) > 1:
        raise fail("--fragment takes one weight: it is a single align* block")
    if epoch:
        _train(experiment, epoch)
    standard = notation is NotationChoice.standard
    xs = [
        explain_experiment(experiment, name, sample, standard=standard, jacobian=jacobian)
        for name in names
    ]
    if chosen is Format.json:
        from cli.console import emit_json
        from cli.render import json_documents

        emit_json(json_documents.explanations(xs, as_list=len(xs) > 1 or all_))
    elif chosen is Format.text:
        from backprop_core.explain.derivation import MAX_LISTED_PATHS
        from cli.console import stdout
        from cli.render.diagram import path_sketch
        from cli.render.explain_text import render, summary_table

        console = stdout()
        for index, x in enumerate(xs):
            # The sketch lists paths in network order; past MAX_LISTED_PATHS the
            # derivation lists only the largest ones, so the sketch would not match.
            sketch = None
            if x.path_count <= MAX_LISTED_PATHS:
                sketch = path_sketch(experiment.names, x.weight)
            if index:
                console.print()
            console.print(render(x, sketch), soft_wrap=False)
        if len(xs) > 1:
            console.print()
            console.print(summary_table(xs), soft_wrap=False)
    else:
        invocation = _invocation(config, names, all_, sample, epoch, notation, set_ or [])
        if chosen is Format.markdown:
            from cli.render.explain_markdown import render as markdown

            pictures = [_markdown_picture(experiment, x, output, len(xs)) for x in xs]
            _write(output, markdown(xs, invocation, pictures=pictures))
        elif chosen is Format.html:
            _write(output, _html(experiment, xs, invocation))
        elif fragment:
            from cli.render.explain_latex import fragment as latex_fragment

            _write(output, latex_fragment(xs[0], invocation))
        else:
            from cli.render.explain_latex import render as latex

            _write(output, latex(xs, invocation))


MAX_LISTED_WEIGHTS = 12


def _weight_list(experiment: Experiment) -> str:
    """``xh1 (w1_1_1), hh1 (w2_1_1), ...``; past MAX_LISTED_WEIGHTS, how many more."""
    names = experiment.names
    ids = list(names.all_ids())
    shown = [
        w.canonical if names.alias(w) == w.canonical else f"{names.alias(w)} ({w.canonical})"
        for w in ids[:MAX_LISTED_WEIGHTS]
    ]
    more = len(ids) - len(shown)
    return ", ".join(shown) + (f", ... ({more} more; bp show lists all)" if more > 0 else "")


def _train(experiment: Experiment, epochs: int) -> None:
    """Train in place for --epoch N; a diverged run is a failure (exit 1)."""
    from backprop_core.run.training import train_for

    result = train_for(experiment, epochs)
    if result.status == "diverged":
        raise fail(
            f"training diverged at epoch {result.diverged_epoch} of the {epochs} asked: "
            "nothing to explain",
            code=1,
        )


def _invocation(
    config: Path | None,
    weights: list[str],
    all_: bool,
    sample: int | None,
    epoch: int,
    notation: NotationChoice,
    sets: list[str],
) -> str:
    """The command line that reproduces this output, shown at the top of the document."""

    words = ["bp", "explain"]
    if config is not None:
        words.append(str(config))
    if all_:
        words.append("--all")
    for w in weights if not all_ else []:
        words += ["--weight", w]
    if sample is not None:
        words += ["--sample", str(sample)]
    if epoch:
        words += ["--epoch", str(epoch)]
    if notation is NotationChoice.standard:
        words += ["--notation", "standard"]
    for s in sets:
        words += ["--set", s]
    return shlex.join(words)


def _write(output: Path | None, text: str) -> None:
    if output is None:
        from cli.console import write as write_document

        write_document(text)  # control characters from the config escaped
        return
    from backprop_core.atomic import write_text

    write_text(output, text)
    wrote(output)


def _drawing(
    experiment: Experiment, w: WeightId, *, page: bool = False, prefix: str = ""
) -> str | None:
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
    picture = svg(
        drawn, highlight=highlight, marked=w, title=title, standalone=False, prefix=prefix
    )
    return picture + legend_html(layout)


def _html(experiment: Experiment, xs: list[Any], invocation: str) -> str:
    from backprop_core.explain.focus import focus
    from cli.render.explain_html import render

    found = [focus(x, experiment.network.units) for x in xs]
    # Several drawings on one page: each one's ids get its own prefix.
    prefixes = [f"d{i}-" if len(xs) > 1 else "" for i in range(1, len(xs) + 1)]
    drawings = [
        _drawing(experiment, x.weight, page=True, prefix=p)
        for x, p in zip(xs, prefixes, strict=True)
    ]
    return render(xs, invocation, drawings, found)


def _markdown_picture(
    experiment: Experiment, x: Any, output: Path | None, count: int
) -> str | None:
    """The drawing for the Markdown form: an SVG file beside `output`, linked as an
    image (every Markdown viewer shows it, GitHub included), or on stdout an
    ``<img>`` holding the SVG as a data: URI, one line that viewers passing HTML
    through (VS Code, pandoc) show and others skip, never spilling raw SVG text."""
    drawing = _drawing(experiment, x.weight)
    if drawing is None:
        return None
    alt = f"the network, the paths from {x.alias} to the output highlighted"
    if output is None:
        import base64

        data = base64.b64encode(drawing.encode()).decode()
        return f'<img alt="{alt}" src="data:image/svg+xml;base64,{data}">'
    from backprop_core.atomic import write_text

    name = output.stem if count == 1 else f"{output.stem}-{x.alias}"
    picture = output.with_name(name + ".svg")
    write_text(picture, '<?xml version="1.0" encoding="UTF-8"?>\n' + drawing)
    return f"![{alt}]({picture.name})"
