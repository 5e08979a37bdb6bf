"""`bp schema`: the JSON Schema of the config file, for editors."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli import console

NAME = "schema"
HELP = "Print the JSON Schema of the config file (for editors' YAML language server)."


def command(
    output: Annotated[
        Optional[Path],  # noqa: UP045 - Typer reads this annotation at runtime
        typer.Option(
            "--output", "-o", help="Write the schema to this file (- : stdout, the default)."
        ),
    ] = None,
) -> None:
    import json

    from backprop_core.config.schema import config_schema

    text = json.dumps(config_schema(), indent=2) + "\n"
    if output is None or str(output) == "-":
        console.write(text)
        return
    from backprop_core.atomic import write_text
    from cli.console import wrote

    write_text(output, text)  # atomic; a ConfigError names the file on failure
    wrote(output)
