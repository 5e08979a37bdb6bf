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
PrintConfigOpt = Annotated[
    bool,
    typer.Option(
        "--print-config",
        help="Print the config as YAML after --set (its comments kept) and exit.",
    ),
]


def print_config(config: Path | None, sets: list[str] | None) -> None:
    """The config after --set, as YAML on stdout: what the command would have run."""
    import sys

    from backprop_core.config.load import read_source
    from backprop_core.run.checkpoint_yaml import yaml_text

    source = read_source(config, list(sets or []))
    sys.stdout.write(yaml_text(source.text, source.data or {}))
