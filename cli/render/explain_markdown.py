"""`bp explain` as GitHub-flavoured Markdown: a table per section, names in code spans.

Code spans rather than ``$...$`` math: GitHub's math renderer mangles ``*`` and
``_`` inside inline math, while code spans show the derivation's ASCII formulas
exactly as `bp explain` prints them.
"""

from __future__ import annotations

from typing import Any

from cli.render.explain_text import sample_values, summary
from cli.render.numbers import num


def code(text: str) -> str:
    # A table cell ends at an unescaped |; formulas never hold backticks.
    return f"`{text}`".replace("|", "\\|") if text else ""


def value_cell(step: Any) -> str:
    if step.samples is not None:
        return f"{code(sample_values(step.samples))}, mean {num(step.value)}"
    return f"**{num(step.value)}**"


def render(x: Any, command: str, picture: str | None = None) -> str:
    """`picture`: the drawing, as Markdown (an image link, or an inline ``<svg>``)."""
    heading = f"{code('dL/d' + x.alias)} ({code(x.canonical)}): backpropagation step by step"
    lines = [f"## {heading}", ""]
    lines += [f"`{command}`", ""]
    if picture:
        # The drawing, only dL/dw's paths in colour.
        lines += [picture.rstrip("\n"), ""]
        caption = (
            f"Blue: {code(x.alias)}. Red: the paths from it to the output, one chain-rule "
            "term each. Grey: edges off those paths."
        )
        lines += [caption, ""]
    lines += [f"- {line}" for line in x.description]
    for section in x.sections:
        if not section.steps and not section.notes:
            continue
        lines += ["", f"### {section.title}", ""]
        if section.steps:
            lines += ["| step | formula | with numbers | value |", "| --- | --- | --- | ---: |"]
            for step in section.steps:
                cells = [
                    code(step.symbol),
                    code(step.formula),
                    code(step.numbers),
                    value_cell(step),
                ]
                lines.append("| " + " | ".join(cells) + " |")
        for note in section.notes:
            lines += ["", f"> {note}"]
    lines += ["", f"**{summary(x)}**", ""]
    return "\n".join(lines)
