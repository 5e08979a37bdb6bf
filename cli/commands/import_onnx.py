"""`bp import`: an ONNX network of dense layers as a bp config."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

NAME = "import"
HELP = (
    "Turn an ONNX model of Gemm/MatMul+Add layers with bp's activations into a bp config "
    "(weights inline), so bp can explain it. '-' reads the model from stdin; -o - writes "
    "the config to stdout."
)


def command(
    model: Annotated[Path, typer.Argument(help="The .onnx file, or - for stdin.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Config file to write, or - for stdout.")
    ] = ...,  # type: ignore[assignment]
) -> None:
    from backprop_core.atomic import write_text
    from backprop_core.export.extras import require
    from backprop_core.export.onnx_import import onnx_to_config, read_file
    from cli import console

    require("onnx")
    if str(model) == "-":
        text = onnx_to_config(sys.stdin.buffer.read(), "<stdin>", "imported")
    else:
        text = onnx_to_config(read_file(model), str(model), model.stem)
    if str(output) == "-":
        sys.stdout.write(text)
        return
    write_text(output, text)
    note = console.stderr()
    note.print(f"wrote {output}", soft_wrap=True, markup=False)
    note.print(f"next: bp explain {output}", soft_wrap=True, markup=False)
