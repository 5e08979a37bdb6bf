"""The `bp` Typer app. Each command lives in its own module under cli/commands/.

Command modules import numpy and the core lazily, inside the command, so
`bp --help` starts fast.
"""

from __future__ import annotations

import sys

import typer

from cli.commands import (
    check,
    exercise,
    explain,
    gradcheck,
    grade,
    grads,
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
):
    app.command(module.NAME, help=module.HELP)(reports_errors(module.command))


def main() -> None:
    """Run one command with safe standard streams; exit with its code (SPEC §6)."""
    from backprop_core.errors import BpError
    from cli import streams
    from cli.errors import EXIT_INTERRUPTED, print_error

    streams.prepare()
    code: int | str | None = 0
    try:
        app()
    except SystemExit as e:
        code = e.code
    except streams.ReaderGoneError:
        code = 0
    except BpError as e:  # an output error while Click printed help or a usage message
        print_error(str(e))
        code = e.exit_code
    except KeyboardInterrupt:
        print_error("interrupted")
        code = EXIT_INTERRUPTED
    if isinstance(code, str):  # sys.exit("message") prints it; none of bp's code does this
        print_error(code)
        code = 1
    sys.exit(streams.finish(code or 0))
