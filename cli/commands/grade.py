"""`bp grade`: mark a filled answer sheet quantity by quantity, with carried-forward credit."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cli.commands.sheet import OutputOpt
from cli.errors import EXIT_FAILED, fail
from cli.options import JsonOpt, SetOpt

if TYPE_CHECKING:
    from backprop_core.grading.marking import Report

NAME = "grade"
HELP = (
    "Mark a filled answer sheet (from bp sheet): each quantity right, wrong (with the "
    "expected value and a diagnosis), right given an earlier wrong value, or missing; a score."
)


class GradeFormat(str, Enum):
    text = "text"
    json = "json"
    gradescope = "gradescope"


DigitsOpt = Annotated[
    int,
    typer.Option(
        "--digits", min=1, max=15, metavar="N", help="Significant digits a value must agree to."
    ),
]


def command(
    config: Annotated[
        Optional[Path],  # noqa: UP045 - Typer reads this annotation at runtime
        typer.Argument(
            help="YAML config (default: the reference example), then the filled sheet; "
            "with one argument, it is the sheet.",
            show_default=False,
        ),
    ] = None,
    answers: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(help="The filled answer sheet.", show_default=False),
    ] = None,
    weights: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--weight",
            "-w",
            metavar="NAME",
            help="Grade the derivation of NAME (repeatable), whatever the sheet's weights say.",
        ),
    ] = None,
    digits: DigitsOpt = 3,
    carry: Annotated[
        bool,
        typer.Option(
            "--carry/--no-carry",
            help="Credit a step done right from the student's own wrong earlier value.",
        ),
    ] = True,
    format_: Annotated[
        GradeFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="text; json; gradescope (the autograder's results.json).",
        ),
    ] = GradeFormat.text,
    json_: JsonOpt = False,
    output: OutputOpt = None,
    set_: SetOpt = None,
) -> None:
    from backprop_core.errors import BpError
    from cli.commands.sheet import write
    from cli.console import json_text

    if answers is None:
        config, answers = None, config
    if answers is None:
        raise fail("no answer sheet given: bp grade [CONFIG] ANSWERS")
    if json_ and format_ not in (GradeFormat.text, GradeFormat.json):
        raise fail(f"--json and --format {format_.value} ask for different formats; use one")
    chosen = GradeFormat.json if json_ else format_
    try:
        report = _report(config, answers, weights or [], list(set_ or []), digits, carry)
    except BpError as e:
        if chosen is GradeFormat.gradescope:
            # The autograder still gets its results.json: the student sees why.
            from backprop_core.grading.gradescope import unreadable

            write(json_text(unreadable(str(e))), output)
        raise
    if chosen is GradeFormat.text:
        from cli.render.grading import text

        written = text(report, str(answers))
    elif chosen is GradeFormat.json:
        from cli.render.grading import document

        written = json_text(document(report, str(answers)))
    else:
        from backprop_core.grading.gradescope import results

        written = json_text(results(report))
    write(written, output)
    if not report.all_right:
        raise typer.Exit(EXIT_FAILED)


def _report(
    config: Path | None,
    answers: Path,
    weights: list[str],
    sets: list[str],
    digits: int,
    carry: bool,
) -> Report:
    """The marks of the sheet at `answers`; a BpError when it cannot be read."""
    from backprop_core.errors import ConfigError, WeightNameError
    from backprop_core.grading.derivation import derive_experiment
    from backprop_core.grading.marking import grade
    from backprop_core.grading.sheet import check_answers, read_answers
    from backprop_core.run.experiment import load_experiment

    filled = read_answers(answers)
    if weights:
        filled.weights = list(weights)
    if not filled.weights:
        raise ConfigError(
            "missing; the sheet says whose derivation it is (or pass -w)",
            file=str(answers),
            key="weights",
        )
    experiment = load_experiment(config, sets)
    for index, name in enumerate(filled.weights):
        try:
            experiment.names.resolve(name)
        except WeightNameError as e:
            if weights:
                raise
            raise filled.source.error(("weights", index), str(e)) from None
    derivation = derive_experiment(experiment, filled.weights)
    check_answers(filled, derivation)
    return grade(derivation, filled.values, filled.points, digits=digits, carry=carry)
