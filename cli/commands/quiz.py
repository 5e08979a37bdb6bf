"""`bp quiz`: the derivation of one weight asked quantity by quantity in the terminal.

Reads one answer per line from stdin (typed, or piped: the sheet's order), so
it runs the same in a terminal and in a test.
"""

from __future__ import annotations

import sys

import typer

from cli.commands.grade import DigitsOpt
from cli.commands.sheet import WeightsOpt
from cli.errors import EXIT_FAILED, EXIT_INTERRUPTED
from cli.options import ConfigArg, PrintConfigOpt, SetOpt, print_config

NAME = "quiz"
HELP = (
    "Work through a weight's derivation in the terminal: each quantity asked in order, "
    "hints on a wrong answer, a score at the end (Ctrl-D) or on Ctrl-C."
)


def read_line(prompt: str) -> str:
    """One answer from stdin after `prompt` ("" at the end of input).

    In a terminal through input(), to which the readline module gives line
    editing: without it an arrow key reaches the answer as an escape sequence.
    """
    if sys.stdin.isatty():
        import readline  # noqa: F401 - imported for its effect on input()

        try:
            return input(prompt) + "\n"
        except EOFError:
            return ""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    return sys.stdin.readline()


def command(
    config: ConfigArg = None,
    weights: WeightsOpt = ...,  # type: ignore[assignment]
    digits: DigitsOpt = 3,
    set_: SetOpt = None,
    print_config_: PrintConfigOpt = False,
) -> None:
    if print_config_:
        print_config(config, set_)
        return
    from backprop_core.grading.derivation import derive_experiment
    from backprop_core.grading.quiz import Quiz
    from backprop_core.grading.sheet import batch_note, given_lines
    from backprop_core.run.experiment import load_experiment
    from cli.render.diagram import path_sketch
    from cli.render.statement import tables_fit, text_tables

    experiment = load_experiment(config, list(set_ or []))
    derivation = derive_experiment(experiment, weights)
    quiz = Quiz(derivation, digits)
    out = sys.stdout
    gradients = ", ".join(f"dL/d{w}" for w in derivation.weights)
    out.write(f"bp quiz: {gradients}, {quiz.total} quantities, one answer per line\n")
    tables = tables_fit(experiment)
    givens = given_lines(derivation, with_weights=not tables)
    out.write("\n".join(line.removeprefix("#   ") for line in givens) + "\n")
    if tables:
        out.write("weights (the row's node feeds the column's node):\n")
        out.write("\n".join("  " + line for line in text_tables(experiment)) + "\n")
    for line in batch_note(derivation, "0.5 0.25 ..."):
        out.write(line + "\n")
    for x in derivation.explanations:
        # The network as the paths from each weight to the output.
        out.write("\n".join(path_sketch(experiment.names, x.weight)) + "\n")
    out.write("\n")
    try:
        while (q := quiz.current) is not None:
            line = read_line(f"{q.name} = ")
            if not line:
                out.write("\n")
                break
            if not sys.stdin.isatty():
                out.write(line.strip() + "\n")  # piped: show the answer the prompt got
            reply = quiz.answer(line)
            out.write(f"  {reply.text}\n")
    except KeyboardInterrupt:
        out.write(f"\n{quiz.score_line()}\n")
        out.flush()
        raise typer.Exit(EXIT_INTERRUPTED) from None
    out.write(f"{quiz.score_line()}\n")
    if not quiz.all_right:
        raise typer.Exit(EXIT_FAILED)
