"""`bp grads`: one gradient-descent step for every weight, with finite differences beside it."""

from typing import Annotated, Optional

import typer

from cli.options import ConfigArg, JsonOpt, PrintConfigOpt, SetOpt, print_config

NAME = "grads"
HELP = (
    "One step for every weight: value, gradient, finite-difference gradient, "
    "step -eta*grad and new value."
)

WeightsOpt = Annotated[
    Optional[list[str]],  # noqa: UP045 - Typer reads this annotation at runtime
    typer.Option(
        "--weight",
        "-w",
        metavar="NAME",
        help="Only this weight (any name form: xh1, hh_01, w1_1_1). Repeatable.",
        show_default=False,
    ),
]


def command(
    config: ConfigArg = None,
    weight: WeightsOpt = None,
    json_: JsonOpt = False,
    set_: SetOpt = None,
    print_config_: PrintConfigOpt = False,
) -> None:
    if print_config_:
        print_config(config, set_)
        return
    from backprop_core.run.experiment import load_experiment
    from backprop_core.run.inspection import gradient_rows

    experiment = load_experiment(config, list(set_ or []))
    report = gradient_rows(experiment, weight or [])
    if json_:
        from cli.console import emit_json
        from cli.render import json_documents

        emit_json(json_documents.grads(report))
        return
    from rich.table import Table

    from cli.console import stdout
    from cli.render.fit import fitted
    from cli.render.tables import grads_table

    out = stdout()
    for item in grads_table(report):
        # A table wider than the terminal prints as records, never with cut numbers.
        out.print(fitted(out, item) if isinstance(item, Table) else item)
