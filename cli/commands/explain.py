"""`bp explain`: the derivation of one weight's gradient, number by number."""

from __future__ import annotations

import shlex
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cli.errors import fail
from cli.options import ConfigArg, JsonOpt, PrintConfigOpt, SetOpt, print_config

if TYPE_CHECKING:  # imported where used: `bp --help` loads no numpy
    from pathlib import Path

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
        from cli.console import write as write_document

        invocation = _invocation(config, names, all_, sample, epoch, notation, set_ or [])
        if chosen is Format.markdown:
            from cli.render.explain_markdown import render as markdown

            pictures = [_picture(experiment, x.weight) for x in xs]
            write_document(markdown(xs, invocation, pictures=pictures))
        elif fragment:
            from cli.render.explain_latex import fragment as latex_fragment

            write_document(latex_fragment(xs[0], invocation))
        else:
            from cli.render.explain_latex import render as latex

            write_document(latex(xs, invocation))


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


def _picture(experiment: Experiment, w: WeightId) -> str | None:
    """The network in mermaid with the paths from `w` to the output highlighted;
    None for a network too large to draw (the derivation still follows)."""
    from cli.render.diagram import DiagramTooLargeError, mermaid, paths_to_output

    names = experiment.names
    try:
        return mermaid(experiment.network, names, highlight=paths_to_output(names, w))
    except DiagramTooLargeError:
        return None
