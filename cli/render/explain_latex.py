"""`bp explain` as one LaTeX ``align*`` block (amsmath), ready to paste into notes.

The core writes formulas in the derivation's ASCII (``phi'(H21) * hh1``,
``dA21/dA1``, ``delta_1(2)``); `latex` turns each token into the source's LaTeX
(``\\phi'(H_{21}) \\cdot hh_{1}``, ``\\frac{dA_{21}}{dA_{1}}``, ``\\delta_{1}(2)``).
"""

from __future__ import annotations

import re
from typing import Any

from backprop_core.engine.activations import ACTIVATIONS
from cli.render.explain_text import MAX_SAMPLE_VALUES, summary
from cli.render.numbers import num

_TOKEN = re.compile(
    r"(?P<text>mean over the (?:\d+ )?samples of|sum over all \d+ paths|sum of the path products"
    r"|\(numeric\)|path \d+|bias\b)"
    r"|(?P<frac>d[A-Za-z0-9_]+/d[A-Za-z0-9_]+)"
    r"|(?P<half>1/2)"
    r"|(?P<num>\d+(?:\.\d+)?(?:e[+-]?\d+)?)"
    r"|(?P<word>[A-Za-z][A-Za-z0-9_]*'?(?:\(\d+\))?)"
    r"|(?P<star>\*)"
)
_NAMED = {"eta": r"\eta", "eps": r"\epsilon", "log": r"\log", "tanh": r"\tanh", "exp": r"\exp"}
# Activation names that are written as operators (tanh has its own command above).
_OPERATORS = set(ACTIVATIONS)
_ALIAS = re.compile(r"(xh|hh|hy|xy|h\d+h\d+)(?:_(\d+)_(\d+)|(\d+))")


def word(token: str) -> str:
    """One name: ``H21`` -> ``H_{21}``, ``Y_in1`` -> ``Y_{in,1}``, ``xh1`` -> ``xh_{1}``."""
    m = re.fullmatch(r"(.*?)(\(\d+\))?", token)
    assert m is not None
    base, paren = m[1], m[2] or ""
    return _word(base) + paren


def _word(base: str) -> str:
    if base in _NAMED:
        return _NAMED[base]
    if base in _OPERATORS:
        return r"\operatorname{" + base.replace("_", r"\_") + "}"
    if m := re.fullmatch(r"(phi|delta)(?:_(\d+))?('?)", base):
        return f"\\{m[1]}" + (f"_{{{m[2]}}}" if m[2] else "") + m[3]
    if m := re.fullmatch(r"(sum|mean)_(\w)", base):
        return (r"\sum" if m[1] == "sum" else r"\operatorname{mean}") + f"_{m[2]}"
    if base == "L_new":
        return "L_{new}"
    if base.endswith("_new"):
        return _word(base[: -len("_new")]) + "^{(new)}"
    if m := re.fullmatch(r"Y_in(\d*)", base):
        return "Y_{in" + (f",{m[1]}" if m[1] else "") + "}"
    if m := re.fullmatch(r"([HA])(\d+)(?:_(\d+))?", base):
        return f"{m[1]}_{{{m[2]}{',' + m[3] if m[3] else ''}}}"
    if m := re.fullmatch(r"([YTx])(\d+)", base):
        return f"{m[1]}_{{{m[2]}}}"
    if m := re.fullmatch(r"w(\d+)_(\d+)_(\d+)", base):
        return f"w_{{{m[1]},{m[2]},{m[3]}}}"
    if m := _ALIAS.fullmatch(base):
        index = f"{m[2]},{m[3]}" if m[2] else m[4]
        return f"{m[1]}_{{{index}}}"
    return base


def number(text: str) -> str:
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return text
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa == "1" else f"{mantissa} \\times {power}"


def latex(expr: str) -> str:
    """An ASCII formula of the core as LaTeX math."""

    def one(m: re.Match[str]) -> str:
        kind, token = m.lastgroup, m[0]
        if kind == "text":
            return r"\text{" + token + "}"
        if kind == "frac":
            top, bottom = token.split("/")
            return rf"\frac{{d{word(top[1:])}}}{{d{word(bottom[1:])}}}"
        if kind == "half":
            return r"\frac{1}{2}"
        if kind == "num":
            return number(token)
        if kind == "star":
            return r"\cdot"
        return word(token)

    return _TOKEN.sub(one, expr).replace("[", r"\left[").replace("]", r"\right]")


def text(s: str) -> str:
    """Prose for \\intertext: LaTeX's special characters escaped."""
    for char, escaped in (
        ("\\", r"\textbackslash{}"),
        ("_", r"\_"),
        ("%", r"\%"),
        ("&", r"\&"),
        ("#", r"\#"),
        ("$", r"\$"),
        ("{", r"\{"),
        ("}", r"\}"),
        ("^", r"\^{}"),
        ("~", r"\~{}"),
    ):
        s = s.replace(char, escaped)
    return s.replace("->", r"$\to$")


def value(step: Any) -> str:
    if step.samples is not None:
        shown = ", ".join(number(num(v)) for v in step.samples[:MAX_SAMPLE_VALUES])
        more = r", \ldots" if len(step.samples) > MAX_SAMPLE_VALUES else ""
        return rf"({shown}{more}),\ \text{{mean }} {number(num(step.value))}"
    return number(num(step.value))


def render(x: Any, command: str) -> str:
    lines = [
        f"% {text(command)}",
        "% needs \\usepackage{amsmath}",
        r"\begin{align*}",
    ]
    body: list[str] = []
    for section in x.sections:
        if not section.steps and not section.notes:
            continue
        body.append(rf"\intertext{{\textbf{{{text(section.title)}}}}}")
        for step in section.steps:
            rhs = [latex(p) for p in (step.formula, step.numbers) if p] + [value(step)]
            body.append(f"{latex(step.symbol)} &= " + " = ".join(rhs) + r" \\")
        body += [rf"\intertext{{{text(note)}}}" for note in section.notes]
    # No line break after the last row: it would add an empty row at the end.
    if body and body[-1].endswith(r" \\"):
        body[-1] = body[-1][: -len(r" \\")]
    lines += body
    lines += [r"\end{align*}", f"% {text(summary(x))}", ""]
    return "\n".join(lines)
