"""`bp explain` as GitHub-flavoured Markdown: a table per section, formulas as math.

Formulas are GitHub math written ``$`...`$``: the backtick form of ``$...$``
that GitHub documents for expressions holding Markdown's own characters
(``_``, ``*``, ``\\``), so that a subscript never turns into emphasis and a table
cell never breaks. The numbers stay plain text in code spans (``2 * 0.25``), to
be checked digit by digit on GitHub and in the raw file alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from backprop_core.explain.expr import Expr, Prose
from backprop_core.explain.steps import Explanation, SampleTable, Step
from cli.render.explain_text import sample_values, summary
from cli.render.math_latex import inline, plain
from cli.render.numbers import num


def code(text: str) -> str:
    # A table cell ends at an unescaped |; formulas never hold backticks.
    return f"`{text}`".replace("|", "\\|") if text else ""


def math(e: Expr | None) -> str:
    """An expression as GitHub inline math; "" for none."""
    if e is None:
        return ""
    return f"$`{plain(e)}`$".replace("|", "\\|")


def prose(line: str) -> str:
    """A line of prose with its formulas (a `Prose`'s trees) as GitHub math."""
    if not isinstance(line, Prose):
        return line
    return "".join(p if isinstance(p, str) else f"$`{inline(p)}`$" for p in line.parts)


def value_cell(step: Step) -> str:
    if step.samples is not None:
        return f"{code(sample_values(step.samples))}, mean {step.value_text}"
    return f"**{step.value_text}**"


def sample_table(table: SampleTable) -> list[str]:
    """A path's factors and product per sample, then their means, as a Markdown table."""
    lines = ["| sample | " + " | ".join(math(c) for c in table.columns) + " |"]
    lines.append("| --- |" + " ---: |" * len(table.columns))
    for index, values in table.rows:
        lines.append(f"| {index} | " + " | ".join(num(v) for v in values) + " |")
    if table.skipped:
        lines.append(f"| ... {table.skipped} more |" + " |" * len(table.columns))
    lines.append("| **mean** | " + " | ".join(f"**{num(v)}**" for v in table.mean) + " |")
    return lines


def section_lines(x: Explanation, level: str) -> list[str]:
    lines = [f"- {prose(line)}" for line in x.description]
    for section in x.sections:
        if not section.steps and not section.notes:
            continue
        lines += ["", f"{level} {prose(section.title)}", ""]
        if section.steps:
            lines += ["| step | formula | with numbers | value |", "| --- | --- | --- | ---: |"]
            for step in section.steps:
                formula = math(step.formula)
                if step.explains is not None and step.formula is not None:
                    # the factor read as a chain: d/dH * dH/d...
                    formula = f"$`{plain(step.explains)} = {plain(step.formula)}`$"
                cells = [math(step.lhs), formula, code(step.numbers_text), value_cell(step)]
                lines.append("| " + " | ".join(cells) + " |")
        for step in section.steps:
            if step.table is not None:
                lines += ["", f"{math(step.lhs)} per sample:", "", *sample_table(step.table)]
        for note in section.notes:
            lines += ["", f"> {prose(note)}"]
    lines += ["", f"**{summary(x)}**"]
    return lines


def heading(x: Explanation) -> str:
    return f"{code('dL/d' + x.alias)} ({code(x.canonical)}): backpropagation step by step"


def picture_lines(x: Explanation, picture: str | None) -> list[str]:
    """`picture`: the drawing as Markdown (an image link, or an ``<img>`` with the SVG)."""
    if not picture:
        return []
    # The drawing, only the paths dL/dw runs along in colour.
    caption = (
        f"Blue: {code(x.alias)}. Red: the paths from it to the output, one chain-rule "
        "term each. Grey: edges off those paths."
    )
    return [picture.rstrip("\n"), "", caption, ""]


def render(xs: Sequence[Explanation], command: str, pictures: Sequence[str | None] = ()) -> str:
    """One explanation, or a summary table and then a section per weight."""
    pictures = list(pictures) or [None] * len(xs)
    if len(xs) == 1:
        lines = [f"## {heading(xs[0])}", "", f"`{command}`", ""]
        lines += picture_lines(xs[0], pictures[0])
        lines += section_lines(xs[0], "###")
        return "\n".join([*lines, ""])
    lines = [f"## `{command}`", "", "| weight | name | value | dL/dw | new value |"]
    lines.append("| --- | --- | ---: | ---: | ---: |")
    for x in xs:
        cells = [code(x.alias), code(x.canonical), num(x.value), num(x.grad), num(x.new_value)]
        lines.append("| " + " | ".join(cells) + " |")
    for x, picture in zip(xs, pictures, strict=True):
        lines += ["", f"## {heading(x)}", ""]
        lines += picture_lines(x, picture)
        lines += section_lines(x, "###")
    return "\n".join([*lines, ""])
