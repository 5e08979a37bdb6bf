"""`bp export`: the network for PyTorch (a training script) or ONNX (inference)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import fail
from cli.options import ConfigArg, SetOpt

NAME = "export"
HELP = (
    "Write the network for PyTorch (a script that trains it exactly as bp does, "
    "also under torchrun) or ONNX (the trained network for inference)."
)


class Target(str, Enum):
    pytorch = "pytorch"
    onnx = "onnx"


def command(
    config: ConfigArg = None,
    to: Annotated[
        Target,
        typer.Option("--to", help="pytorch: a training script (.py); onnx: a model (.onnx)."),
    ] = ...,  # type: ignore[assignment]
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="File to write, or - for stdout.", dir_okay=False),
    ] = ...,  # type: ignore[assignment]
    set_: SetOpt = None,
) -> None:
    from backprop_core import pip_install
    from cli import console

    overrides = list(set_ or [])
    to_stdout = str(output) == "-"
    if to is Target.onnx:
        from backprop_core.config.load import load_config
        from backprop_core.export.extras import require
        from backprop_core.export.onnx_export import export_onnx, onnx_model
        from backprop_core.run.predict import load_model

        require("onnx")
        model = load_model(load_config(config, overrides))
        if to_stdout:
            sys.stdout.buffer.write(onnx_model(model).SerializeToString())
            return
        written = export_onnx(model, output)
        hint = f"next: bp import {output} -o model.yaml  (or serve it with onnxruntime)"
    else:
        from backprop_core.export.pytorch import export_pytorch, pytorch_script
        from backprop_core.run.experiment import load_experiment

        experiment = load_experiment(config, overrides)
        if to_stdout:
            made = pytorch_script(experiment, Path("train_bp.py"), placed=False)
            if made.beside:
                raise fail(
                    "-o -: this script reads its data from a file written beside it "
                    f"({', '.join(made.beside)}); give a file name"
                )
            sys.stdout.write(made.script)
            return
        written = export_pytorch(experiment, output)
        hint = f"next: python {output}  (needs torch: {pip_install('torch')})"
    note = console.stderr()
    for path in written:
        note.print(f"wrote {path}", soft_wrap=True, markup=False)
    note.print(hint, soft_wrap=True, markup=False)
