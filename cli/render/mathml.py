"""The derivation's formulas as MathML (rendered natively by current browsers).

`formula` reads one formula as `bp explain` writes it (``phi'(H21) * hh1``,
``dL/dy * [dy/dA21 * dA21/dA1]``, ``1/2 * (Y - T)^2``, ``delta_1(2)``) and writes
the same expression in MathML: ``H21`` as H with subscript 21, ``dA21/dA1`` as a
fraction of partials, ``phi`` as φ, ``*`` as a centred dot, ``^2`` as a
superscript over the group before it; words (``mean over the samples of``)
stay words. It is the one place the HTML page turns a formula into math, so a
structured expression can replace the parsing here without touching the page.
"""

from __future__ import annotations

import re
from html import escape

NS = "http://www.w3.org/1998/Math/MathML"

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<deriv>d(?P<num>[A-Za-z][A-Za-z0-9_]*)/d(?P<den>[A-Za-z][A-Za-z0-9_]*))
  | (?P<delta>delta(?:_(?P<dj>\d+))?\((?P<dk>\d+)\))
  | (?P<number>\d+(?:\.\d+)?(?:e[-+]?\d+)?)
  | (?P<ident>[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*'?)
  | (?P<sub>_[A-Za-z0-9]+)
  | (?P<op>[-+*/^=,()\[\]])
  | (?P<other>.)
    """,
    re.VERBOSE,
)

GREEK = {"phi": "φ", "eta": "η", "eps": "ε", "delta": "δ"}
FUNCTIONS = {"log", "exp", "softmax", "tanh", "sigmoid", "relu", "L"}
OPERATORS = {"*": "·", "-": "−"}
CLOSING = {"(": ")", "[": "]"}


def mi(text: str) -> str:
    return f"<mi>{escape(text)}</mi>"


def mn(text: str) -> str:
    return f"<mn>{escape(text)}</mn>"


def mo(text: str) -> str:
    if text in "()[]":
        # A bracket hugs what it holds, wherever it stands (after a name, too).
        return f'<mo stretchy="false" lspace="0" rspace="0">{escape(text)}</mo>'
    return f"<mo>{escape(OPERATORS.get(text, text))}</mo>"


def mtext(text: str) -> str:
    return f"<mtext>{escape(text)}</mtext>"


def msub(base: str, sub: str) -> str:
    return f"<msub>{base}{sub}</msub>"


def name(text: str) -> str:
    """A name: ``H21`` -> H with subscript 21, ``Y_in1`` -> Y with subscript in1,
    ``phi_1'`` -> φ′ with subscript 1; weight aliases (``xh1``) stay as written."""
    prime = text.endswith("'")
    core = text.rstrip("'")
    base, _, sub = core.partition("_")
    m = re.fullmatch(r"([A-Za-z])(\d+)", base)
    if m and not sub:
        base, sub = m[1], m[2]
    if base in GREEK:
        out = mi(GREEK[base] + ("′" if prime and not sub else ""))
        prime = prime and bool(sub)
    elif base == "sum":
        out = "<mo>∑</mo>"
    elif base == "mean":
        out = mtext("mean")
    else:
        out = mi(base)
    if sub:
        out = msub(out, mi(sub) if not sub.isdigit() else mn(sub))
    if prime:
        out = f"<msup>{out}<mo>′</mo></msup>"
    return out


def _derivative(numerator: str, denominator: str) -> str:
    return (
        f"<mfrac><mrow><mi>∂</mi>{name(numerator)}</mrow>"
        f"<mrow><mi>∂</mi>{name(denominator)}</mrow></mfrac>"
    )


def _is_word(text: str) -> bool:
    """Lower-case English (``mean over the samples of``), not a name or a function."""
    return (
        text.isalpha()
        and text.islower()
        and len(text) >= 2
        and text not in GREEK
        and text not in FUNCTIONS
    )


def _items(text: str) -> list[str]:
    """The formula as a flat list of MathML items, brackets grouped into <mrow>s."""
    stack: list[list[str]] = [[]]
    openers: list[str] = []
    pending_sup = False
    words: list[str] = []

    def push(item: str) -> None:
        nonlocal pending_sup
        flush_words()
        if pending_sup and stack[-1]:
            item = f"<msup>{stack[-1].pop()}{item}</msup>"
            pending_sup = False
        stack[-1].append(item)

    def flush_words() -> None:
        if words:
            stack[-1].append(mtext(" " + " ".join(words) + " "))
            words.clear()

    for m in _TOKEN.finditer(text):
        kind, value = m.lastgroup, m[0]
        if kind == "ws":
            continue
        if kind == "deriv":
            push(_derivative(m["num"], m["den"]))
        elif kind == "delta":
            delta = msub(mi("δ"), mn(m["dj"])) if m["dj"] else mi("δ")
            push(f"<mrow>{delta}{mo('(')}{mn(m['dk'])}{mo(')')}</mrow>")
        elif kind == "number":
            push(mn(value))
        elif kind == "ident":
            if _is_word(value):
                words.append(value)
            else:
                push(name(value))
        elif kind == "sub" and stack[-1]:
            flush_words()
            stack[-1].append(msub(stack[-1].pop(), mn(value[1:])))
        elif value in CLOSING:
            flush_words()
            openers.append(value)
            stack.append([mo(value)])
        elif value in (")", "]") and openers and CLOSING[openers[-1]] == value:
            flush_words()
            openers.pop()
            group = stack.pop()
            push("<mrow>" + "".join([*group, mo(value)]) + "</mrow>")
        elif value == "^":
            flush_words()
            pending_sup = True
        else:
            push(mo(value))
    flush_words()
    while len(stack) > 1:  # an unclosed bracket: keep what it held
        group = stack.pop()
        stack[-1].append("<mrow>" + "".join(group) + "</mrow>")
    return stack[0]


def formula(text: str) -> str:
    """One formula as a MathML <mrow> (no <math> wrapper)."""
    return "<mrow>" + "".join(_items(text)) + "</mrow>"


def math(parts: list[str], alttext: str, *, display: bool = True) -> str:
    """A <math> element of formulas joined by ``=``; `alttext` is the plain form."""
    body = "<mo>=</mo>".join(formula(p) for p in parts)
    mode = "block" if display else "inline"
    return f'<math xmlns="{NS}" display="{mode}" alttext="{escape(alttext)}">{body}</math>'
