"""Training data: inline rows (this module), CSV/.npz files and generators.

A `Dataset` holds float arrays ``X (n, inputs)`` and ``T (n, outputs)``, an
optional held-out split, the class names of a classifier, and the input
standardization learned from the training split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.config import LoadedConfig
from backprop_core.errors import DataError
from backprop_core.losses import CLASSIFICATION
from backprop_core.seeding import SPLIT, rng

Array = NDArray[np.floating[Any]]


@dataclass
class Dataset:
    X: Array
    T: Array
    X_val: Array | None = None
    T_val: Array | None = None
    classes: list[str] | None = None
    mean: Array | None = None
    std: Array | None = None

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    def astype(self, dtype: Any) -> Dataset:
        def cast(a: Array | None) -> Array | None:
            return None if a is None else np.ascontiguousarray(a, dtype=dtype)

        return Dataset(
            cast(self.X),
            cast(self.T),
            cast(self.X_val),
            cast(self.T_val),  # type: ignore[arg-type]
            self.classes,
            self.mean,
            self.std,
        )


def load_data(loaded: LoadedConfig) -> Dataset:
    c = loaded.config
    spec = c.data
    if spec.inputs is not None and spec.targets is not None:
        X = np.asarray(spec.inputs, dtype=np.float64) if _rectangular(loaded, "inputs") else None
        X_raw: Any = X
        T_raw = spec.targets
    else:
        raise loaded.error(("data",), "file and generated data are not supported by this build yet")
    outputs = c.network.layers[-1].units
    X = _check_width(loaded, ("data", "inputs"), X_raw, c.network.inputs, "input")
    T, classes = _targets(loaded, T_raw, outputs, c.loss, c.network.classes)
    if T.shape[0] != X.shape[0]:
        raise loaded.error(
            ("data", "targets"), f"expected {X.shape[0]} rows (one per input row), got {T.shape[0]}"
        )
    data = Dataset(X, T, classes=classes)
    return finish(loaded, data)


def finish(loaded: LoadedConfig, data: Dataset) -> Dataset:
    """Split off the validation fraction and standardize, as the config asks."""
    spec = loaded.config.data
    if spec.validation > 0:
        data = split(data, spec.validation, loaded.config.seed, loaded.config.loss)
    if data.n == 0:
        raise DataError("no training rows", file=loaded.source.label, key="data")
    scaling = loaded.config.network.standardization
    if scaling is not None:
        data.mean, data.std = np.asarray(scaling.mean), np.asarray(scaling.std)
    elif spec.standardize:
        data.mean = data.X.mean(axis=0)
        std = data.X.std(axis=0)
        data.std = np.where(std > 0, std, 1.0)  # a constant column stays as it is
    if data.mean is not None and data.std is not None:
        data.X = (data.X - data.mean) / data.std
        if data.X_val is not None:
            data.X_val = (data.X_val - data.mean) / data.std
    return data


def split(data: Dataset, fraction: float, seed: int, loss: str) -> Dataset:
    """Hold out `fraction` of the rows, stratified by class for classifiers."""
    generator = rng(seed, SPLIT)
    n = data.n
    if loss in CLASSIFICATION and data.T.shape[1] > 1:
        labels = data.T.argmax(axis=1)
        held: list[int] = []
        for label in np.unique(labels):
            rows = np.flatnonzero(labels == label)
            rows = generator.permutation(rows)
            held.extend(rows[: round(fraction * len(rows))].tolist())
        val_rows = np.array(sorted(held), dtype=int)
    else:
        val_rows = np.sort(generator.permutation(n)[: round(fraction * n)])
    mask = np.ones(n, dtype=bool)
    mask[val_rows] = False
    return Dataset(data.X[mask], data.T[mask], data.X[~mask], data.T[~mask], data.classes)


def _rectangular(loaded: LoadedConfig, field: str) -> bool:
    rows = getattr(loaded.config.data, field)
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        first = len(rows[0])
        for i, r in enumerate(rows):
            if len(r) != first:
                raise loaded.error(
                    ("data", field, i), f"ragged rows: expected {first} values, got {len(r)}"
                )
    return True


def _check_width(
    loaded: LoadedConfig, key: tuple[Any, ...], X: Any, width: int, what: str
) -> Array:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise loaded.error(key, "expected at least one row")
    if X.shape[1] != width:
        raise loaded.error(
            key, f"expected {width} {what} value(s) per row (network.inputs), got {X.shape[1]}"
        )
    return X


def _targets(
    loaded: LoadedConfig, rows: list[list[Any]], outputs: int, loss: str, known: list[str] | None
) -> tuple[Array, list[str] | None]:
    """Numeric target rows, or a single label column one-hot encoded for cross_entropy."""
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        _rectangular(loaded, "targets")
    width = widths.pop() if widths else 0
    if loss == "cross_entropy" and width == 1 and outputs > 1:
        labels = [r[0] for r in rows]
        return one_hot(loaded, ("data", "targets"), labels, outputs, known)
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if isinstance(v, str):
                raise loaded.error(("data", "targets", i, j), f"expected a number, got {v!r}")
    T = np.asarray(rows, dtype=np.float64)
    if T.ndim != 2 or T.shape[1] != outputs:
        raise loaded.error(
            ("data", "targets"),
            f"expected {outputs} target value(s) per row (the output layer's units), got {width}",
        )
    classes = [str(i) for i in range(outputs)] if loss in CLASSIFICATION and outputs > 1 else None
    return T, known or classes


def label_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def one_hot(
    loaded: LoadedConfig,
    key: tuple[Any, ...],
    labels: list[Any],
    outputs: int,
    known: list[str] | None,
) -> tuple[Array, list[str]]:
    """One column per class; classes sorted (numbers by value, then names), unless known."""
    texts = [label_text(v) for v in labels]
    if known is not None:
        classes = list(known)
    else:
        distinct = set(texts)
        classes = sorted(distinct, key=lambda s: (0, float(s), s) if _is_number(s) else (1, 0.0, s))
    if len(classes) != outputs:
        raise loaded.error(
            key,
            f"found {len(classes)} classes ({', '.join(classes[:6])}), "
            f"but the output layer has {outputs} units",
        )
    index = {name: i for i, name in enumerate(classes)}
    T = np.zeros((len(texts), outputs))
    for row, text in enumerate(texts):
        if text not in index:
            raise loaded.error((*key, row), f"unknown class {text!r}; expected one of {classes}")
        T[row, index[text]] = 1.0
    return T, classes


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
