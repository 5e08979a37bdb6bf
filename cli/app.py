"""The `bp` Typer app. Each command lives in its own module under cli/commands/.

Command modules import numpy and the core lazily, inside the command, so
`bp --help` starts fast.
"""

from __future__ import annotations

import typer

from cli.commands import (
    check,
    exercise,
    explain,
    export,
    gradcheck,
    grade,
    grads,
    import_onnx,
    init,
    predict,
    quiz,
    schema,
    sheet,
    show,
    train,
)
from cli.errors import reports_errors

app = typer.Typer(
    name="bp",
    help="Train small neural networks from YAML and see backpropagation number by number.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

for module in (
    train,
    explain,
    grads,
    show,
    check,
    gradcheck,
    predict,
    init,
    schema,
    sheet,
    grade,
    quiz,
    exercise,
    export,
    import_onnx,
):
    app.command(module.NAME, help=module.HELP)(reports_errors(module.command))


def main() -> None:
    app()
