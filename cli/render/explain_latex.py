"""`bp explain --format latex`: a complete document that compiles with pdflatex as is.

Only ``article`` and ``amsmath`` (both in texlive-latex-base). Each section of the
derivation is one ``align*``; a step is ``lhs &= formula = numbers = value`` on
one row when it fits the text width, else one ``= ...`` part per row, and a part
still too wide breaks before a ``+`` (one path per row, then their sum) with the
continuation indented. Per-sample values wrap after a comma. Widths are
estimated (cli/render/math_latex.py), on the safe side.

`fragment` keeps the bare ``align*`` block for pasting into one's own notes.
"""

from __future__ import annotations

from collections.abc import Sequence

from backprop_core.explain.expr import BREAK, Expr, New, text_pieces
from backprop_core.explain.steps import Explanation, SampleTable, Step
from cli.render.explain_text import MAX_SAMPLE_VALUES, summary
from cli.render.math_latex import PT_PER_CHAR, escape, inline, latex, number, plain, prose, width
from cli.render.numbers import num

TEXT_WIDTH = 469.0  # pt: 6.5in, set in the preamble
FRAGMENT_WIDTH = 345.0  # pt: the article class's default text width
QUAD = 10.0  # pt: the indent of a continuation row

PREAMBLE = r"""\documentclass{article}
\usepackage{amsmath}
\setlength{\textwidth}{6.5in}
\setlength{\oddsidemargin}{0in}
\setlength{\evensidemargin}{0in}
\setlength{\textheight}{9in}
\setlength{\topmargin}{-0.5in}
\setlength{\parindent}{0pt}
\setlength{\parskip}{4pt}
\allowdisplaybreaks
"""

Chunk = tuple[str, float]  # LaTeX, estimated width in pt


def expr_chunks(e: Expr) -> list[Chunk]:
    """`e` in the pieces a row may break between (before a ``+``)."""
    pieces = latex(e).split(BREAK)
    sizes = [len(p) * PT_PER_CHAR for p in text_pieces(e)]
    if len(pieces) != len(sizes):
        return [(plain(e), width(e))]
    return [(p.rstrip(), s) for p, s in zip(pieces, sizes, strict=True)]


def value_chunks(step: Step) -> list[Chunk]:
    """The value, or the per-sample values and their mean (wrapping after a comma)."""
    mean = number(step.value_text)
    if step.samples is None:
        return [(mean, len(step.value_text) * PT_PER_CHAR)]
    shown = [num(v) for v in step.samples[:MAX_SAMPLE_VALUES]]
    chunks = [(number(v) + ",", (len(v) + 2) * PT_PER_CHAR) for v in shown]
    if len(step.samples) > MAX_SAMPLE_VALUES:
        chunks.append((r"\ldots,", 4 * PT_PER_CHAR))
    first, size = chunks[0]
    chunks[0] = ("(" + first, size + PT_PER_CHAR)
    last, size = chunks[-1]
    chunks[-1] = (last[:-1] + ")", size)
    # A quad after the bracket; the mean in braces, so that its sign is unary.
    chunks.append((rf"\quad\text{{mean }}{{{mean}}}", (len(step.value_text) + 8) * PT_PER_CHAR))
    return chunks


def wrap(chunks: Sequence[Chunk], first: float, room: float) -> tuple[list[str], float]:
    """Chunks in lines of at most `first` (the first line) and `room` points (a chunk
    wider than that stays whole); the lines and the last one's width."""
    lines = [chunks[0][0]]
    used, limit = chunks[0][1], first
    for text, size in chunks[1:]:
        if used + PT_PER_CHAR + size <= limit:
            lines[-1] += " " + text
            used += PT_PER_CHAR + size
        else:
            lines.append(text)
            used, limit = size, room
    return lines, used


def step_rows(step: Step, room: float) -> list[str]:
    """One step as align rows (``lhs &= ...``, then ``&= ...`` / ``&\\quad ...``)."""
    exprs = (step.explains, step.formula, step.numbers)
    parts = [expr_chunks(e) for e in exprs if e is not None]
    parts.append(value_chunks(step))
    eq = 2 * PT_PER_CHAR
    rows: list[str] = []
    used = room + 1.0  # nothing on a row yet: the first part opens one
    for chunks in parts:
        size = sum(s for _, s in chunks) + PT_PER_CHAR * (len(chunks) - 1)
        if rows and used + eq + size <= room:
            rows[-1] += " = " + " ".join(t for t, _ in chunks)
            used += eq + size
            continue
        lines, last = wrap(chunks, room - eq, room - eq - QUAD)
        rows.append("&= " + lines[0])
        rows += [r"&\quad " + line for line in lines[1:]]
        used = eq + last + (QUAD if len(lines) > 1 else 0.0)
    rows[0] = plain(step.lhs) + " " + rows[0]
    return rows


def align(rows: Sequence[str]) -> list[str]:
    """An align* block. A row ends with a line break unless it is the last one (that
    would add an empty row) or an ``\\intertext`` (which stands between rows)."""
    if not rows:
        return []
    ended = [
        r if r.startswith(r"\intertext") or i == len(rows) - 1 else r + r" \\"
        for i, r in enumerate(rows)
    ]
    return [r"\begin{align*}", *ended, r"\end{align*}"]


def _room(steps: Sequence[Step], text_width: float) -> float:
    lhs = max((width(s.lhs) for s in steps), default=0.0)
    return text_width - lhs - QUAD


def body(x: Explanation, heading: str = r"\subsection*") -> list[str]:
    """One explanation: its description, then a heading and an align* per section."""
    # Dashes, not itemize's default bullets: those need a font (TS1) that
    # texlive-latex-base may have to build first.
    lines = [r"\begin{itemize}"]
    lines += [rf"\item[--] {prose(line)}" for line in x.description]
    lines.append(r"\end{itemize}")
    for section in x.sections:
        if not section.steps and not section.notes:
            continue
        lines.append(f"{heading}{{{prose(section.title)}}}")
        room = _room(section.steps, TEXT_WIDTH)
        rows = [row for step in section.steps for row in step_rows(step, room)]
        lines += align(rows)
        for step in section.steps:
            if step.table is not None:
                lines += sample_table(step.lhs, step.table)
        lines += [prose(note) + "\n" for note in section.notes]
    lines.append(r"{\raggedright\textbf{" + escape(summary(x)) + r"}\par}")
    return lines


def sample_table(lhs: Expr, table: SampleTable) -> list[str]:
    """A path's factors and product per sample, then their means, as a small tabular."""
    lines = [
        rf"${plain(lhs)}$ per sample:\\[2pt]",
        r"{\small\begin{tabular}{l" + "r" * len(table.columns) + "}",
        "sample & " + " & ".join(f"${plain(c)}$" for c in table.columns) + r" \\ \hline",
    ]
    for index, values in table.rows:
        lines.append(f"{index} & " + " & ".join(f"${number(num(v))}$" for v in values) + r" \\")
    if table.skipped:
        lines.append(rf"\ldots\ {table.skipped} more" + " &" * len(table.columns) + r" \\")
    means = " & ".join(f"${number(num(v))}$" for v in table.mean)
    lines += [r"\hline mean & " + means, r"\end{tabular}}", ""]
    return lines


def title(x: Explanation) -> str:
    derivative = inline(x.section("deltas").steps[-1].lhs)
    return f"${derivative}$ (\\texttt{{{escape(x.canonical)}}}): backpropagation step by step"


def render(xs: Sequence[Explanation], command: str) -> str:
    """A complete document: one explanation, or a section per weight after a summary."""
    lines = [f"% {command}", PREAMBLE.rstrip("\n"), r"\begin{document}"]
    lines.append(r"{\raggedright\texttt{" + escape(command) + r"}\par}")
    if len(xs) == 1:
        lines.append(r"\section*{" + title(xs[0]) + "}")
        lines += body(xs[0])
    else:
        lines += summary_table(xs)
        for x in xs:
            lines.append(r"\section{" + title(x) + "}")
            lines += body(x)
    lines += [r"\end{document}", ""]
    return "\n".join(lines)


def weight_name(x: Explanation) -> Expr:
    """The weight as the derivation writes it: the update step's ``w`` in ``w_new``."""
    lhs = x.section("update").steps[0].lhs
    return lhs.of if isinstance(lhs, New) else lhs


SUMMARY_ROWS = 40  # rows per tabular: a tabular does not break across pages


def summary_table(xs: Sequence[Explanation]) -> list[str]:
    """Every explained weight: value, gradient, update (a tabular per SUMMARY_ROWS)."""
    lines = [r"\section*{Summary}"]
    for start in range(0, len(xs), SUMMARY_ROWS):
        lines += [
            r"\begin{tabular}{llrrr}",
            r"weight & name & value & $dL/dw$ & new value \\ \hline",
        ]
        for x in xs[start : start + SUMMARY_ROWS]:
            cells = [
                f"${plain(weight_name(x))}$",
                rf"\texttt{{{escape(x.canonical)}}}",
                f"${number(num(x.value))}$",
                f"${number(num(x.grad))}$",
                f"${number(num(x.new_value))}$",
            ]
            lines.append(" & ".join(cells) + r" \\")
        lines += [r"\end{tabular}", ""]
    return lines


def fragment(x: Explanation, command: str) -> str:
    """The derivation as one bare ``align*`` block (needs ``\\usepackage{amsmath}``)."""
    lines = [f"% {command}", "% needs \\usepackage{amsmath}"]
    rows: list[str] = []
    steps = [s for section in x.sections for s in section.steps]
    room = _room(steps, FRAGMENT_WIDTH)
    for section in x.sections:
        if not section.steps and not section.notes:
            continue
        rows.append(rf"\intertext{{\textbf{{{prose(section.title)}}}}}")
        for step in section.steps:
            rows += step_rows(step, room)
        rows += [rf"\intertext{{{prose(note)}}}" for note in section.notes]
    lines += align(rows)
    lines += [f"% {escape(summary(x))}", ""]
    return "\n".join(lines)
