"""Checkpoints are configs: the same YAML with the trained weights filled in.

Weight sets larger than `INLINE_LIMIT` numbers go to an ``.npz`` beside the
YAML (``W1``, ``b1``, ...), referenced by ``network.weights_file``.

A checkpoint and its weights are one unit. Each save writes its weights under
a new name holding the start of their SHA-256 (``run.weights-3fa9c2d1e0b4.npz``),
then the YAML that names them, then removes the weights the previous YAML
named. A crash between the two renames leaves the previous YAML with its own
weights; loading checks the hash, so weights from another run are refused.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from backprop_core import __version__
from backprop_core.atomic import check_writable, target_of, write_bytes, write_text
from backprop_core.config.model import LoadedConfig
from backprop_core.data.load import Dataset
from backprop_core.data.npz import read_npz
from backprop_core.engine.network import Network
from backprop_core.errors import DataError
from backprop_core.run.checkpoint_yaml import checkpoint_text

INLINE_LIMIT = 10_000
HASH_CHARS = 12  # hex digits of the SHA-256 in a weights file's name
_HASHED_NAME = re.compile(rf"\.weights-([0-9a-f]{{{HASH_CHARS}}})\.npz$")
# Test-only: when set, a save stops (os._exit(99)) between writing the weights and
# the YAML, as a kill at that moment would. Never set it outside the test suite.
CRASH_AFTER_WEIGHTS_ENV = "BP_TEST_CRASH_AFTER_WEIGHTS"


def weights_name(path: Path, digest: str) -> str:
    """The name of the weights file a save of `path` writes, for weights hashing to `digest`."""
    return f"{path.stem}.weights-{digest[:HASH_CHARS]}.npz"


def check_save_path(path: Path, parameters: int | None = None) -> None:
    """Before training: the checkpoint (and the weights file beside it that
    `parameters` numbers need) can be written."""
    check_writable(path)
    if parameters is not None and parameters > INLINE_LIMIT:
        room = len(weights_name(path, "0" * HASH_CHARS)) - len(path.name)
        check_writable(path, name_room=max(room, 0))


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
    previous = _weights_named_by(path)
    if network.parameter_count() > INLINE_LIMIT:
        buffer = io.BytesIO()
        arrays = {f"W{k}": w for k, w in network.W.items()} | {
            f"b{k}": b for k, b in network.b.items()
        }
        np.savez(buffer, **arrays)
        content = buffer.getvalue()
        npz = target_of(path).parent / weights_name(path, hashlib.sha256(content).hexdigest())
        write_bytes(npz, content)
        written.append(npz)
        weights_file = npz.name
        if os.environ.get(CRASH_AFTER_WEIGHTS_ENV):
            os._exit(99)
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
    if previous is not None and previous.name != weights_file:
        with contextlib.suppress(OSError):
            previous.unlink()  # the old YAML, which named it, is gone
    return written


def _weights_named_by(path: Path) -> Path | None:
    """The weights file an existing checkpoint at `path` names, if bp wrote it there."""
    target = target_of(path)
    try:
        if not target.is_file() or target.stat().st_size > 1_000_000:
            return None
        with target.open("rb") as f:
            head = f.read()
        # Any layout (block or flow, quoted or not): the name is checked below.
        match = re.search(rb"weights_file:\s*['\"]?([^\s'\",}]+\.weights-[0-9a-f]+\.npz)", head)
    except OSError:
        return None
    if match is None:
        return None
    name = os.fsdecode(match.group(1))
    if "/" in name or name != weights_name(path, name.rsplit("-", 1)[1][:HASH_CHARS]):
        return None  # only the name a save of this very path would have used
    return target.parent / name


def read_weights_file(loaded: LoadedConfig, name: str) -> dict[str, np.ndarray]:
    """The arrays ``W1, b1, ...`` of `network.weights_file`, checked against the layers.

    A layer that lists its own ``weights`` (or ``biases``) in the YAML does not
    need them in the file; the YAML wins.
    """
    path = (loaded.folder / name).resolve()
    key = ("network", "weights_file")
    if not path.is_file():
        raise loaded.error(key, f"weights file not found: {path}")
    _check_hash(loaded, path)
    spec = loaded.config.network
    units = [spec.inputs, *(layer.units for layer in spec.layers)]
    names = [f"{kind}{k}" for k in range(1, len(spec.layers) + 1) for kind in "Wb"]
    try:
        arrays = read_npz(path, path.name, names)
    except DataError as e:
        raise loaded.error(key, f"cannot read weights file {path.name}: {e.message}") from None
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


def _check_hash(loaded: LoadedConfig, path: Path) -> None:
    """A weights file named by a save holds the weights that save wrote, or is refused."""
    match = _HASHED_NAME.search(path.name)
    if match is None:
        return  # a name the user chose: nothing recorded to check against
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as e:
        raise loaded.error(("network", "weights_file"), f"cannot read: {e.strerror}") from None
    if not digest.hexdigest().startswith(match.group(1)):
        raise loaded.error(
            ("network", "weights_file"),
            f"{path.name} does not hold the weights this checkpoint saved (its SHA-256 "
            f"starts {digest.hexdigest()[:HASH_CHARS]}, the name says {match.group(1)}); "
            "the two files come from different saves",
        )


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
