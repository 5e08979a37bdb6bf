"""CSV data: read a table with a header, locate each bad cell, choose columns as `data.file` says.

A `Table` keeps every cell as text with the line it came from, so an error
names the file, line and column
(``data/iris.csv:17: column 'petal_width': expected a number, got 'abc'``).
`from_csv` turns a table into a source's inputs and targets; `bp predict`
reads its ``--data`` files through the same `Table`.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop_core.data.csv_parallel import read_numbers
from backprop_core.data.targets import Array, Raw, label_mode
from backprop_core.errors import ConfigError, DataError, did_you_mean, shortened, snippet
from backprop_core.streams import STDIN_LABEL, is_dash, read_stdin

if TYPE_CHECKING:
    from backprop_core.config.model import LoadedConfig

# A larger file is refused before reading, and larger input on standard input
# once this much has been read: parsed, numbers take about as many bytes as
# their text; .npz files hold large data without the parse.
MAX_CSV_BYTES = 512 * 2**20


@dataclass
class CsvLocator:
    """A CSV cell: the file, its line number (1 = header) and the column name."""

    label: str
    lines: list[int]
    names: list[str]

    def at(self, row: int | None, column: int | None, message: str) -> ConfigError:
        line = self.lines[row] if row is not None else None
        key = f"column {snippet(self.names[column])}" if column is not None else None
        return DataError(message, file=self.label, line=line, key=key)


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
        hint = did_you_mean(name, self.header)
        where = f" in {self.label}" if in_file else ""
        return f"no column {name!r}{where}{hint}; its columns: {shortened(self.header)}"

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

    def text_column(self, name: str) -> list[str]:
        column = self.header.index(name)
        return [row[column] for row in self.rows]

    def labels(self, name: str) -> list[str]:
        where = self.locator([name])
        out = self.text_column(name)
        for r, text in enumerate(out):
            if not text:
                raise where.at(r, 0, "expected a class label, got an empty cell")
        return out


class NumericTable(Table):
    """A CSV file whose every data cell is a finite number, parsed by NumPy's C reader.

    Holds one float64 array instead of a string per cell. The text rows and
    their line numbers are read (with the csv module, as `Table` reads them)
    only when something asks for them: an error to locate, labels, `bp predict`'s
    line column.
    """

    def __init__(self, label: str, header: list[str], header_line: int, path: Path) -> None:
        self.label, self.header, self.header_line, self.path = label, header, header_line, path
        self.values: Array = np.empty((0, len(header)))
        self._text: Table | None = None

    def _read_text(self) -> Table:
        if self._text is None:
            self._text = _read_text_table(self.path, self.label)
        return self._text

    @property  # type: ignore[override]
    def rows(self) -> list[list[str]]:
        return self._read_text().rows

    @property  # type: ignore[override]
    def lines(self) -> list[int]:
        return self._read_text().lines

    def locator(self, names: list[str]) -> CsvLocator:
        return _LazyLocator(self.label, [], names, self)

    def numbers(self, names: list[str]) -> Array:
        """The named columns: a view of the table's array when they are evenly spaced
        in file order (the inputs, then the target, as usual), else a copy."""
        columns = [self.header.index(name) for name in names]
        first, last = columns[0], columns[-1]
        step = columns[1] - first if len(columns) > 1 else 1
        if step > 0 and columns == list(range(first, last + 1, step)):
            return self.values[:, first : last + 1 : step]
        return self.values[:, columns]

    def text_column(self, name: str) -> list[str]:
        # Every cell is a number, so its text is short; the column alone is read.
        column = self.header.index(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # blank lines "contained no data"
            texts = np.loadtxt(
                self.path,
                dtype=str,
                delimiter=",",
                skiprows=self.header_line,
                comments=None,
                quotechar='"',
                usecols=column,
                ndmin=1,
                encoding="utf-8",
            )
        return [text.strip() for text in texts.tolist()]


@dataclass
class _LazyLocator(CsvLocator):
    """A locator whose line numbers are read from the file when an error needs one."""

    table: NumericTable | None = None

    def at(self, row: int | None, column: int | None, message: str) -> ConfigError:
        if row is not None and not self.lines and self.table is not None:
            self.lines = self.table.lines
        return super().at(row, column, message)


def parse_number(text: str, error: Any) -> float:
    """`text` as a finite float; `error(message)` builds the located error otherwise."""
    if not text:
        raise error("expected a number, got an empty cell")
    try:
        value = float(text)
    except ValueError:
        raise error(f"expected a number, got {snippet(text)}") from None
    if not math.isfinite(value):
        raise error(f"expected a finite number, got {snippet(text)}")
    return value


def read_table(path: Path, label: str) -> Table:
    """Read a CSV file with a header row.

    Lines starting with ``#`` before the header are comments (a citation, say);
    blank lines are skipped. Every row must have as many cells as the header.
    A file of numbers is parsed by NumPy's C reader into one array; any other
    file (labels, a bad cell) is read cell by cell, which names the bad cell.
    """
    if is_dash(path):  # standard input, read once
        raw, label = read_stdin(MAX_CSV_BYTES + 1), STDIN_LABEL
        if len(raw) > MAX_CSV_BYTES:  # refused, not cut short: no rows go missing
            raise DataError(
                f"input is larger than {MAX_CSV_BYTES:,} bytes, the most a CSV file may "
                "hold (save larger data as .npz)",
                file=label,
            )
        return _parse_table(csv.reader(io.StringIO(_decode(raw, label), newline="")), label)
    require_file(path, label)
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise DataError(
            f"file is {size:,} bytes; a CSV file may be at most {MAX_CSV_BYTES:,} bytes "
            "(save larger data as .npz)",
            file=label,
        )
    table = _numeric_table(path, label)
    return table if table is not None else _read_text_table(path, label)


def _read_text_table(path: Path, label: str) -> Table:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read: {e.strerror}", file=label) from None
    return _parse_table(csv.reader(io.StringIO(_decode(raw, label), newline="")), label)


def _decode(raw: bytes, label: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(f"not UTF-8 text (byte {e.start})", file=label, line=line) from None


def _numeric_table(path: Path, label: str) -> NumericTable | None:
    """The file as a `NumericTable`, or None when any data cell is not a finite number."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = _header_of(reader, label)
            if header is None:
                return None
            table = NumericTable(label, header, reader.line_num, path)
        values = read_numbers(path, table.header_line, len(header))
        if values is None:
            values = _loadtxt(path, table.header_line)
    except (OSError, ValueError, csv.Error, DataError):
        return None  # the cell-by-cell reader says what is wrong, and where
    if values.shape[0] == 0 or values.shape[1] != len(header):
        return None
    # One sum finds a NaN or an infinity without a mask the size of the data;
    # only a sum that overflows (or a real NaN) looks at each value.
    with np.errstate(over="ignore"):  # an overflowing sum only sends us to the exact check
        total = float(values.sum())
    if not math.isfinite(total) and not np.isfinite(values).all():
        return None
    table.values = values
    return table


def _loadtxt(path: Path, header_line: int) -> Array:
    """The data rows as `numpy.loadtxt` reads them; ValueError for any bad cell."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "input contained no data": read again below
        return np.loadtxt(
            path,
            dtype=np.float64,
            delimiter=",",
            skiprows=header_line,
            comments=None,
            quotechar='"',
            ndmin=2,
            # Numbers are ASCII: latin-1 decodes them a little faster than UTF-8,
            # and a row with any other character fails either way (then the
            # cell-by-cell reader, in UTF-8, says where).
            encoding="latin-1",
        )


def _header_of(reader: Any, label: str) -> list[str] | None:
    """The header row (comments and blank lines before it skipped); None for no header."""
    for raw in reader:
        cells = [cell.strip() for cell in raw]
        if any(cells) and not cells[0].startswith("#"):
            return _header(cells, label, reader.line_num)
    return None


def require_file(path: Path, label: str) -> None:
    """A data file (CSV or .npz) must exist and be a file; else a DataError naming it."""
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
            raise DataError(
                f"column {snippet(name)} appears twice in the header", file=label, line=line
            )
        seen.add(name)
    return cells


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


def from_csv(loaded: LoadedConfig, table: Table, label: str) -> Raw:
    """A CSV table as `data.file`'s inputs and targets (numbers, or one column of labels)."""
    inputs, targets = csv_columns(loaded, table.header, label)
    raw = Raw(table.numbers(inputs), ("data", "file"), input_names=inputs, target_names=targets)
    raw.where_T = table.locator(targets)
    column = table.index(targets[0])
    cells = [[text] for text in table.text_column(targets[0])] if column is not None else []
    if len(targets) == 1 and label_mode(loaded, 1, cells):
        raw.labels = table.labels(targets[0])
        return raw
    try:
        raw.T = table.numbers(targets)
    except DataError as e:
        if len(targets) == 1 and e.message.startswith("expected a number, got '"):
            # Text in the one target column: the user wants classes, not values.
            e.message += (
                "; a text label: a classifier needs loss "
                "cross_entropy and a softmax output layer with one unit per class "
                "(bp init csv-classifier writes one to start from)"
            )
        raise
    return raw
