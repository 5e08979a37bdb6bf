"""``.npz`` data: arrays ``X`` (inputs) and ``T`` (targets: numbers, or one column of labels).

A bad value is named by array and 0-based index, as numpy indexes it
(``data/set.npz: T[17, 0]: expected a finite number, got nan``). Files are
read with ``allow_pickle=False``: an .npz file cannot run code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.data.csv_table import require_file
from backprop_core.data.targets import Array, Raw, first_cell, label_mode, label_text
from backprop_core.errors import ConfigError, DataError

if TYPE_CHECKING:
    from backprop_core.config.model import LoadedConfig


@dataclass
class NpzLocator:
    """A value in an .npz array: ``T[17, 0]`` (0-based, as numpy indexes it)."""

    label: str
    array: str

    def at(self, row: int | None, column: int | None, message: str) -> ConfigError:
        index = ", ".join(str(i) for i in (row, column) if i is not None)
        return DataError(message, file=self.label, key=f"{self.array}[{index}]" if index else None)


def from_npz(loaded: LoadedConfig, path: Path, label: str) -> Raw:
    """The file's ``X`` and ``T`` as `data.file`'s inputs and targets."""
    require_file(path, label)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: np.asarray(npz[name]) for name in npz.files}
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"cannot read as .npz: {e}", file=label) from None
    for name in ("X", "T"):
        if name not in arrays:
            found = ", ".join(sorted(arrays)) or "nothing"
            raise DataError(
                f"missing array {name!r} (X: inputs, T: targets); the file holds {found}",
                file=label,
            )
    X = _numeric_array(arrays["X"], NpzLocator(label, "X"), label)
    where_T = NpzLocator(label, "T")
    raw = Raw(X, ("data", "file"), where_T=where_T)
    T = arrays["T"]
    if T.dtype.kind in "biuf":
        _numeric_array(T, where_T, label)  # NaN or inf, even among labels
    T2 = T.reshape(len(T), -1) if T.ndim >= 1 else T.reshape(1, 1)
    if T.dtype.kind in "USO" or (T2.shape[1] == 1 and label_mode(loaded, 1, T2.tolist())):
        if T2.shape[1] != 1:
            raise DataError(
                f"T holds text, expected one label column, got {T2.shape[1]}", file=label
            )
        raw.labels = [label_text(v) for v in T2[:, 0].tolist()]
    else:
        raw.T = _numeric_array(T, where_T, label)
    return raw


def _numeric_array(a: NDArray[Any], where: NpzLocator, label: str) -> Array:
    """`a` as a float (rows, columns) array; a 1-D array is one column.

    Floats keep their dtype (float32 data trained in float32 is never copied to
    float64 and back); integers become float64. Finiteness is checked with one
    float64 sum, and only a sum that is not finite looks for the bad value.
    """
    if a.dtype.kind not in "biuf":
        raise DataError(f"array {where.array} holds {a.dtype}, expected numbers", file=label)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] == 0:
        raise DataError(
            f"array {where.array} has shape {a.shape}, expected (rows, columns) with rows > 0",
            file=label,
        )
    out = a if a.dtype.kind == "f" else a.astype(np.float64)
    if not np.isfinite(out.sum(dtype=np.float64)):
        bad = first_cell(~np.isfinite(out))
        if bad is not None:
            r, c = bad
            raise where.at(r, c, f"expected a finite number, got {float(out[r, c])}")
    return out
