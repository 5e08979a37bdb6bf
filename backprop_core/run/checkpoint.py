"""Checkpoints are configs: the same YAML with the trained weights filled in.

Weight sets larger than `INLINE_LIMIT` numbers go to an ``.npz`` beside the
YAML (``W1``, ``b1``, ...), referenced by ``network.weights_file``.
"""

from __future__ import annotations

import copy
import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from backprop_core import __version__
from backprop_core.atomic import write_bytes, write_text
from backprop_core.config.model import LoadedConfig
from backprop_core.data.load import Dataset
from backprop_core.engine.network import Network
from backprop_core.run.checkpoint_yaml import checkpoint_text

INLINE_LIMIT = 10_000


def checkpoint_document(
    loaded: LoadedConfig,
    network: Network,
    data: Dataset,
    *,
    epochs: int,
    final_loss: float,
    status: str,
    note: str | None = None,
    weights_file: str | None = None,
) -> dict[str, Any]:
    doc = copy.deepcopy(loaded.source.data)
    net = doc.setdefault("network", {})
    layers = net["layers"]
    net.pop("weights_file", None)
    for k, layer in enumerate(layers, start=1):
        layer.pop("weights", None)
        layer.pop("biases", None)
        if weights_file is None:
            layer["weights"] = network.W[k].astype(float).tolist()
            if k in network.b:
                layer["biases"] = network.b[k].astype(float).tolist()
    if weights_file is not None:
        net["weights_file"] = weights_file
    if data.mean is not None and data.std is not None:
        net["standardization"] = {"mean": data.mean.tolist(), "std": data.std.tolist()}
    if data.classes is not None:
        net["classes"] = list(data.classes)
    # The saved weights already include the training; the data section keeps
    # its meaning (standardization now comes from the stored statistics).
    doc.setdefault("data", {}).pop("standardize", None)
    # Epochs count every run these weights went through: training a checkpoint
    # again continues from its weights, so the record adds up.
    before = loaded.config.trained.epochs if loaded.config.trained is not None else 0
    doc["trained"] = {
        "epochs": before + epochs,
        "final_loss": final_loss if math.isfinite(final_loss) else None,
        "status": status,
        "bp_version": __version__,
        **({"note": note} if note else {}),
    }
    _relocate_paths(doc, loaded.folder)
    return doc


def save_checkpoint(
    path: Path,
    loaded: LoadedConfig,
    network: Network,
    data: Dataset,
    *,
    epochs: int,
    final_loss: float,
    status: str = "completed",
    note: str | None = None,
    notes: list[str] | None = None,
) -> list[Path]:
    """Write the checkpoint (and its .npz when large) atomically; return the files written.

    What the user should know about the file (a data path that had to stay
    absolute) is appended to `notes`.
    """
    for _, p in network.parameters():
        if not np.all(np.isfinite(p)):
            raise ValueError("refusing to save non-finite weights")
    written: list[Path] = []
    weights_file = None
    if network.parameter_count() > INLINE_LIMIT:
        npz = path.with_suffix(".weights.npz")
        buffer = io.BytesIO()
        arrays = {f"W{k}": w for k, w in network.W.items()} | {
            f"b{k}": b for k, b in network.b.items()
        }
        np.savez(buffer, **arrays)
        write_bytes(npz, buffer.getvalue())
        written.append(npz)
        weights_file = npz.name
    doc = checkpoint_document(
        loaded,
        network,
        data,
        epochs=epochs,
        final_loss=final_loss,
        status=status,
        note=note,
        weights_file=weights_file,
    )
    doc = _relocated_for(doc, loaded, path.resolve(), notes)
    header = f"# Saved by bp {__version__}: the config with its trained weights.\n"
    write_text(path, checkpoint_text(loaded.source.text, doc, header))
    written.append(path)
    return written


def read_weights_file(loaded: LoadedConfig, name: str) -> dict[str, np.ndarray]:
    """The arrays ``W1, b1, ...`` of `network.weights_file`, checked against the layers.

    A layer that lists its own ``weights`` (or ``biases``) in the YAML does not
    need them in the file; the YAML wins.
    """
    path = (loaded.folder / name).resolve()
    key = ("network", "weights_file")
    if not path.is_file():
        raise loaded.error(key, f"weights file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: np.asarray(npz[k]) for k in npz.files}
    except (OSError, ValueError, EOFError) as e:
        raise loaded.error(key, f"cannot read weights file {path}: {e}") from None
    spec = loaded.config.network
    units = [spec.inputs, *(layer.units for layer in spec.layers)]
    for k, layer in enumerate(spec.layers, start=1):
        wanted = [(f"W{k}", (units[k - 1], units[k]), layer.weights)]
        if layer.bias:
            wanted.append((f"b{k}", (units[k],), layer.biases))
        for array, shape, inline in wanted:
            if inline is not None:
                continue
            if array not in arrays:
                raise loaded.error(key, f"{path.name} has no array {array!r} for layer {k}")
            a = arrays[array]
            if a.dtype.kind not in "biuf" or a.shape != shape:
                raise loaded.error(
                    key,
                    f"{path.name}: {array} has shape {a.shape} ({a.dtype}), "
                    f"expected {shape} numbers for layer {k}",
                )
            if not np.all(np.isfinite(a)):
                raise loaded.error(key, f"{path.name}: {array} holds NaN or infinite values")
    return {k: a.astype(np.float64) for k, a in arrays.items()}


def _relocate_paths(doc: dict[str, Any], folder: Path) -> None:
    """Make data paths absolute so a checkpoint saved elsewhere still finds its data."""
    file = doc.get("data", {}).get("file")
    if isinstance(file, dict) and isinstance(file.get("path"), str) and file["path"] != "-":
        file["path"] = str((folder / file["path"]).resolve())


def _relocated_for(
    doc: dict[str, Any], loaded: LoadedConfig, checkpoint: Path, notes: list[str] | None
) -> dict[str, Any]:
    """A data path the config wrote relative stays relative, now to the checkpoint's
    folder (so the two can move together); one written absolute stays absolute."""
    file = doc.get("data", {}).get("file")
    written = (loaded.source.data or {}).get("data", {}).get("file")
    if not (isinstance(file, dict) and isinstance(file.get("path"), str)) or file["path"] == "-":
        return doc
    if isinstance(written, dict) and Path(str(written.get("path", ""))).is_absolute():
        file["path"] = str(written["path"])
        return doc
    target, new = Path(file["path"]), checkpoint.parent
    try:
        shared = Path(os.path.commonpath([target, new]))
    except ValueError:  # another drive (Windows): no relative path exists
        shared = None
    if shared is not None and shared != Path(shared.anchor):
        file["path"] = Path(os.path.relpath(target, new)).as_posix()
    elif notes is not None:
        # Only the root in common: a relative path would break as soon as either moves.
        notes.append(
            f"{checkpoint}: data.file.path saved as the absolute {target} (no folder in "
            "common with the checkpoint, so a relative path would not travel with it)"
        )
    return doc
