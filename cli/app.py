"""The `bp` Typer app. Each command lives in its own module under cli/commands/.

Commands are built lazily: a run builds only the command it runs, and `bp --help`
lists the commands from their help strings without building any (building one
means reading its signature and every option's annotation). Command modules
import numpy and the core inside the command, so none of this imports them.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import typer
from typer.core import TyperGroup

from cli.errors import reports_errors

# In the order `bp --help` lists them.
COMMANDS = ("train", "explain", "grads", "show", "check", "gradcheck", "predict", "init", "schema")


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"cli.commands.{name}")


class LazyGroup(TyperGroup):
    """A group whose subcommands are built from their modules when first asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            module = _module(cmd_name)
            single = typer.Typer(rich_markup_mode=None)
            single.command(module.NAME, help=module.HELP)(reports_errors(module.command))
            self.commands[cmd_name] = typer.main.get_command(single)
        return self.commands[cmd_name]

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # Each command's whole help line, wrapped (not cut to the terminal's width).
        rows = [(name, _module(name).HELP) for name in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="bp",
    cls=LazyGroup,
    help="Train small neural networks from YAML and see backpropagation number by number.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: rich's help renderer (and markdown-it) costs
    # more to import than typer itself, on every `bp --help` and bad option.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _group() -> None:
    # A callback makes the app a group even though no command is registered up front.
    pass


def main() -> None:
    app()
