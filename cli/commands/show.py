"""`bp show`: the network's layers and every weight's names and value."""

from __future__ import annotations

from cli.commands.grads import WeightsOpt
from cli.options import ConfigArg, JsonOpt, SetOpt

NAME = "show"
HELP = "The network: layers, activations, parameter count, every weight's names and value."


def command(
    config: ConfigArg = None, weight: WeightsOpt = None, json_: JsonOpt = False,
    set_: SetOpt = None,
) -> None:
    from backprop_core.experiment import load_experiment
    from backprop_core.inspection import network_summary

    experiment = load_experiment(config, list(set_ or []))
    summary = network_summary(experiment, weight or [])
    if json_:
        from cli.console import emit_json

        emit_json(
            {
                "name": summary.name,
                "loss": summary.loss,
                "parameter_count": summary.parameter_count,
                "samples": summary.samples,
                "layers": [
                    {
                        "layer": r.layer,
                        "role": r.role,
                        "units": r.units,
                        "activation": r.activation,
                        "bias": r.bias,
                        "parameters": r.parameters,
                    }
                    for r in summary.layers
                ],
                "weights": [
                    {"name": name, "alias": alias, "value": value, "frozen": frozen}
                    for name, alias, value, frozen in summary.weights
                ],
            }
        )
        return
    from rich.table import Table

    from cli.console import stdout
    from cli.render.fit import fitted
    from cli.render.tables import show_tables

    out = stdout()
    for item in show_tables(summary):
        # A table wider than the terminal prints as records, never with cut numbers.
        out.print(fitted(out, item) if isinstance(item, Table) else item)
