"""The exercise of an answer sheet as a handout: the network, the givens, what to compute.

Markdown (the network drawn in mermaid, which GitHub renders) or a LaTeX
fragment (names typeset as `bp explain --format latex` does).
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from backprop_core.grading.sheet import TITLES, number_text
from cli.render.diagram import path_sketch
from cli.render.math_latex import escape as tex_text
from cli.render.math_latex import name_latex
from cli.render.numbers import num


def _givens(derivation: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(name, value) of the data (inputs, targets) and of the weights."""
    data, weights = [], []
    for name, value in derivation.givens:
        if value.ndim == 1:
            data.append((name, number_text(value if derivation.n > 1 else value[0])))
        else:
            weights.append((name, num(float(value))))
    return data, weights


def _network(derivation: Any) -> list[str]:
    first = derivation.explanations[0].description
    return [line for line in first if line.startswith(("network:", "layer "))]


def markdown(derivation: Any, experiment: Any, where: str) -> str:
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
    if derivation.n > 1:
        lines += [
            f"Per-sample values for each of the {derivation.n} samples; the loss, the paths "
            "and the gradient as means over the samples.",
            "",
        ]
    for section, quantities in groupby(derivation.quantities, key=lambda q: q.section):
        names = ", ".join(f"`{q.name}`" for q in quantities)
        lines.append(f"- {TITLES[section]}: {names}")
    lines += ["", "Write each value into the answer sheet under the name above.", ""]
    return "\n".join(lines)


def latex(derivation: Any, experiment: Any, where: str) -> str:
    from backprop_core.explain.notation import notation_for

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
    lines += [
        "  \\item data: " + ", ".join(f"${math(n)} = {v}$" for n, v in data),
        "  \\item weights: " + ", ".join(f"${math(n)} = {v}$" for n, v in weights),
        f"  \\item learning rate: $\\eta = {num(derivation.eta)}$",
        r"\end{itemize}",
        r"\subsection*{Compute}",
        r"\begin{enumerate}",
    ]
    for section, quantities in groupby(derivation.quantities, key=lambda q: q.section):
        names = ", ".join(f"${math(q.name)}$" for q in quantities)
        lines.append(f"  \\item {tex_text(TITLES[section])}: {names}")
    lines += [r"\end{enumerate}", ""]
    return "\n".join(lines)
