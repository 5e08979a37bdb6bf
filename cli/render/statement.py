"""The exercise of an answer sheet as a handout: the network, the givens, what to compute.

Markdown (the network drawn in mermaid, which GitHub renders) or a LaTeX
fragment (names typeset as `bp explain --format latex` does).
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from backprop_core.engine.naming import WeightId
from backprop_core.explain.notation import notation_for
from backprop_core.grading.quantities import Derivation
from backprop_core.grading.sheet import TITLES, batch_note, number_text
from cli.render.diagram import path_sketch
from cli.render.explain_latex import latex as math
from cli.render.explain_latex import text as tex_text
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


def _weight_tables(experiment: Any) -> list[str]:
    """Each layer's weights as a table: the row's node feeds the column's node.

    The network drawn in plain LaTeX (no TikZ: a base TeX installation compiles it).
    """
    net, names = experiment.network, experiment.names
    nt = notation_for(net)
    lines: list[str] = []
    for k in range(1, net.K + 1):
        sources = ([0] if k in net.b else []) + list(range(1, net.units[k - 1] + 1))
        targets = range(1, net.units[k] + 1)
        lines += [
            r"\par\smallskip",
            f"\\begin{{tabular}}{{l|{'c' * len(targets)}}}",
            " & ".join(["", *(f"${math(nt.out(k, j))}$" for j in targets)]) + r" \\ \hline",
        ]
        for i in sources:
            cells = [
                f"${math(names.alias(WeightId(k, i, j)))} = {num(net.weight(WeightId(k, i, j)))}$"
                for j in targets
            ]
            lines.append(" & ".join([f"${math(nt.out(k - 1, i))}$", *cells]) + r" \\")
        lines.append(r"\end{tabular}")
    return lines


def latex(derivation: Derivation, experiment: Any, where: str) -> str:
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
    if max(experiment.network.units) <= MAX_TABLE_UNITS:
        lines += [r"  \item weights (the row's node feeds the column's node):"]
        lines += _weight_tables(experiment)
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
