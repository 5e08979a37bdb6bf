"""`bp import`: an ONNX network of dense layers as a bp config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

NAME = "import"
HELP = (
    "Turn an ONNX model of Gemm/MatMul+Add layers with bp's activations into a bp config "
    "(weights inline), so bp can explain it."
)


def command(
    model: Annotated[Path, typer.Argument(help="The .onnx file.", show_default=False)],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Config file to write.", dir_okay=False)
    ] = ...,  # type: ignore[assignment]
) -> None:
    from backprop_core.export.extras import require
    from backprop_core.export.onnx_import import import_onnx
    from cli import console

    require("onnx")
    written = import_onnx(model, output)
    note = console.stderr()
    for path in written:
        note.print(f"wrote {path}", soft_wrap=True, markup=False)
    note.print(f"next: bp explain {output}", soft_wrap=True, markup=False)
