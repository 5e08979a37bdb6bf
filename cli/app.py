"""The `bp` Typer app. Each command lives in its own module under cli/commands/.

Commands are built lazily: a run builds only the command it runs, and `bp --help`
lists the commands from their help strings without building any (building one
means reading its signature and every option's annotation); it reads each
``HELP = "..."`` from the module's source rather than running fifteen modules.
Command modules import numpy and the core inside the command, so none of this
imports them.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from cli.coercion import QuickConversion
from cli.errors import reports_errors, usage_error_line

# Command name -> its module under cli/commands/, in the order `bp --help` lists them.
COMMANDS = {
    "train": "train",
    "explain": "explain",
    "grads": "grads",
    "show": "show",
    "check": "check",
    "gradcheck": "gradcheck",
    "predict": "predict",
    "init": "init",
    "schema": "schema",
    "sheet": "sheet",
    "grade": "grade",
    "quiz": "quiz",
    "exercise": "exercise",
    "export": "export",
    "import": "import_onnx",
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"cli.commands.{COMMANDS[name]}")


# A command module's help line as it is written: `HELP = "..."` on one line, or
# string literals on the lines of a parenthesized `HELP = (...)`.
_HELP_LINE = re.compile(r'^HELP = ("[^\n]*"|\((?:\n    "[^\n]*")+\n\))$', re.MULTILINE)


def help_line(name: str) -> str:
    """A command's HELP, read from its module's source (importing it if that fails)."""
    source = Path(__file__).parent / "commands" / f"{COMMANDS[name]}.py"
    try:
        found = _HELP_LINE.search(source.read_text(encoding="utf-8"))
        if found is not None:
            text = ast.literal_eval(found.group(1))
            if isinstance(text, str):
                return text
    except (OSError, ValueError, SyntaxError):
        pass
    return str(_module(name).HELP)


class BpCommand(QuickConversion, TyperCommand):
    """One command: Typer's, its option values converted without pydantic where
    that gives the same value (cli/coercion.py)."""


class BpGroup(QuickConversion, TyperGroup):
    """The command group: subcommands built from their modules when first asked for;
    usage errors (a bad option value, an unknown option or command) as one
    ``error:`` line on stderr and exit 2, instead of Click's boxed usage text."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            module = _module(cmd_name)
            single = typer.Typer(rich_markup_mode=None, add_completion=False)
            single.command(module.NAME, help=module.HELP, cls=BpCommand)(
                reports_errors(module.command)
            )
            self.commands[cmd_name] = typer.main.get_command(single)
        return self.commands[cmd_name]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in COMMANDS:
            # A typo: typer suggests from the commands built, so build them all
            # (only on the way to this error).
            for name in COMMANDS:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # Each command's whole help line, wrapped (not cut to the terminal's width).
        rows = [(name, help_line(name)) for name in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
            if type(e).__name__ == "NoArgsIsHelpError":  # bare `bp`: the help is the answer
                typer.echo(e.format_message())
            else:
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
    # Plain help: rich's help renderer (and markdown-it) costs more to import
    # than typer itself, on every `bp --help`.
    rich_markup_mode=None,
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


def main() -> None:
    """Run one command with safe standard streams; exit with its code (SPEC §6)."""
    from cli import streams
    from cli.errors import handle_sigterm, interrupted_exit, print_error

    code: int | str | None = 0
    try:
        # Inside the try: a SIGTERM that lands while the handler is being installed
        # is already a Terminated, reported below like any other.
        handle_sigterm()  # the process's own entry point only: never in a host (tests, notebooks)
        streams.prepare()
        app()
    except SystemExit as e:
        code = e.code
    except streams.ReaderGoneError:
        code = 0
    except streams.OutputError as e:  # stdout failed while Click printed help or usage
        print_error(str(e))
        code = e.exit_code
    except KeyboardInterrupt as e:
        word, code = interrupted_exit(e)
        print_error(word)
    if isinstance(code, str):  # sys.exit("message") prints it; none of bp's code does this
        print_error(code)
        code = 1
    sys.exit(streams.finish(code or 0))
