"""Expression trees (backprop_core/explain/expr.py) as LaTeX math, and long ones broken.

`latex` walks the tree: ``H_{21}``, ``Y_{\\text{in}}``, ``\\delta^{(2)}_{1}``,
``\\varphi'(H_{21})``, ``\\frac{dL}{dy}``, weights as their alias (``hh_{1}``) or
``w^{(2)}_{11}`` under the standard notation, numbers as ``1\\times10^{-8}``.
`math_lines` breaks a long expression before a ``+`` of a sum (at any depth);
widths are estimated from the plain text, which is never narrower than the
typeset math.
"""

from __future__ import annotations

from collections.abc import Mapping

from backprop_core.explain.expr import (
    BREAK,
    Apply,
    Bracket,
    Deriv,
    Diff,
    Expr,
    Frac,
    Mean,
    Neg,
    New,
    Num,
    Over,
    Power,
    Prod,
    Prose,
    Sum,
    Sym,
    Tagged,
    Weight,
    Words,
    number_text,
    text_pieces,
    walk,
)

PT_PER_CHAR = 5.2  # a character of the plain text, typeset as 10pt math (measured: 4.2 to 5)

_GREEK = {"delta": r"\delta", "phi": r"\varphi", "eta": r"\eta", "eps": r"\epsilon"}
_FUNCTIONS = {"log": r"\log", "exp": r"\exp", "tanh": r"\tanh"}
_SUPER_LAYER = {"delta", "O", "w"}  # bases written with the layer as a superscript (k)


def number(text: str) -> str:
    """``1e-08`` -> ``1\\times10^{-8}``; other numbers as written."""
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return text
    return f"{mantissa}\\times10^{{{int(exponent)}}}"


def escape(s: str) -> str:
    """Prose for LaTeX: its special characters escaped."""
    out = []
    for char in s:
        out.append(
            {
                "\\": r"\textbackslash{}",
                "_": r"\_",
                "%": r"\%",
                "&": r"\&",
                "#": r"\#",
                "$": r"\$",
                "{": r"\{",
                "}": r"\}",
                "^": r"\^{}",
                "~": r"\~{}",
                # The OT1 text font has no <, > or |: they print as ¡, ¿ and a dash.
                "<": r"\textless{}",
                ">": r"\textgreater{}",
                "|": r"\textbar{}",
            }.get(char, char)
        )
    return "".join(out).replace(r"-\textgreater{}", r"$\to$")


def prose(line: str) -> str:
    """A line of prose for LaTeX: its formulas (a `Prose`'s trees) as inline math, the
    rest escaped."""
    if not isinstance(line, Prose):
        return escape(line)
    return "".join(escape(p) if isinstance(p, str) else f"${inline(p)}$" for p in line.parts)


# Set in math between \text groups: GitHub's MathJax shows \_ or \textgreater inside
# \text as they are written, LaTeX's text font has no < > |; math suits both.
_MATH_CHARS = {"_": r"\_", "<": "<", ">": ">", "|": r"\vert "}


def words(text: str) -> str:
    """Prose inside math: ``\text{...}``, the characters of _MATH_CHARS as math."""
    out, run = [], ""
    for char in text:
        if char in _MATH_CHARS:
            out += [rf"\text{{{escape(run)}}}" if run else "", _MATH_CHARS[char]]
            run = ""
        else:
            run += char
    return "".join(out) + (rf"\text{{{escape(run)}}}" if run else "")


def _subscript(parts: list[str]) -> str:
    parts = [p for p in parts if p]
    return f"_{{{','.join(parts)}}}" if parts else ""


def _index(index: tuple[str, ...]) -> str:
    """``("2", "1")`` -> ``21``; ``("10", "3")`` -> ``10,3``."""
    return "".join(index) if all(len(i) == 1 for i in index) else ",".join(index)


def symbol(s: Sym) -> str:
    base = _GREEK.get(s.base, s.base)
    sup = f"^{{({s.layer})}}" if s.base in _SUPER_LAYER and s.layer is not None else ""
    word = rf"\text{{{s.word}}}" if s.word else ""
    index = _index(s.index) if s.index else ""
    return base + sup + _subscript([word, index])


def weight(w: Weight) -> str:
    if w.standard:
        i, j = str(w.i), str(w.j)
        ij = i + j if len(i) == 1 and len(j) == 1 else f"{i},{j}"
        return f"w^{{({w.k})}}_{{{ij}}}"
    # One name of several letters (xh, h1h2), not a product of x and h.
    return rf"\mathit{{{w.prefix}}}_{{{_index(w.index)}}}"


def latex(e: Expr, top: bool = True, breaks: bool = True, inline: bool = False) -> str:
    """The tree as LaTeX math, with BREAK marks before the ``+`` of the sums a line
    may break at (the same ones as expr.text_pieces: none inside a brace group).
    ``inline``: for a formula in prose or a heading, fractions and derivatives with a
    slash (``dL/dY_{\text{in}}``), as a \frac there would be set in script size."""

    def t(x: Expr, top: bool = False, breaks: bool = breaks) -> str:
        return latex(x, top, breaks, inline)

    if isinstance(e, Num):
        text = number(number_text(e))
        return f"({text})" if text.startswith("-") and not top else text
    if isinstance(e, Sym):
        return symbol(e)
    if isinstance(e, Weight):
        return weight(e)
    if isinstance(e, Words):
        return words(e.text)
    if isinstance(e, Prod):
        return r" \cdot ".join(t(f) for f in e.factors)
    if isinstance(e, Sum):
        plus = f" {BREAK}+ " if breaks else " + "
        return plus.join(t(x) for x in e.terms)
    if isinstance(e, Diff):
        return f"{t(e.left)} - {t(e.right)}"
    if isinstance(e, Neg):
        return f"-{t(e.operand)}"
    if isinstance(e, Frac) and inline:
        return f"{t(e.num, breaks=False)}/{t(e.den, breaks=False)}"
    if isinstance(e, Frac):
        return rf"\frac{{{_bare(e.num)}}}{{{_bare(e.den)}}}"
    if isinstance(e, Power):
        return f"{t(e.base, breaks=False)}^{{{t(e.exponent, True, False)}}}"
    if isinstance(e, Bracket):
        inner = t(e.inner, True)
        # Around fractions, taller brackets; fixed ones (not \left...\right), so
        # that a row may break inside them.
        tall = not inline and any(isinstance(n, Frac | Deriv) for n in walk(e.inner))
        left, right = ("[", "]") if e.square else ("(", ")")
        if tall:
            left, right = rf"\bigl{left}", rf"\bigr{right}"
        return f"{left}{inner}{right}"
    if isinstance(e, Deriv):
        d = r"\partial " if e.partial else "d"
        # d before a name of several letters (dxh_1) reads as a product: a thin space.
        gap = r"\," if not e.partial and isinstance(e.bottom, Weight) else ""
        top_, bottom = t(e.top, breaks=False), t(e.bottom, breaks=False)
        if inline:
            return f"{d}{top_}/{d}{gap}{bottom}"
        return rf"\frac{{{d}{top_}}}{{{d}{gap}{bottom}}}"
    if isinstance(e, Apply):
        if isinstance(e.fn, str):
            name = _FUNCTIONS.get(e.fn, rf"\operatorname{{{escape(e.fn)}}}")
        else:
            name = t(e.fn, breaks=False)
        args = ", ".join(t(a, True, False) for a in e.args)
        sub = f"_{{{e.sub}}}" if e.sub else ""
        return f"{name}{chr(39) if e.prime else ''}({args}){sub}"
    if isinstance(e, Mean):
        count = f" {e.count}" if e.count is not None else ""
        return rf"\text{{mean over the{count} samples of }} {t(e.body)}"
    if isinstance(e, Over):
        op = r"\sum" if e.op == "sum" else r"\operatorname{mean}"
        return f"{op}_{{{e.index}}} {t(e.body)}"
    if isinstance(e, New):
        of = t(e.of, breaks=False)
        # w^{(2)}_{11} has its superscript already: a group takes the second one.
        return ("{" + of + "}" if "^" in of else of) + r"^{\text{new}}"
    if isinstance(e, Tagged):
        return rf"{t(e.expr)}\ \text{{({escape(e.tag)})}}"
    raise TypeError(f"not an expression node: {e!r}")


def _bare(e: Expr) -> str:
    """A fraction's part: its own brackets are the fraction bar's job."""
    return latex(e.inner if isinstance(e, Bracket) and not e.square else e, True, False)


def plain(e: Expr) -> str:
    """The LaTeX of `e` on one line (no break marks)."""
    return latex(e).replace(BREAK, "")


def inline(e: Expr) -> str:
    """The LaTeX of `e` for a line of prose: one line, fractions with a slash."""
    return latex(e, inline=True).replace(BREAK, "")


def width(e: Expr) -> float:
    """Estimated typeset width of `e` in points."""
    return len(" ".join(text_pieces(e))) * PT_PER_CHAR


def math_lines(e: Expr, room: float, first: float | None = None) -> list[str]:
    """`e` as LaTeX lines of at most `room` points (the first at most `first`), broken only
    before a ``+``; a line that cannot break stays whole."""
    pieces = latex(e).split(BREAK)
    sizes = [len(p) * PT_PER_CHAR for p in text_pieces(e)]
    if len(pieces) != len(sizes):  # the two renderings break at the same sums
        return [plain(e)]
    lines: list[str] = [pieces[0].rstrip()]
    used = sizes[0]
    limit = first if first is not None else room
    for piece, size in zip(pieces[1:], sizes[1:], strict=True):
        if used + size + PT_PER_CHAR <= limit:
            lines[-1] += " " + piece.rstrip()
            used += size + PT_PER_CHAR
        else:
            lines.append(piece.rstrip())
            used, limit = size, room
    return lines


def name_latex(name: str, leaves: Mapping[str, Expr]) -> str:
    """A quantity's name held as text (``dA21/dA1``, ``H1_new [xh1]``, ``phi'(H21)``) as
    LaTeX, its parts looked up among the network's names (Notation.leaves); a name
    it does not know is set as text."""
    if name.endswith("]") and " [" in name:  # a name qualified by its weight
        base, _, alias = name[:-1].rpartition(" [")
        return name_latex(base, leaves) + rf"\ [{name_latex(alias, leaves)}]"
    expr = _name_expr(name, leaves)
    return plain(expr) if expr is not None else rf"\text{{{escape(name)}}}"


def _name_expr(name: str, leaves: Mapping[str, Expr]) -> Expr | None:
    if name in leaves:
        return leaves[name]
    if " - " in name:
        left, _, right = name.partition(" - ")
        a, b = _name_expr(left, leaves), _name_expr(right, leaves)
        return Diff(a, b) if a is not None and b is not None else None
    if name.endswith("_new"):
        of = _name_expr(name.removesuffix("_new"), leaves)
        return New(of) if of is not None else None
    if name.startswith("path "):
        return Words(name)
    if name.endswith(")") and "'(" in name:
        fn, _, arg = name[:-1].partition("'(")
        f, a = leaves.get(fn), _name_expr(arg, leaves)
        return Apply(f, (a,), prime=True) if f is not None and a is not None else None
    for d in ("d", "∂"):
        if name.startswith(d) and f"/{d}" in name:
            top, _, bottom = name[1:].partition(f"/{d}")
            a, b = _name_expr(top, leaves), _name_expr(bottom, leaves)
            if a is not None and b is not None:
                return Deriv(a, b, partial=d == "∂")
    return None
