"""Where training data comes from: inline rows, a CSV or .npz file, or a generator.

Each reader checks what it can before the targets are encoded and returns a
`Raw` (inputs, and targets as numbers or labels). Inline values are located
by the config's key path (``data.targets[3][0]``); files by their own place
(see `data_csv` and `data_npz`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop_core.data.csv_table import from_csv, read_table
from backprop_core.data.npz import from_npz
from backprop_core.data.targets import Raw, label_mode, label_text
from backprop_core.engine.generators import GENERATORS, generate
from backprop_core.errors import ConfigError
from backprop_core.streams import DASH, STDIN_LABEL, is_dash

if TYPE_CHECKING:
    from backprop_core.config.model import LoadedConfig

MAX_GENERATED = 1_000_000  # rows a generator may draw: bounded memory and time


@dataclass
class InlineLocator:
    """Inline rows: the config's key path, e.g. ``data.targets[3][0]``."""

    loaded: LoadedConfig
    field: str

    def at(self, row: int | None, column: int | None, message: str) -> ConfigError:
        key: tuple[str | int, ...] = ("data", self.field)
        if row is not None:
            key = (*key, row) if column is None else (*key, row, column)
        return self.loaded.error(key, message)


def read_source(loaded: LoadedConfig) -> Raw:
    """The data the config names, as read: `data.file`, `data.generate` or inline rows."""
    spec = loaded.config.data
    if spec.file is not None:
        return _from_file(loaded)
    if spec.generate is not None:
        return _from_generator(loaded)
    return _from_inline(loaded)


def _from_inline(loaded: LoadedConfig) -> Raw:
    spec = loaded.config.data
    assert spec.inputs is not None and spec.targets is not None  # the config model ensures it
    _rectangular(loaded, "inputs", spec.inputs)
    _rectangular(loaded, "targets", spec.targets)
    X = np.asarray(spec.inputs, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise loaded.error(("data", "inputs"), "expected at least one row")
    width = loaded.config.network.inputs
    if X.shape[1] != width:
        raise loaded.error(
            ("data", "inputs"),
            f"expected {width} input value(s) per row (network.inputs), got {X.shape[1]}",
        )
    raw = Raw(X, ("data", "targets"), where_T=InlineLocator(loaded, "targets"))
    rows = spec.targets
    if label_mode(loaded, len(rows[0]) if rows else 0, rows):
        raw.labels = [label_text(r[0]) for r in rows]
        return raw
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if isinstance(v, str):
                raise loaded.error(("data", "targets", i, j), f"expected a number, got {v!r}")
    raw.T = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
    return raw


def _rectangular(loaded: LoadedConfig, name: str, rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        raise loaded.error(("data", name), "expected at least one row")
    first = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != first:
            raise loaded.error(
                ("data", name, i), f"ragged rows: expected {first} values, got {len(r)}"
            )


def file_label(loaded: LoadedConfig, path_text: str) -> str:
    """How to name a data file in messages: as the user would reach it from here."""
    path = Path(path_text)
    if path.is_absolute():
        return str(path)
    return os.path.normpath(Path(loaded.source.label).parent / path)


def data_path(loaded: LoadedConfig, path_text: str) -> Path:
    """Paths inside a config are relative to the config file's folder."""
    return loaded.folder / path_text


def _from_file(loaded: LoadedConfig) -> Raw:
    spec = loaded.config.data.file
    assert spec is not None
    path, label = data_path(loaded, spec.path), file_label(loaded, spec.path)
    suffix = path.suffix.lower()
    if is_dash(spec.path):  # `path: -`: a CSV on standard input
        if loaded.source.label == STDIN_LABEL:
            raise loaded.error(
                ("data", "file", "path"),
                "the config itself was read from standard input; name the data file",
            )
        raw = from_csv(loaded, read_table(Path(DASH), STDIN_LABEL), STDIN_LABEL)
    elif suffix == ".npz":
        for key in ("targets", "inputs"):
            if getattr(spec, key) is not None:
                raise loaded.error(
                    ("data", "file", key), "choosing columns by name works for CSV files only"
                )
        raw = from_npz(loaded, path, label)
    elif suffix in (".csv", ".txt"):
        raw = from_csv(loaded, read_table(path, label), label)
    else:
        raise loaded.error(
            ("data", "file", "path"), f"expected a .csv or .npz file, got {spec.path!r}"
        )
    width = loaded.config.network.inputs
    if raw.X.shape[1] != width:
        raise loaded.error(
            raw.width_key,
            f"{label} has {raw.X.shape[1]} input column(s){_listed(raw.input_names)}, "
            f"but network.inputs is {width}",
        )
    return raw


def _listed(names: list[str] | None) -> str:
    """`` (a, b, c)``: the first few column names, for a message; nothing without names."""
    if names is None:
        return ""
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f" ({shown})"


def _from_generator(loaded: LoadedConfig) -> Raw:
    spec = loaded.config.data.generate
    assert spec is not None
    key = ("data", "generate")
    width = GENERATORS[spec.name][1]
    if width != loaded.config.network.inputs:
        raise loaded.error(
            (*key, "name"),
            f"generator {spec.name!r} makes {width} input(s) per row, "
            f"but network.inputs is {loaded.config.network.inputs}",
        )
    if spec.samples > MAX_GENERATED:
        raise loaded.error((*key, "samples"), f"expected at most {MAX_GENERATED:,} samples")
    k = spec.classes if spec.name == "spiral" else 2
    outputs = loaded.config.network.layers[-1].units
    if spec.name != "sine" and outputs != k and not (outputs == 1 and k == 2):
        # Checked before drawing, so a huge `classes` fails fast.
        raise loaded.error(
            (*key, "classes") if spec.name == "spiral" else (*key, "name"),
            f"generator {spec.name!r} makes {k} classes, but the output layer has "
            f"{outputs} units (use {k} softmax outputs"
            + (", or 1 sigmoid output)" if k == 2 else ")"),
        )
    made = generate(spec.name, spec.samples, spec.noise, spec.classes, loaded.config.seed)
    raw = Raw(made.X, key, where_T=InlineLocator(loaded, "generate"))
    if made.targets is not None:
        raw.T = made.targets
    elif outputs == 1:
        assert made.labels is not None
        raw.T = made.labels[:, None].astype(np.float64)  # a 0/1 column for one sigmoid output
    else:
        assert made.labels is not None
        raw.T = np.eye(made.classes)[made.labels]  # one-hot, classes 0..k-1 in order
    return raw
