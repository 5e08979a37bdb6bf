"""`bp export --to pytorch`: a config as one self-contained PyTorch training script.

The script (text; bp never imports torch) builds the same network with the
config's current weights, reads the same data the same way (inline rows
embedded, CSV and ``.npz`` files read from their paths, generated data written
beside the script as ``.npz``), holds out the same validation rows, draws the
same batch order from the same seeded stream, and applies bp's loss and update
rule. Values are written with ``repr``, which round-trips every float exactly.
"""

from __future__ import annotations

import io
import pprint
import sys
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from backprop_core import __version__
from backprop_core.atomic import write_bytes, write_text
from backprop_core.data.load import Dataset, split
from backprop_core.data.sources import data_path, read_source
from backprop_core.data.targets import Raw, encode
from backprop_core.engine.network import Network
from backprop_core.engine.seeding import SHUFFLE
from backprop_core.errors import ConfigError
from backprop_core.export import script_template as parts
from backprop_core.export.operators import torch_expression, torch_loss_sum
from backprop_core.run.checkpoint import checkpoint_document
from backprop_core.run.experiment import Experiment

# Modules a script must not be named after: the standard library, numpy and torch.
HIDDEN_BY_SCRIPT = frozenset(sys.stdlib_module_names) | {"numpy", "torch"}


@dataclass
class Export:
    """The script's text and the files to write beside it (name -> bytes)."""

    script: str
    beside: dict[str, bytes] = field(default_factory=dict)


def export_pytorch(experiment: Experiment, path: Path) -> list[Path]:
    """Write the script to `path` (and its data file when it needs one); return what was written."""
    if path.suffix == ".py" and path.stem in HIDDEN_BY_SCRIPT:
        # Python puts a script's folder first on the import path: `import csv` in
        # csv.py (or in torch, imported by it) would import the script itself.
        raise ConfigError(
            f"a script named {path.name} hides Python's {path.stem} module from itself "
            "and from torch; choose another name, e.g. train_bp.py",
            file=str(path),
        )
    made = pytorch_script(experiment, path)
    written = []
    for name, data in made.beside.items():
        write_bytes(path.parent / name, data)
        written.append(path.parent / name)
    write_text(path, made.script)
    return [*written, path]


def pytorch_script(experiment: Experiment, script: Path, *, placed: bool = True) -> Export:
    """The script to be written at `script`; data files in or below its folder are read
    relative to it. Not `placed` (written to stdout, so its folder is unknown): every
    data file by its absolute path."""
    loaded, network = experiment.loaded, experiment.network
    c = loaded.config
    spec = c.training
    stem = script.stem
    checkpoint = f"{stem}.checkpoint.yaml"
    header = Template(parts.HEADER).substitute(
        name=c.name or stem,
        bp_version=__version__,
        source=loaded.source.label,
        script=script.name,
        checkpoint=checkpoint,
        precision=spec.precision,
        seed=c.seed,
        shuffle_stream=SHUFFLE,
        epochs=spec.epochs,
        batch_size=None if spec.batch_size == "full" else int(spec.batch_size),
        shuffle=spec.shuffle,
        stop_at_loss=spec.stop_at_loss,
        imports=_imports(experiment),
    )
    folder = script.resolve().parent if placed else None
    data, beside = _data_section(experiment, stem, folder)
    main = Template(parts.CHECKPOINT).substitute(checkpoint_literal=repr(checkpoint))
    text = (
        header
        + data
        + _weights_section(experiment)
        + _network_section(network)
        + _update_section(experiment)
        + parts.TRAINING
        + _checkpoint_section(experiment)
        + main
    )
    return Export(text, beside)


def _literal(name: str, value: Any, comment: str = "") -> str:
    """``NAME = value`` with the value pretty-printed (exact: floats as repr)."""
    text = pprint.pformat(value, width=95, compact=True, sort_dicts=False)
    note = f"# {comment}\n" if comment else ""
    if "\n" in text:
        return f"{note}{name} = (\n    " + text.replace("\n", "\n    ") + "\n)\n"
    return f"{note}{name} = {text}\n"


# --- data ------------------------------------------------------------------------


def _data_section(
    experiment: Experiment, stem: str, folder: Path | None
) -> tuple[str, dict[str, bytes]]:
    loaded = experiment.loaded
    c = loaded.config
    raw = read_source(loaded)
    T, classes = encode(loaded, raw)
    beside: dict[str, bytes] = {}
    file = c.data.file
    lines = ["\n"]
    if _reads_csv(experiment):
        lines.append(_data_file(data_path(loaded, file.path), folder))
        lines.append(_literal("INPUT_COLUMNS", raw.input_names))
        lines.append(_literal("TARGET_COLUMNS", raw.target_names))
        lines.append(
            _literal(
                "CLASSES", classes if raw.labels is not None else None, "labels, in output order"
            )
        )
        lines.append(_literal("OUTPUTS", T.shape[1]))
        reader = parts.CSV_READER
    elif file is not None and raw.labels is None:
        lines.append(_data_file(data_path(loaded, file.path), folder))
        reader = parts.NPZ_READER
    elif c.data.generate is not None or file is not None:
        # Generated rows (or an .npz of class labels), encoded, in a file beside the script.
        name = f"{stem}.data.npz"
        buffer = io.BytesIO()
        np.savez(buffer, X=raw.X, T=T)
        beside[name] = buffer.getvalue()
        lines.append(f'DATA_FILE = HERE / "{name}"  # the rows bp trains on, targets encoded\n')
        reader = parts.NPZ_READER
    else:
        lines.append(_literal("INPUTS", raw.X.tolist()))
        lines.append(_literal("TARGETS", T.tolist(), "encoded as bp encodes them"))
        reader = parts.INLINE_READER
    rows = _training_rows(experiment, raw, T)
    lines.append(_literal("TRAINING_ROWS", rows, "None: every row (no validation split)"))
    data = experiment.data
    mean = None if data.mean is None else np.asarray(data.mean, dtype=np.float64).tolist()
    std = None if data.std is None else np.asarray(data.std, dtype=np.float64).tolist()
    lines.append(_literal("MEAN", mean, "input standardization: (X - MEAN) / STD"))
    lines.append(_literal("STD", std))
    return "".join(lines) + reader + parts.DATA_COMMON, beside


def _data_file(path: Path, folder: Path | None) -> str:
    """DATA_FILE: relative to the script when the file is in the script's folder or below
    it (copy the folder, to another machine too, and the script still finds it), else the
    file's absolute path."""
    path = path.resolve()
    if folder is not None and path.is_relative_to(folder):
        return f"DATA_FILE = HERE / {path.relative_to(folder).as_posix()!r}\n"
    return f"DATA_FILE = Path({str(path)!r})\n"


def _reads_csv(experiment: Experiment) -> bool:
    file = experiment.loaded.config.data.file
    return file is not None and file.path.lower().endswith((".csv", ".txt"))


def _imports(experiment: Experiment) -> str:
    """The script's imports: csv and io only where it reads a CSV file."""
    csv = ["csv", "io"] if _reads_csv(experiment) else []
    modules = ["argparse", "copy", *csv, "json", "math", "os"]
    return "\n".join(f"import {m}" for m in modules)


def _training_rows(experiment: Experiment, raw: Raw, T: np.ndarray) -> list[int] | None:
    """The rows bp trains on after its validation split, found by splitting row numbers."""
    c = experiment.loaded.config
    if c.data.validation <= 0:
        return None
    numbered = Dataset(np.arange(len(raw.X), dtype=np.float64)[:, None], T)
    kept = split(numbered, c.data.validation, c.seed, c.loss)
    if kept.X_val is None:
        return None
    return [int(i) for i in kept.X[:, 0]]


# --- network, loss, update -------------------------------------------------------------


def _weights_section(experiment: Experiment) -> str:
    network = experiment.network
    weights = {
        f"{kind}{k}": np.asarray(array, dtype=np.float64).tolist()
        for (kind, k), array in network.parameters()
    }
    masks = experiment.masks()
    frozen = [f"{kind}{k}" for (kind, k), m in masks.items() if m is not None and not m.any()]
    partly = {
        f"{kind}{k}": m.astype(np.float64).tolist()
        for (kind, k), m in masks.items()
        if m is not None and m.any()
    }
    return (
        "\n\n"
        + _literal("WEIGHTS", weights, "W(k): (inputs, units); b(k): the bias weights w_0j")
        + _literal("FROZEN", frozen, "weight arrays that never move")
        + _literal("MASKS", partly, "partly frozen arrays: 0 = frozen weight")
    )


def _network_section(network: Network) -> str:
    lines = []
    previous = "X"
    for k, layer in enumerate(network.layers, start=1):
        bias = f" + self.b{k}" if k in network.b else ""
        H = "H" if k == network.K else f"H{k}"
        A = "Y" if k == network.K else f"A{k}"
        lines.append(f"        {H} = {previous} @ self.W{k}{bias}")
        lines.append(f"        {A} = {torch_expression(layer.activation, H)}")
        previous = A
    layout = " -> ".join(
        [str(network.inputs)] + [f"{ly.units} {ly.activation.describe()}" for ly in network.layers]
    )
    return Template(parts.NETWORK).substitute(
        layout=layout,
        forward="\n".join(lines),
        loss_doc=f"bp's {network.loss}",
        loss_expression=torch_loss_sum(network.loss),
    )


def _update_section(experiment: Experiment) -> str:
    spec = experiment.loaded.config.training
    opt = spec.optimizer
    doc, init, step = parts.UPDATE_RULES[opt.name]
    values = {
        "eta": repr(spec.eta),
        "momentum": repr(opt.momentum),
        "beta1": repr(opt.beta1),
        "beta2": repr(opt.beta2),
        "epsilon": repr(opt.epsilon),
    }
    return Template(parts.UPDATE).substitute(
        rule_doc=doc, update_init=Template(init).substitute(values), update_step=step
    )


def _checkpoint_section(experiment: Experiment) -> str:
    """bp's own checkpoint document of this config; the script fills in the trained weights."""
    loaded = experiment.loaded
    doc = checkpoint_document(
        loaded, experiment.network, experiment.data, epochs=0, final_loss=0.0, status=""
    )
    for layer in doc["network"]["layers"]:
        layer.pop("weights", None)
        layer.pop("biases", None)
    doc.pop("trained", None)
    before = loaded.config.trained.epochs if loaded.config.trained is not None else 0
    return (
        "\n\n"
        + _literal("NAME", loaded.config.name or "")
        + _literal("BP_VERSION", __version__)
        + _literal("EPOCHS_BEFORE", before, "epochs behind the exported weights")
        + _literal("CHECKPOINT", doc)
    )
