"""The exercise of an answer sheet as a handout: the network, the givens, what to compute.

Markdown (the network drawn in mermaid, which GitHub renders) or a LaTeX
fragment (names typeset as `bp explain --format latex` does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from backprop_core.engine.naming import WeightId
from backprop_core.explain.notation import TextNotation, notation_for
from backprop_core.grading.quantities import Derivation
from backprop_core.grading.sheet import TITLES, batch_note, number_text
from cli.render.diagram import path_sketch
from cli.render.math_latex import escape as tex_text
from cli.render.math_latex import name_latex
from cli.render.numbers import num

# Past this many nodes in a layer the LaTeX handout lists the weights instead of tabling them.
MAX_TABLE_UNITS = 6


def _givens(derivation: Derivation) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(name, value) of the data (inputs, targets) and of the weights."""
    data, weights = [], []
    for name, value in derivation.givens:
        if value.ndim == 1:
            data.append((name, number_text(value if derivation.n > 1 else value[0])))
        else:
            weights.append((name, num(float(value))))
    return data, weights


def _network(derivation: Derivation) -> list[str]:
    first = derivation.explanations[0].description
    return [line for line in first if line.startswith(("network:", "layer "))]


def markdown(derivation: Derivation, experiment: Any, where: str) -> str:
    """The handout in GitHub Markdown; `where` (the config) is not shown to the student."""
    from cli.render.diagram import DiagramTooLargeError, mermaid

    gradients = ", ".join(f"`dL/d{w}`" for w in derivation.weights)
    lines = [f"## Exercise: backpropagation by hand ({gradients})", ""]
    try:
        picture = mermaid(experiment.network, experiment.names)
        lines += ["```mermaid", picture.rstrip("\n"), "```", ""]
    except DiagramTooLargeError:
        pass
    lines += [f"- {line}" for line in _network(derivation)]
    data, weights = _givens(derivation)
    lines += ["", "### Given", ""]
    lines += ["- data: " + ", ".join(f"`{n} = {v}`" for n, v in data)]
    lines += ["- weights: " + ", ".join(f"`{n} = {v}`" for n, v in weights)]
    lines += [f"- learning rate: `eta = {num(derivation.eta)}`", ""]
    lines += ["### Compute", ""]
    note = batch_note(derivation, "`[0.5, 0.25, ...]`")
    lines += [" ".join(note), ""] if note else []
    for section, quantities in groupby(derivation.quantities, key=lambda q: q.section):
        names = ", ".join(f"`{q.name}`" for q in quantities)
        lines.append(f"- {TITLES[section]}: {names}")
    lines += ["", "Write each value into the answer sheet under the name above.", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class WeightTable:
    """One layer's weights: ``cells[r][c]`` is (alias, value) of the weight from the
    node ``sources[r]`` to the node ``targets[c]``."""

    sources: list[str]
    targets: list[str]
    cells: list[list[tuple[str, str]]]


def tables_fit(experiment: Any) -> bool:
    """Small enough for weight tables (past this, a list of the weights)."""
    return max(experiment.network.units) <= MAX_TABLE_UNITS


def weight_tables(experiment: Any) -> list[WeightTable]:
    """The network as its layers' weight tables (a drawing that needs no graphics)."""
    net, names = experiment.network, experiment.names
    nt = TextNotation(notation_for(net))
    tables = []
    for k in range(1, net.K + 1):
        sources = ([0] if k in net.b else []) + list(range(1, net.units[k - 1] + 1))
        targets = range(1, net.units[k] + 1)
        cells = [
            [(names.alias(WeightId(k, i, j)), num(net.weight(WeightId(k, i, j)))) for j in targets]
            for i in sources
        ]
        tables.append(
            WeightTable([nt.out(k - 1, i) for i in sources], [nt.out(k, j) for j in targets], cells)
        )
    return tables


def text_tables(experiment: Any) -> list[str]:
    """The weight tables as plain text, columns aligned."""
    lines: list[str] = []
    for table in weight_tables(experiment):
        rows = [["", *table.targets]]
        rows += [
            [source, *(f"{alias} = {value}" for alias, value in cells)]
            for source, cells in zip(table.sources, table.cells, strict=True)
        ]
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        lines += [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
    return lines


def _latex_tables(experiment: Any, math: Callable[[str], str]) -> list[str]:
    """The weight tables in plain LaTeX (no TikZ: a base TeX installation compiles them)."""
    lines: list[str] = []
    for table in weight_tables(experiment):
        lines += [
            r"\par\smallskip",
            f"\\begin{{tabular}}{{l|{'c' * len(table.targets)}}}",
            " & ".join(["", *(f"${math(t)}$" for t in table.targets)]) + r" \\ \hline",
        ]
        for source, cells in zip(table.sources, table.cells, strict=True):
            row = [f"${math(source)}$", *(f"${math(alias)} = {value}$" for alias, value in cells)]
            lines.append(" & ".join(row) + r" \\")
        lines.append(r"\end{tabular}")
    return lines


def latex(derivation: Derivation, experiment: Any, where: str) -> str:
    leaves = notation_for(experiment.network).leaves(experiment.names)

    def math(name: str) -> str:
        return name_latex(name, leaves)

    gradients = ", ".join(f"$\\frac{{dL}}{{d{math(w)}}}$" for w in derivation.weights)
    data, weights = _givens(derivation)
    lines = [
        f"% bp sheet --format latex ({tex_text(where)}); needs \\usepackage{{amsmath}}",
        f"\\section*{{Exercise: backpropagation by hand ({gradients})}}",
        r"\begin{itemize}",
    ]
    lines += [f"  \\item {tex_text(line)}" for line in _network(derivation)]
    lines += [r"  \item the paths from each weight to the output:", r"\begin{verbatim}"]
    for x in derivation.explanations:
        lines += path_sketch(experiment.names, x.weight)
    lines += [r"\end{verbatim}"]
    lines += ["  \\item data: " + ", ".join(f"${math(n)} = {v}$" for n, v in data)]
    if tables_fit(experiment):
        lines += [r"  \item weights (the row's node feeds the column's node):"]
        lines += _latex_tables(experiment, math)
    else:
        lines += ["  \\item weights: " + ", ".join(f"${math(n)} = {v}$" for n, v in weights)]
    lines += [
        f"  \\item learning rate: $\\eta = {num(derivation.eta)}$",
        r"\end{itemize}",
        r"\subsection*{Compute}",
    ]
    lines += [tex_text(line) for line in batch_note(derivation, "[0.5, 0.25, ...]")]
    lines += [r"\begin{enumerate}"]
    for section, quantities in groupby(derivation.quantities, key=lambda q: q.section):
        names = ", ".join(f"${math(q.name)}$" for q in quantities)
        lines.append(f"  \\item {tex_text(TITLES[section])}: {names}")
    lines += [r"\end{enumerate}", ""]
    return "\n".join(lines)
