"""`bp gradcheck`: backpropagation against central differences for every weight."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from cli import console
from cli.errors import EXIT_FAILED, fail
from cli.options import ConfigArg, JsonOpt, PrintConfigOpt, SetOpt, print_config

if TYPE_CHECKING:  # imported where used: `bp --help` loads no numpy
    from rich.console import RenderableType

    from backprop_core.engine.gradcheck import GradcheckReport

NAME = "gradcheck"
HELP = (
    "Compare analytic and finite-difference gradients of every weight (float64); "
    "exit 1 on a mismatch."
)

NARROW = 72  # below this width, one line per weight instead of a table


def command(
    config: ConfigArg = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    eps: Annotated[
        Optional[float],  # noqa: UP045 - Typer reads this annotation at runtime
        typer.Option(min=1e-12, max=1e-2, help="Finite-difference step. Default 1e-5."),
    ] = None,
    max_weights: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--max-weights",
            min=1,
            metavar="N",
            help="Check a seeded random sample of N weights (large networks). Default: all.",
        ),
    ] = None,
    failures: Annotated[
        bool, typer.Option("--failures", help="List only the weights that fail.")
    ] = False,
    print_config_: PrintConfigOpt = False,
) -> None:
    if print_config_:
        print_config(config, set_)
        return
    from backprop_core.engine.gradcheck import EPS, check_gradients
    from backprop_core.run.experiment import load_experiment
    from cli.render import json_documents

    experiment = load_experiment(config, list(set_ or []))
    report = check_gradients(
        experiment.network,
        experiment.data.X,
        experiment.data.T,
        list(experiment.names.all_ids()),
        eps=eps if eps is not None else EPS,
        max_weights=max_weights,
        seed=experiment.config.seed,
    )
    rows = [json_documents.gradcheck_row(experiment, r) for r in report.rows]
    if json_:
        console.emit_json(json_documents.gradcheck(report, rows))
    else:
        shown = [r for r in rows if not r["ok"]] if failures else rows
        _render(report, shown)
    if not report.ok:
        worst = max(report.failures, key=lambda r: r.rel_error)
        raise fail(
            f"gradient check failed for {len(report.failures)} of {len(report.rows)} weights; "
            f"worst {worst.weight.canonical}: analytic {worst.grad:.10g}, "
            f"numeric {worst.numeric_grad:.10g}, relative error {worst.rel_error:.3g}"
            + (f" ({worst.kink})" if worst.kink else ""),
            EXIT_FAILED,
        )


def _render(report: GradcheckReport, rows: list[dict[str, Any]]) -> None:
    out = console.stdout()
    if rows:
        out.print(_table(rows) if out.width >= NARROW else _lines(rows))
    for r in rows:
        if r["kink"]:
            out.print(f"{r['name']}: {r['kink']} (tolerance {r['tolerance']:g})")
    out.print(_summary(report))


def _table(rows: list[dict[str, Any]]) -> RenderableType:

    from cli.render.fit import titled_table
    from cli.render.numbers import num

    table = titled_table(
        "gradient check",
        [
            ("weight", "left"),
            ("alias", "left"),
            ("dL/dw", "right"),
            ("numeric", "right"),
            ("rel error", "right"),
            ("", "left"),
        ],
        no_wrap=True,
    )
    for r in rows:
        table.add_row(
            r["name"],
            r["alias"],
            num(r["grad"], 10),
            num(r["numeric_grad"], 10),
            _err(r["rel_error"]),
            _mark(r),
            style=None if r["ok"] else "red",
        )
    return table


def _lines(rows: list[dict[str, Any]]) -> RenderableType:
    """Narrow terminals: each weight on its own lines, nothing cut off."""
    from rich.console import Group
    from rich.text import Text

    from cli.render.numbers import num

    out: list[Text] = []
    for r in rows:
        style = "" if r["ok"] else "red"
        out.append(Text(f"{r['name']} ({r['alias']}) {_mark(r)}", style=style))
        out.append(Text(f"  dL/dw     {num(r['grad'], 10)}"))
        out.append(Text(f"  numeric   {num(r['numeric_grad'], 10)}"))
        out.append(Text(f"  rel error {_err(r['rel_error'])}"))
    return Group(*out)


def _err(x: float) -> str:
    return f"{x:.2e}"


def _mark(row: dict[str, Any]) -> str:
    if not row["ok"]:
        return "FAIL"
    return "ok (kink)" if row["kink"] else "ok"


def _summary(report: GradcheckReport) -> str:
    from backprop_core.engine.gradcheck import KINK_RTOL, RTOL

    sampled = f" (a sample of {report.total})" if len(report.rows) < report.total else ""
    verdict = "ok" if report.ok else f"FAILED for {len(report.failures)}"
    return (
        f"gradcheck {verdict}: {len(report.rows)} weights{sampled}\n"
        f"max rel error {report.max_rel_error:.2e}, max abs error {report.max_abs_error:.2e}\n"
        f"eps {report.eps:g}; tolerance {RTOL:g}, {KINK_RTOL:g} at kinks"
    )
