"""Training data: a `Dataset` from the config's source, split and scaled.

A `Dataset` holds float arrays ``X (n, inputs)`` and ``T (n, outputs)``, an
optional held-out split, and its `DataDescription`: the class names of a
classifier, the input standardization learned from the training split and the
CSV column names.

`load_data` reads the source (`data_sources`: inline rows, `data_csv`,
`data_npz`, generators), encodes its targets (`data_targets`), then splits off
the validation rows and standardizes. Every bad value is reported where the
user can find it: inline data by the config's key path
(``data.targets[3][0]``), a CSV cell by file, line and column
(``data/iris.csv:17: column 'petal_width': expected a number, got 'abc'``), an
``.npz`` value by array and index (``T[17, 0]``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.config.model import LoadedConfig

# `name as name` marks a re-export: `predict` reads CSV files and labels through these.
from backprop_core.data.csv_table import Table as Table
from backprop_core.data.csv_table import csv_columns as csv_columns
from backprop_core.data.csv_table import parse_number as parse_number
from backprop_core.data.csv_table import read_table as read_table
from backprop_core.data.description import DataDescription, saved_scaling
from backprop_core.data.sources import data_path as data_path
from backprop_core.data.sources import file_label as file_label
from backprop_core.data.sources import read_source
from backprop_core.data.targets import Array, encode
from backprop_core.data.targets import check_classes as check_classes
from backprop_core.data.targets import encode_labels as encode_labels
from backprop_core.engine.losses import LOSSES
from backprop_core.engine.seeding import SPLIT, rng
from backprop_core.errors import DataError


@dataclass
class Dataset(DataDescription):
    X: Array
    T: Array
    X_val: Array | None = None
    T_val: Array | None = None

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    def astype(self, dtype: Any) -> Dataset:
        def cast(a: Array | None) -> Array | None:
            return None if a is None else np.ascontiguousarray(a, dtype=dtype)

        return replace(
            self, X=cast(self.X), T=cast(self.T), X_val=cast(self.X_val), T_val=cast(self.T_val)
        )


def load_data(loaded: LoadedConfig) -> Dataset:
    raw = read_source(loaded)
    T, classes = encode(loaded, raw)
    if T.shape[0] != raw.X.shape[0]:
        raise loaded.error(
            raw.width_key,
            f"expected {raw.X.shape[0]} target rows (one per input row), got {T.shape[0]}",
        )
    data = Dataset(
        raw.X, T, classes=classes, input_names=raw.input_names, target_names=raw.target_names
    )
    del raw  # the rows as read are the Dataset's alone: a validation split may move them
    return finish(loaded, data)


# --- split and scale ---------------------------------------------------------------


def finish(loaded: LoadedConfig, data: Dataset) -> Dataset:
    """Split off the validation fraction and standardize, as the config asks.

    The arrays are the loader's own (every source reads into new arrays), so
    standardization overwrites them when they have the training precision's
    dtype, and otherwise writes into one new array of that dtype, a block of
    rows at a time: float32 data is never held as a whole float64 copy.
    """
    spec = loaded.config.data
    if spec.validation > 0:
        held = split(data, spec.validation, loaded.config.seed, loaded.config.loss)
        # Into `data` itself: the caller's `data` then holds no copy of the rows as read.
        data.X, data.T, data.X_val, data.T_val = held.X, held.T, held.X_val, held.T_val
    if data.n == 0:
        raise DataError("no training rows", file=loaded.source.label, key="data")
    # A trained model scales inputs exactly as it did in training.
    data.mean, data.std = saved_scaling(loaded)
    if data.mean is None and spec.standardize:
        data.mean, data.std = statistics(data.X)
    if data.mean is not None and data.std is not None:
        dtype = np.float32 if loaded.config.training.precision == "float32" else np.float64
        data.X = scaled(data.X, data.mean, data.std, dtype)
        if data.X_val is not None:
            data.X_val = scaled(data.X_val, data.mean, data.std, dtype)
    return data


# The float64 scratch of one block of the blockwise passes below.
BLOCK_BYTES = 2**20


def scaled(X: Array, mean: Array, std: Array, dtype: Any) -> Array:
    """(X - mean) / std, computed in float64 as `DataDescription.scale` does and
    stored in `dtype`: into X itself when X has that dtype, else into one new array."""
    out = X if X.dtype == dtype and X.flags.writeable else np.empty(X.shape, dtype)
    n, m = X.shape
    step = max(1, BLOCK_BYTES // (8 * max(1, m)))
    block = np.empty((min(step, n), m))
    for start in range(0, n, step):
        rows = slice(start, start + step)
        b = block[: min(step, n - start)]
        np.subtract(X[rows], mean, out=b)
        np.divide(b, std, out=b)
        out[rows] = b
    return out


def statistics(X: Array) -> tuple[Array, Array]:
    """Column means and standard deviations; a constant column keeps std 1 (stays as is).

    In float64 whatever X's dtype, a block of columns at a time: numpy's `std`
    works on a float64 copy of what it is given, and a block keeps that copy
    small. Each column's figures are numpy's own on that column: the same sums
    in the same order, row after row, whatever the block.
    """
    n, m = X.shape
    # numpy sums a single contiguous column pairwise rather than row after row:
    # no block is one column wide unless X is.
    width = max(2, BLOCK_BYTES // (8 * max(1, n)))
    mean, std = np.empty(m), np.empty(m)
    start = 0
    while start < m:
        stop = start + width if m - (start + width) >= 2 else m
        block = X[:, start:stop]
        mean[start:stop] = block.mean(axis=0, dtype=np.float64)
        std[start:stop] = block.std(axis=0, dtype=np.float64)
        start = stop
    return mean, np.where(std > 0, std, 1.0)


def split(data: Dataset, fraction: float, seed: int, loss: str) -> Dataset:
    """Hold out `fraction` of the rows, stratified by class for classifiers.

    The training rows are moved to the front of `data`'s own arrays and the
    held-out rows to the end (`data` no longer holds the rows as they were).
    """
    generator = rng(seed, SPLIT)
    n = data.n
    if LOSSES[loss].classifier:
        labels = data.T.argmax(axis=1) if data.T.shape[1] > 1 else (data.T[:, 0] >= 0.5)
        held: list[int] = []
        for label in np.unique(labels):
            rows = generator.permutation(np.flatnonzero(labels == label))
            held.extend(rows[: round(fraction * len(rows))].tolist())
        val_rows = np.array(sorted(held), dtype=int)
    else:
        val_rows = np.sort(generator.permutation(n)[: round(fraction * n)])
    if len(val_rows) == 0:
        return data  # the fraction rounds to no row: no validation split at all
    kept = np.ones(n, dtype=bool)
    kept[val_rows] = False
    train_rows = np.flatnonzero(kept)
    X, X_val = _partitioned(data.X, train_rows, val_rows)
    T, T_val = _partitioned(data.T, train_rows, val_rows)
    return replace(data, X=X, T=T, X_val=X_val, T_val=T_val)


def _partitioned(
    A: Array, train_rows: NDArray[np.intp], val_rows: NDArray[np.intp]
) -> tuple[Array, Array]:
    """(A[train_rows], A[val_rows]), both ascending, as the first and the last rows of
    A itself: only the held-out rows are copied, and only while A is rearranged.

    The training rows move to the front a block at a time; that is safe in
    place because ``train_rows[i] >= i``: a block reads no row a block has written.
    """
    held = A[val_rows]
    if not A.flags.writeable:
        return A[train_rows], held
    step = max(1, BLOCK_BYTES // max(1, A.itemsize * A[:1].size))
    for start in range(0, len(train_rows), step):
        block = train_rows[start : start + step]
        A[start : start + len(block)] = A[block]
    front = len(train_rows)
    A[front:] = held
    return A[:front], A[front:]
