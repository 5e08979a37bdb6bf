"""`bp init`: write a commented, ready-to-edit example config."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli import console

NAME = "init"
HELP = (
    "Write a ready-to-edit example config (tiny, tiny-all, xor, spiral, iris, sine, csv, "
    "csv-classifier) "
    "to PATH (default: ./TEMPLATE.yaml); without TEMPLATE, list them."
)


def command(
    template: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(help="Template name; omit to list them.", show_default=False),
    ] = None,
    path: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(
            help="File (or folder) to write. Default: TEMPLATE.yaml here.", show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the templates.")] = False,
) -> None:
    from backprop_core.config.templates import TEMPLATES, data_files, resolve, write_template

    out = console.stdout()
    if list_ or template is None:
        from rich.table import Table

        table = Table(title="templates (bp init NAME [PATH])", title_justify="left")
        table.add_column("name")
        table.add_column("what it is")
        table.add_column("also writes")
        for name, description in TEMPLATES.items():
            table.add_row(name, description, ", ".join(data_files(name)) or "-")
        out.print(table)
        return
    name = resolve(template)
    written = write_template(name, path if path is not None else Path(f"{name}.yaml"), force=force)
    # What was written is status, not a result: stderr, like every other note.
    note = console.stderr()
    for p in written:
        note.print(f"wrote {p}", soft_wrap=True)
    note.print(f"next: bp train {written[0]}", soft_wrap=True)
