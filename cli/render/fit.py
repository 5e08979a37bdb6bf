"""Tables: built one way, and readable on narrow terminals (COLUMNS=40).

rich shrinks a table that is too wide by cutting cells with "…", which would
turn 0.0078125 into 0.0078…: a wrong number, not a shorter one. A table that
does not fit is printed as records instead, one ``header: value`` per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group, JustifyMethod, RenderableType
from rich.table import Table
from rich.text import Text


def titled_table(title: str, columns: Sequence[tuple[str, JustifyMethod]], **options: Any) -> Table:
    """An empty table with a left-aligned title and the given (header, justify) columns."""
    table = Table(title=title, title_justify="left")
    for name, justify in columns:
        table.add_column(name, justify=justify, **options)
    return table


def fitted(console: Console, table: Table) -> RenderableType:
    """`table` itself when it fits the console's width, else the same cells as records."""
    # Measured without the console's width limit: its natural width.
    natural = console.measure(table, options=console.options.update_width(10_000)).maximum
    if natural <= console.width:
        return table
    return as_records(table)


def as_records(table: Table) -> RenderableType:
    headers = [_plain(column.header) for column in table.columns]
    columns = [list(column.cells) for column in table.columns]
    lines: list[RenderableType] = []
    if table.title:
        lines.append(Text(_plain(table.title), style="bold"))
    for row in range(table.row_count):
        cells = [_plain(column[row]) for column in columns]
        lines.append(Text(f"{headers[0]} {cells[0]}" if headers[0] else cells[0], style="bold"))
        for header, cell in zip(headers[1:], cells[1:], strict=True):
            lines.append(Text(f"  {header}: {cell}" if header else f"  {cell}"))
    if table.caption:
        lines.append(Text(_plain(table.caption)))
    return Group(*lines)


def _plain(value: object) -> str:
    if isinstance(value, Text):
        return value.plain
    return str(value) if value is not None else ""
