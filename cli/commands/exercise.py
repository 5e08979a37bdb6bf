"""`bp exercise`: a fresh hand-derivation exercise from a seed (one per student)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

NAME = "exercise"
HELP = (
    "A fresh network with hand-friendly numbers from --seed: writes DIR/exercise.yaml "
    "(the config), DIR/sheet.yaml (its blank answer sheet) and the answer key."
)


class Shape(str, Enum):
    deep = "1-1-2-1"
    wide = "2-2-1"
    two_out = "2-2-2"


class ExerciseActivation(str, Enum):
    linear = "linear"
    sigmoid = "sigmoid"
    tanh = "tanh"
    relu = "relu"


def command(
    seed: Annotated[
        int, typer.Option("--seed", min=0, metavar="N", help="Same seed, same exercise.")
    ] = ...,  # type: ignore[assignment]
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="DIR", help="Folder for exercise.yaml and sheet.yaml."
        ),
    ] = ...,  # type: ignore[assignment]
    shape: Annotated[
        Shape, typer.Option("--shape", help="Nodes per layer, inputs first.")
    ] = Shape.deep,
    activation: Annotated[
        ExerciseActivation, typer.Option("--activation", help="Every layer's activation.")
    ] = ExerciseActivation.linear,
    key: Annotated[
        Optional[Path],  # noqa: UP045 - Typer reads this annotation at runtime
        typer.Option(
            "--key", metavar="FILE", help="Where the answer key goes. Default: DIR/key.yaml."
        ),
    ] = None,
) -> None:
    from backprop_core.atomic import check_writable, write_text
    from backprop_core.errors import ConfigError
    from backprop_core.grading.derivation import derive_experiment
    from backprop_core.grading.exercise import generate
    from backprop_core.grading.sheet import sheet_text
    from backprop_core.run.experiment import load_experiment
    from cli.commands.sheet import title

    if output.exists() and not output.is_dir():
        raise ConfigError("exists and is not a folder", file=str(output))
    if key is not None:
        check_writable(key)  # before any file is written
    exercise = generate(seed, shape.value, activation.value)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot make the folder: {e.strerror or e}", file=str(output)) from None
    config = output / "exercise.yaml"
    write_text(config, exercise.config_text())
    # The sheet is built from the written config: exactly what `bp grade` will read.
    derivation = derive_experiment(load_experiment(config), [exercise.alias])
    label = Path("exercise.yaml")
    write_text(output / "sheet.yaml", sheet_text(derivation, title([exercise.alias], label, False)))
    key_path = key if key is not None else output / "key.yaml"
    write_text(key_path, sheet_text(derivation, title([exercise.alias], label, True), key=True))
    from cli.console import printable

    sys.stderr.write(
        printable(
            f"wrote {config}, {output / 'sheet.yaml'} (for the student) and {key_path} (the key)"
        )
        + "\n"
    )
