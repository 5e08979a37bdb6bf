"""Training data: inline rows, CSV and .npz files, generators; split and scaling.

A `Dataset` holds float arrays ``X (n, inputs)`` and ``T (n, outputs)``, an
optional held-out split, the class names of a classifier, and the input
standardization learned from the training split.

Every bad value is reported where the user can find it: inline data by the
config's key path (``data.targets[3][0]``), a CSV cell by file, line and
column (``data/iris.csv:17: column 'petal_width': expected a number, got 'abc'``),
an ``.npz`` value by array and index (``T[17, 0]``).

Class names (a single label column with ``cross_entropy``, or two labels with
``bce``) are sorted - numbers by value, then text - so the output order does
not depend on the order of the rows; a trained model keeps its own list.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from backprop_core.config import LoadedConfig
from backprop_core.errors import ConfigError, DataError
from backprop_core.generators import GENERATORS, generate
from backprop_core.losses import CLASSIFICATION
from backprop_core.seeding import SPLIT, rng

Array = NDArray[np.floating[Any]]

MAX_GENERATED = 1_000_000  # rows a generator may draw: bounded memory and time


@dataclass
class Dataset:
    X: Array
    T: Array
    X_val: Array | None = None
    T_val: Array | None = None
    classes: list[str] | None = None
    mean: Array | None = None
    std: Array | None = None
    # Column names, where the data came from a CSV file.
    input_names: list[str] | None = None
    target_names: list[str] | None = None

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    def astype(self, dtype: Any) -> Dataset:
        def cast(a: Array | None) -> Array | None:
            return None if a is None else np.ascontiguousarray(a, dtype=dtype)

        return replace(
            self, X=cast(self.X), T=cast(self.T), X_val=cast(self.X_val), T_val=cast(self.T_val)
        )


# --- where a bad value is --------------------------------------------------------


class Locator(Protocol):
    def at(self, row: int | None, column: int | None, message: str) -> ConfigError:
        """An error for the value at (row, column), 0-based; None = the whole row/column."""
        ...


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


@dataclass
class CsvLocator:
    """A CSV cell: the file, its line number (1 = header) and the column name."""

    label: str
    lines: list[int]
    names: list[str]

    def at(self, row: int | None, column: int | None, message: str) -> ConfigError:
        line = self.lines[row] if row is not None else None
        key = f"column {self.names[column]!r}" if column is not None else None
        return DataError(message, file=self.label, line=line, key=key)


@dataclass
class NpzLocator:
    """A value in an .npz array: ``T[17, 0]`` (0-based, as numpy indexes it)."""

    label: str
    array: str

    def at(self, row: int | None, column: int | None, message: str) -> ConfigError:
        index = ", ".join(str(i) for i in (row, column) if i is not None)
        return DataError(message, file=self.label, key=f"{self.array}[{index}]" if index else None)


# --- CSV tables ------------------------------------------------------------------


@dataclass
class Table:
    """A CSV file read as text: header, rows of stripped cells, the line of each row."""

    label: str
    header: list[str]
    header_line: int = 1
    rows: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def locator(self, names: list[str]) -> CsvLocator:
        return CsvLocator(self.label, self.lines, names)

    def index(self, name: str) -> int | None:
        return self.header.index(name) if name in self.header else None

    def missing_message(self, name: str, *, in_file: bool = True) -> str:
        close = difflib.get_close_matches(name, self.header, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        where = f" in {self.label}" if in_file else ""
        return f"no column {name!r}{where}{hint}; its columns: {', '.join(self.header)}"

    def numbers(self, names: list[str]) -> Array:
        """The named columns as a float array; the first bad cell raises with its place."""
        columns = [self.header.index(name) for name in names]
        try:
            # The fast path; any bad cell falls through to the loop that locates it.
            fast = np.array([[float(row[c]) for c in columns] for row in self.rows])
            if np.all(np.isfinite(fast)):
                return fast.reshape(len(self.rows), len(columns))
        except ValueError:
            pass
        where = self.locator(names)
        out = np.empty((len(self.rows), len(columns)))
        for r, row in enumerate(self.rows):
            for c, source in enumerate(columns):
                out[r, c] = parse_number(row[source], lambda m, r=r, c=c: where.at(r, c, m))
        return out

    def labels(self, name: str) -> list[str]:
        column = self.header.index(name)
        where = self.locator([name])
        out = []
        for r, row in enumerate(self.rows):
            if not row[column]:
                raise where.at(r, 0, "expected a class label, got an empty cell")
            out.append(row[column])
        return out


def parse_number(text: str, error: Any) -> float:
    """`text` as a finite float; `error(message)` builds the located error otherwise."""
    if not text:
        raise error("expected a number, got an empty cell")
    try:
        value = float(text)
    except ValueError:
        raise error(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise error(f"expected a finite number, got {text!r}")
    return value


def read_table(path: Path, label: str) -> Table:
    """Read a CSV file with a header row.

    Lines starting with ``#`` before the header are comments (a citation, say);
    blank lines are skipped. Every row must have as many cells as the header.
    """
    require_file(path, label)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read: {e.strerror}", file=label) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(f"not UTF-8 text (byte {e.start})", file=label, line=line) from None
    return _parse_table(csv.reader(io.StringIO(text, newline="")), label)


def require_file(path: Path, label: str) -> None:
    try:
        if path.is_file():
            return
        missing = not path.exists()
    except (OSError, ValueError) as e:  # a name too long, say
        raise DataError(f"cannot read: {getattr(e, 'strerror', None) or e}", file=label) from None
    raise DataError("no such file" if missing else "not a file", file=label)


def _parse_table(reader: Any, label: str) -> Table:
    table: Table | None = None
    try:
        for raw in reader:
            cells = [cell.strip() for cell in raw]
            if not any(cells):
                continue
            if table is None:
                if cells[0].startswith("#"):
                    continue
                table = Table(label, _header(cells, label, reader.line_num), reader.line_num)
                continue
            if len(cells) != len(table.header):
                raise DataError(
                    f"expected {len(table.header)} values (one per header column), "
                    f"got {len(cells)}",
                    file=label,
                    line=reader.line_num,
                )
            table.rows.append(cells)
            table.lines.append(reader.line_num)
    except csv.Error as e:
        raise DataError(f"not valid CSV: {e}", file=label, line=reader.line_num) from None
    if table is None:
        raise DataError("empty file; expected a header row naming the columns", file=label)
    if not table.rows:
        raise DataError("no data rows after the header", file=label)
    return table


def _header(cells: list[str], label: str, line: int) -> list[str]:
    seen: set[str] = set()
    for position, name in enumerate(cells, start=1):
        if not name:
            raise DataError(f"header column {position} has no name", file=label, line=line)
        if name in seen:
            raise DataError(f"column {name!r} appears twice in the header", file=label, line=line)
        seen.add(name)
    return cells


# --- loading -----------------------------------------------------------------------


@dataclass
class _Raw:
    """A source's inputs and targets before encoding; targets are numbers or labels."""

    X: Array
    T: Array | None = None
    labels: list[str] | None = None
    where_T: Locator | None = None
    width_error: Any = None  # (message) -> ConfigError, for whole-source mismatches
    input_names: list[str] | None = None
    target_names: list[str] | None = None


def load_data(loaded: LoadedConfig) -> Dataset:
    spec = loaded.config.data
    if spec.file is not None:
        raw = _from_file(loaded)
    elif spec.generate is not None:
        raw = _from_generator(loaded)
    else:
        raw = _from_inline(loaded)
    T, classes = _encode(loaded, raw)
    if T.shape[0] != raw.X.shape[0]:
        raise raw.width_error(
            f"expected {raw.X.shape[0]} target rows (one per input row), got {T.shape[0]}"
        )
    data = Dataset(
        raw.X, T, classes=classes, input_names=raw.input_names, target_names=raw.target_names
    )
    return finish(loaded, data)


def _check_inputs(raw: _Raw, loaded: LoadedConfig, what: str) -> None:
    width = loaded.config.network.inputs
    if raw.X.shape[1] != width:
        raise raw.width_error(f"{what}, but network.inputs is {width}")


def _from_inline(loaded: LoadedConfig) -> _Raw:
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
    raw = _Raw(X, where_T=InlineLocator(loaded, "targets"))
    raw.width_error = lambda message: loaded.error(("data", "targets"), message)
    rows = spec.targets
    if _label_mode(loaded, len(rows[0]) if rows else 0, rows):
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


def _from_file(loaded: LoadedConfig) -> _Raw:
    spec = loaded.config.data.file
    assert spec is not None
    path, label = data_path(loaded, spec.path), file_label(loaded, spec.path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        for key in ("targets", "inputs"):
            if getattr(spec, key) is not None:
                raise loaded.error(
                    ("data", "file", key), "choosing columns by name works for CSV files only"
                )
        raw = _from_npz(loaded, path, label)
    elif suffix in (".csv", ".txt"):
        raw = _from_csv(loaded, read_table(path, label), label)
    else:
        raise loaded.error(
            ("data", "file", "path"), f"expected a .csv or .npz file, got {spec.path!r}"
        )
    raw.width_error = raw.width_error or (lambda m: loaded.error(("data", "file"), m))
    _check_inputs(raw, loaded, f"{label} has {raw.X.shape[1]} input column(s)" + _listed(raw))
    return raw


def _listed(raw: _Raw) -> str:
    if raw.input_names is None:
        return ""
    names = raw.input_names
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f" ({shown})"


def csv_columns(loaded: LoadedConfig, header: list[str], label: str) -> tuple[list[str], list[str]]:
    """(input names, target names) of a CSV header as `data.file` chooses them.

    Targets default to the last column; inputs default to every other column.
    """
    spec = loaded.config.data.file
    assert spec is not None
    targets = list(spec.targets) if spec.targets else [header[-1]]
    inputs = list(spec.inputs) if spec.inputs else [h for h in header if h not in targets]
    table = Table(label, header)
    for key, names in (("targets", spec.targets), ("inputs", spec.inputs)):
        for i, name in enumerate(names or []):
            if name not in header:
                raise loaded.error(("data", "file", key, i), table.missing_message(name))
    for i, name in enumerate(inputs):
        if name in targets:
            raise loaded.error(
                ("data", "file", "inputs", i), f"column {name!r} is both an input and a target"
            )
    if not inputs:
        raise loaded.error(("data", "file"), f"{label}: no input columns left besides the targets")
    return inputs, targets


def _from_csv(loaded: LoadedConfig, table: Table, label: str) -> _Raw:
    inputs, targets = csv_columns(loaded, table.header, label)
    raw = _Raw(table.numbers(inputs), input_names=inputs, target_names=targets)
    raw.where_T = table.locator(targets)
    column = table.index(targets[0])
    cells = [[row[column]] for row in table.rows] if column is not None else []
    if len(targets) == 1 and _label_mode(loaded, 1, cells):
        raw.labels = table.labels(targets[0])
    else:
        raw.T = table.numbers(targets)
    return raw


def _from_npz(loaded: LoadedConfig, path: Path, label: str) -> _Raw:
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
    raw = _Raw(X, where_T=NpzLocator(label, "T"))
    T = arrays["T"]
    if T.dtype.kind in "biuf":
        _numeric_array(T, NpzLocator(label, "T"), label)  # NaN or inf, even among labels
    T2 = T.reshape(len(T), -1) if T.ndim >= 1 else T.reshape(1, 1)
    if T.dtype.kind in "USO" or (T2.shape[1] == 1 and _label_mode(loaded, 1, T2.tolist())):
        if T2.shape[1] != 1:
            raise DataError(
                f"T holds text, expected one label column, got {T2.shape[1]}", file=label
            )
        raw.labels = [label_text(v) for v in T2[:, 0].tolist()]
    else:
        raw.T = _numeric_array(T, NpzLocator(label, "T"), label)
    return raw


def _numeric_array(a: NDArray[Any], where: NpzLocator, label: str) -> Array:
    if a.dtype.kind not in "biuf":
        raise DataError(f"array {where.array} holds {a.dtype}, expected numbers", file=label)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] == 0:
        raise DataError(
            f"array {where.array} has shape {a.shape}, expected (rows, columns) with rows > 0",
            file=label,
        )
    out = a.astype(np.float64)
    bad = np.argwhere(~np.isfinite(out))
    if len(bad):
        r, c = (int(i) for i in bad[0])
        raise where.at(r, c, f"expected a finite number, got {out[r, c]}")
    return out


def _from_generator(loaded: LoadedConfig) -> _Raw:
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
    raw = _Raw(made.X, where_T=InlineLocator(loaded, "generate"))
    raw.width_error = lambda message: loaded.error(key, message)
    if made.targets is not None:
        raw.T = made.targets
    elif outputs == 1:
        assert made.labels is not None
        raw.T = made.labels[:, None].astype(np.float64)  # a 0/1 column for one sigmoid output
    else:
        assert made.labels is not None
        raw.T = np.eye(made.classes)[made.labels]  # one-hot, classes 0..k-1 in order
    return raw


# --- targets ----------------------------------------------------------------------


def _label_mode(loaded: LoadedConfig, width: int, rows: Sequence[Sequence[Any]]) -> bool:
    """Is a single target column class labels (rather than numbers)?

    With cross_entropy and several outputs, always (one-hot encoding); with bce
    and one output, when some label is not a number (two named classes).
    """
    c = loaded.config
    outputs = c.network.layers[-1].units
    if width != 1 or c.loss not in CLASSIFICATION:
        return False
    if c.loss == "cross_entropy":
        return outputs > 1
    return outputs == 1 and any(not _is_number(label_text(r[0])) for r in rows if r)


def _encode(loaded: LoadedConfig, raw: _Raw) -> tuple[Array, list[str] | None]:
    c = loaded.config
    outputs = c.network.layers[-1].units
    known = c.network.classes
    check_classes(loaded)
    if raw.labels is not None:
        assert raw.where_T is not None
        return encode_labels(raw.labels, outputs, c.loss, known, raw.where_T)
    assert raw.T is not None
    if raw.T.shape[1] != outputs:
        raise raw.width_error(
            f"expected {outputs} target value(s) per row (the output layer's units), "
            f"got {raw.T.shape[1]}"
            + (f" ({', '.join(raw.target_names)})" if raw.target_names else "")
        )
    if raw.where_T is not None:
        check_target_values(c.loss, raw.T, raw.where_T)
    if known is not None:
        return raw.T, list(known)
    if c.loss == "cross_entropy" and outputs > 1:
        return raw.T, [str(i) for i in range(outputs)]
    if c.loss == "bce" and outputs == 1:
        return raw.T, ["0", "1"]
    return raw.T, None  # regression, or several independent sigmoid outputs


def check_target_values(loss: str, T: Array, where: Locator) -> None:
    """bce targets are probabilities and cross_entropy rows distributions.

    The engine's output delta Y - T (losses.OUTPUT_DELTA_SHORTCUT) is the
    gradient only for such targets; any others would train on a wrong gradient.
    """
    if loss == "bce":
        outside = np.argwhere((T < 0) | (T > 1))
        if len(outside):
            r, c = (int(i) for i in outside[0])
            raise where.at(r, c, f"bce targets must lie in [0, 1], got {T[r, c]:g}")
    elif loss == "cross_entropy":
        negative = np.argwhere(T < 0)
        if len(negative):
            r, c = (int(i) for i in negative[0])
            raise where.at(r, c, f"cross_entropy targets must not be negative, got {T[r, c]:g}")
        sums = T.sum(axis=1)
        off = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
        if len(off):
            r = int(off[0])
            raise where.at(
                r, None, f"cross_entropy targets must sum to 1 in each row, got {sums[r]:g}"
            )


def check_classes(loaded: LoadedConfig) -> None:
    """A trained model's `network.classes` must name each output (two for one sigmoid)."""
    c = loaded.config
    known = c.network.classes
    if known is None:
        return
    outputs = c.network.layers[-1].units
    expected = 2 if outputs == 1 else outputs
    if len(known) != expected or len(set(known)) != len(known):
        raise loaded.error(
            ("network", "classes"),
            f"expected {expected} distinct class names (the output layer has {outputs} "
            f"unit(s)), got {len(known)}"
            + ("" if len(set(known)) == len(known) else " with repeats"),
        )


def encode_labels(
    labels: list[str], outputs: int, loss: str, known: list[str] | None, where: Locator
) -> tuple[Array, list[str]]:
    """One-hot columns (softmax) or one 0/1 column (a sigmoid with two named classes)."""
    classes = list(known) if known is not None else sort_classes(set(labels))
    expected = 2 if outputs == 1 else outputs
    if len(classes) != expected:
        shown = ", ".join(classes[:6]) + (", ..." if len(classes) > 6 else "")
        raise where.at(
            None,
            0,
            f"found {len(classes)} classes ({shown}), but the output layer has {outputs} "
            f"unit(s), which means {expected} classes",
        )
    index = {name: i for i, name in enumerate(classes)}
    codes = np.empty(len(labels), dtype=int)
    for row, text in enumerate(labels):
        if text not in index:
            raise where.at(row, 0, f"unknown class {text!r}; expected one of {', '.join(classes)}")
        codes[row] = index[text]
    T = codes[:, None].astype(np.float64) if outputs == 1 else np.eye(outputs)[codes]
    return T, classes


def sort_classes(names: set[str]) -> list[str]:
    """Numbers by value first, then text, so '2' < '10' and the order is stable."""
    return sorted(names, key=lambda s: (0, float(s), s) if _is_number(s) else (1, 0.0, s))


def label_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- split and scale ---------------------------------------------------------------


def finish(loaded: LoadedConfig, data: Dataset) -> Dataset:
    """Split off the validation fraction and standardize, as the config asks."""
    spec = loaded.config.data
    if spec.validation > 0:
        data = split(data, spec.validation, loaded.config.seed, loaded.config.loss)
    if data.n == 0:
        raise DataError("no training rows", file=loaded.source.label, key="data")
    scaling = loaded.config.network.standardization
    if scaling is not None:
        # A trained model scales inputs exactly as it did in training.
        data.mean, data.std = np.asarray(scaling.mean), np.asarray(scaling.std)
    elif spec.standardize:
        data.mean, data.std = statistics(data.X)
    if data.mean is not None and data.std is not None:
        data.X = (data.X - data.mean) / data.std
        if data.X_val is not None:
            data.X_val = (data.X_val - data.mean) / data.std
    return data


def statistics(X: Array) -> tuple[Array, Array]:
    """Column means and standard deviations; a constant column keeps std 1 (stays as is)."""
    std = X.std(axis=0)
    return X.mean(axis=0), np.where(std > 0, std, 1.0)


def split(data: Dataset, fraction: float, seed: int, loss: str) -> Dataset:
    """Hold out `fraction` of the rows, stratified by class for classifiers."""
    generator = rng(seed, SPLIT)
    n = data.n
    if loss in CLASSIFICATION:
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
    mask = np.ones(n, dtype=bool)
    mask[val_rows] = False
    return replace(data, X=data.X[mask], T=data.T[mask], X_val=data.X[~mask], T_val=data.T[~mask])
