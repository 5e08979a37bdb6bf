"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

ConfigArg = Annotated[
    Optional[Path],  # noqa: UP045 - Typer reads this annotation at runtime on Python 3.10
    typer.Argument(
        help="YAML config. Default: the built-in reference example (configs/tiny.yaml).",
        show_default=False,
        dir_okay=True,
        # bp reads the file itself and reports one line; Click's check would box it.
        readable=False,
    ),
]
SetOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--set",
        metavar="KEY.PATH=VALUE",
        help="Override one config value (parsed as YAML), e.g. --set training.eta=0.01. "
        "Repeatable.",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")
]
