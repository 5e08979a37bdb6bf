"""The `bp` Typer app. Each command lives in its own module under cli/commands/.

Command modules import numpy and the core lazily, inside the command, so
`bp --help` starts fast.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

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
from cli.errors import reports_errors, usage_error_line


class BpGroup(TyperGroup):
    """Usage errors (a bad option value, an unknown option or command) as one
    ``error:`` line on stderr and exit 2, instead of Click's boxed usage text."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        from cli.errors import (
            EXIT_INTERRUPTED,
            EXIT_TERMINATED,
            EXIT_USAGE,
            SIGNALLED,
            print_error,
            usage_error_types,
        )

        usage_error, other_click_error = usage_error_types()
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except usage_error as e:
            if type(e).__name__ != "NoArgsIsHelpError":  # bare `bp`: the help is the answer
                print_error(usage_error_line(e))
            raise SystemExit(EXIT_USAGE) from None
        except other_click_error as e:  # e.g. a file option Click could not open
            print_error(e.format_message())
            raise SystemExit(e.exit_code) from None
        if code == EXIT_INTERRUPTED and SIGNALLED:  # SIGTERM during option parsing
            code = EXIT_TERMINATED
        raise SystemExit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="bp",
    cls=BpGroup,
    help="Train small neural networks from YAML and see backpropagation number by number.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from backprop_core import __version__

        typer.echo(f"bp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print bp's version and exit.",
        ),
    ] = False,
) -> None:
    """Train small neural networks from YAML and see backpropagation number by number."""


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
    """Run one command with safe standard streams; exit with its code (SPEC §6)."""
    from backprop_core.errors import BpError
    from cli import streams
    from cli.errors import handle_sigterm, interrupted_exit, print_error

    handle_sigterm()  # the process's own entry point only: never in a host (tests, notebooks)
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
    except KeyboardInterrupt as e:
        word, code = interrupted_exit(e)
        print_error(word)
    if isinstance(code, str):  # sys.exit("message") prints it; none of bp's code does this
        print_error(code)
        code = 1
    sys.exit(streams.finish(code or 0))
