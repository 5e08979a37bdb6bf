"""`bp explain` as rich text: one line per step, ``symbol = formula = numbers = value``.

A step too wide for the console puts each ``= part`` on its own line, and a part
still too wide breaks before a ``+`` of a sum, indented (expr.layout_text): never
inside a name or a product, also when written to a file or a pipe. Per-sample
values wrap after a comma; prose (the description, notes, the summary) wraps
between words but never inside ``a -> b``, ``x - m`` or before a bracket.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.text import Text

from backprop_core.explain.expr import layout_text, render_text
from backprop_core.explain.steps import Explanation, SampleTable, Step
from cli.render.fit import titled_table
from cli.render.numbers import num

MAX_SAMPLE_VALUES = 6  # per-sample values written out on a line; the rest is "..."


def sample_values(samples: tuple[float, ...]) -> str:
    """``[4, 5, 6]``: a step's per-sample values, shortened past MAX_SAMPLE_VALUES."""
    shown = [num(v) for v in samples[:MAX_SAMPLE_VALUES]]
    more = len(samples) - MAX_SAMPLE_VALUES
    return "[" + ", ".join(shown) + (f", ... {more} more" if more > 0 else "") + "]"


def step_parts(step: Step) -> list[str]:
    """The right-hand sides of a step, left to right; the last is its value."""
    exprs = (step.explains, step.formula, step.numbers)
    parts = [render_text(e) for e in exprs if e is not None]
    if step.samples is not None:
        parts.append(f"{sample_values(step.samples)}, mean {step.value_text}")
    else:
        parts.append(step.value_text)
    return parts


def fill(pieces: Sequence[str], width: int, indent: int) -> list[str]:
    """`pieces` joined by spaces in lines of at most `width` where they fit; every
    line after the first starts `indent` spaces in. A piece is never split."""
    lines: list[str] = []
    for piece in pieces:
        if lines and len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines.append((" " * indent if lines else "") + piece)
    return lines


OPERATORS = frozenset({"=", "+", "-", "*", "/", "->", "<", ">", "<=", ">="})


def prose_pieces(text: str) -> list[str]:
    """`text` in the pieces a line may break between: at a space, but not beside an
    operator (``0.35 -> 0.3456``, ``(x1 - 0.11)``) nor before a bracket (``Y_i (1 - Y_i)``)."""
    pieces: list[str] = []
    glue = False
    for word in text.split(" "):
        if pieces and (glue or word in OPERATORS or word.startswith(("(", "["))):
            pieces[-1] += " " + word
        else:
            pieces.append(word)
        glue = word in OPERATORS
    return pieces


class Prose:
    """A line of prose wrapped to the console (also in a file or a pipe) between
    `prose_pieces`, continuation lines indented by `hang` more."""

    def __init__(self, text: str, indent: int = 0, hang: int = 2, style: str = "") -> None:
        self.text, self.indent, self.hang, self.style = text, indent, hang, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        pad = " " * self.indent
        width = options.max_width - self.indent
        for line in fill(prose_pieces(self.text), width, self.hang):
            yield Text(pad + line, style=self.style, no_wrap=True, overflow="ignore")


class StepLine:
    """``symbol = formula = numbers = value`` on one line when it fits the console,
    else one ``= ...`` part per line, a part too wide broken before a ``+``."""

    def __init__(self, step: Step, indent: int = 2) -> None:
        self.symbol = step.symbol
        self.exprs = [e for e in (step.explains, step.formula, step.numbers) if e is not None]
        self.parts = step_parts(step)
        self.indent = indent

    def _line(self, parts: list[str], first: bool) -> Text:
        line = Text(" " * self.indent, no_wrap=True, overflow="ignore")
        if first:
            line.append(self.symbol, style="cyan")
        else:
            line.append(" " * len(self.symbol))
        for part in parts:
            line.append(" = ")
            is_value = part is self.parts[-1]
            line.append(part, style="bold" if is_value else None)
        return line

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        one = self._line(self.parts, first=True)
        if one.cell_len <= options.max_width:
            yield one
            return
        # "  symbol = ": where every part starts; a part's own continuation is indented.
        lead = self.indent + len(self.symbol) + 3
        for index, part in enumerate(self.parts):
            if index < len(self.exprs) and lead + len(part) > options.max_width:
                lines = layout_text(self.exprs[index], options.max_width - lead, 2)
            elif lead + len(part) > options.max_width:  # per-sample values: after a comma
                pieces = [p + "," for p in part.split(", ")]
                pieces[-1] = pieces[-1][:-1]
                lines = fill(pieces, options.max_width - lead, 1)
            else:
                lines = [part]
            yield self._line([lines[0]], first=index == 0)
            for line in lines[1:]:
                yield Text(" " * lead + line, no_wrap=True, overflow="ignore")


def title(x: Explanation) -> str:
    return f"dL/d{x.alias} ({x.canonical}): backpropagation step by step"


def summary(x: Explanation) -> str:
    via = f"paths {num(x.path_sum)}, " if x.path_sum is not None else ""
    return (
        f"dL/d{x.alias} = {num(x.grad)} ({via}delta form {num(x.grad)}, "
        f"finite differences {num(x.numeric_grad)}); "
        f"{x.alias}: {num(x.value)} -> {num(x.new_value)}; "
        f"loss {num(x.loss)} -> {num(x.after_loss)}"
    )


def sample_table(table: SampleTable) -> RenderableType:
    """A path's factors and product per sample, then their means."""
    columns = [(render_text(c), "right") for c in table.columns]
    grid = titled_table("", [("sample", "left"), *columns])  # type: ignore[list-item]
    for index, values in table.rows:
        grid.add_row(str(index), *(num(v) for v in values))
    if table.skipped:
        grid.add_row(f"... {table.skipped} more", *("" for _ in table.columns))
    grid.add_row("mean", *(num(v) for v in table.mean), style="bold")
    return grid


def summary_table(xs: Sequence[Explanation]) -> RenderableType:
    """Several weights explained: each one's value, gradient and update."""
    table = titled_table(
        "Summary",
        [
            ("weight", "left"),
            ("name", "left"),
            ("value", "right"),
            ("dL/dw", "right"),
            ("new value", "right"),
        ],
    )
    for x in xs:
        table.add_row(x.alias, x.canonical, num(x.value), num(x.grad), num(x.new_value))
    return table


def render(x: Explanation, paths: list[str] | None = None) -> RenderableType:
    """The whole derivation, section by section, in the order of the source derivation.

    `paths`, when given, is a sketch of the chain-rule paths (one line each), shown
    under the chain-rule heading: the terminal's stand-in for the highlighted drawing.
    """
    out: list[RenderableType] = [Text(title(x), style="bold")]
    out += [Prose(line, style="dim") for line in x.description]
    for section in x.sections:
        if not section.steps and not section.notes:
            continue
        out.append(Text(""))
        out.append(Text(section.title, style="bold underline"))
        if paths and section.title.startswith("Chain rule"):
            out += [Text(f"  {line}", style="cyan") for line in paths]
        for step in section.steps:
            out.append(StepLine(step))
            if step.table is not None:
                out.append(Padding(sample_table(step.table), (0, 0, 0, 4)))
        out += [Prose(note, indent=2, style="italic") for note in section.notes]
    out.append(Text(""))
    out.append(Prose(summary(x), style="bold"))
    return Group(*out)
