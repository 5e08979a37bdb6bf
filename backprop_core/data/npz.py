"""``.npz`` data: arrays ``X`` (inputs) and ``T`` (targets: numbers, or one column of labels).

A bad value is named by array and 0-based index, as numpy indexes it
(``data/set.npz: T[17, 0]: expected a finite number, got nan``). Files are
read with ``allow_pickle=False``: an .npz file cannot run code. Only the arrays
bp uses are read, and only after their declared size (shape x item size, from
the array's header) is checked against `MAX_NPZ_BYTES`: a small archive cannot
decompress into gigabytes.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable
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

MAX_NPZ_BYTES = 1 << 30  # declared bytes of the arrays read from one .npz (1 GiB)
_NPY_MAGIC = b"\x93NUMPY"
_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError)


def read_npz(path: Path, label: str, names: Iterable[str]) -> dict[str, NDArray[Any]]:
    """The arrays among `names` that the archive at `path` holds; nothing else is read.

    Raises DataError (one line, naming `label`) for anything that is not a
    readable .npz, and for arrays whose declared size is over the limit.
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise DataError(_not_an_archive(path), file=label) from None
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read: {getattr(e, 'strerror', None) or e}", file=label) from None
    with archive:
        members = {
            info.filename[: -len(".npy")]: info
            for info in archive.infolist()
            if info.filename.endswith(".npy")
        }
        wanted = [name for name in names if name in members]
        headers = {name: _header(archive, members[name], label) for name in wanted}
        declared = sum(size for _, size in headers.values())
        if declared > MAX_NPZ_BYTES:
            shapes = ", ".join(f"{name} {shape}" for name, (shape, _) in headers.items())
            raise DataError(
                f"the arrays bp reads ({shapes}) declare {declared:,} bytes; "
                f"bp reads at most {MAX_NPZ_BYTES:,} bytes from an .npz",
                file=label,
            )
        arrays = {}
        for name in wanted:
            try:
                with archive.open(members[name]) as f:
                    arrays[name] = np.lib.format.read_array(f, allow_pickle=False)
            except _READ_ERRORS:
                raise DataError(
                    f"array {name!r} is damaged or truncated; save the file again", file=label
                ) from None
    return arrays


def npz_members(path: Path) -> list[str]:
    """The array names an .npz holds (for messages); [] when it cannot be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sorted(n[:-4] for n in archive.namelist() if n.endswith(".npy"))
    except (*_READ_ERRORS,):
        return []


def _header(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str
) -> tuple[tuple[int, ...], int]:
    """(shape, declared bytes) of one member, from its .npy header alone."""
    name = info.filename[: -len(".npy")]
    fmt = np.lib.format
    try:
        with archive.open(info) as f:
            version = fmt.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(f)
            else:
                shape, _, dtype = fmt.read_array_header_2_0(f)
    except _READ_ERRORS:
        raise DataError(f"array {name!r} has no readable .npy header", file=label) from None
    if dtype.hasobject:
        raise DataError(
            f"array {name!r} holds Python objects; bp reads numbers and text only", file=label
        )
    count = 1
    for n in shape:
        count *= int(n)
    return tuple(int(n) for n in shape), count * dtype.itemsize


def _not_an_archive(path: Path) -> str:
    try:
        with path.open("rb") as f:
            start = f.read(len(_NPY_MAGIC))
    except OSError:
        start = b""
    if start == _NPY_MAGIC:
        return (
            "a single .npy array, not an .npz archive; "
            "save the arrays with numpy.savez(path, X=..., T=...)"
        )
    return "not an .npz archive (a zip file of .npy arrays), or a damaged one"


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
    arrays = read_npz(path, label, ("X", "T"))
    for name in ("X", "T"):
        if name not in arrays:
            found = ", ".join(npz_members(path)) or "nothing"
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
