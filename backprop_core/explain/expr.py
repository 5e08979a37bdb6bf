"""The derivation's formulas as small immutable trees, and their plain-text form.

`explain` builds every formula once as a tree of the node types below; each
output format (text here, LaTeX / Markdown / MathML in cli/render/) walks the
tree. No renderer parses a string back into structure.

Leaves
- `Sym`: a named quantity. ``text`` is how the source derivation writes it
  (``H21``, ``Y_in1``, ``delta_1(2)``, ``dL``'s ``L``); the parts say what it
  is, for renderers that typeset it: ``base`` (``H``, ``A``, ``Y``, ``T``,
  ``x``, ``y``, ``L``, ``delta``, ``phi``, ``eta``, ``eps``, ``O``), ``index``
  (the subscripts as written, ``("2", "1")`` for H21, ``("i",)`` for O_i),
  ``word`` (a word subscript: ``in`` in Y_in), ``layer`` (a layer written
  apart, as a superscript: delta_1(2) is base delta, index (1,), layer 2),
  ``node`` (the node number, for readers of the tree).
- `Weight`: a weight, written by its source-style alias (``xh1``, ``hh01``,
  ``h1h2_10_3``); ``prefix`` and ``index`` split the alias, ``k, i, j`` identify
  it (``w^{(k)}_{ij}`` under ``standard``).
- `Num`: one of the engine's numbers (``value``), written with 8 significant
  digits unless ``shown`` gives the text (a difference written to the
  precision its operands justify).
- `Words`: prose inside a formula (``path 1``, ``sum over all 72 paths``).

Around the formulas, `Prose` is a line of prose with formulas in it (``layer 1:
2 nodes, phi'(H) = phi(H) * (1 - phi(H))``): a string (its plain text, as every
text consumer reads it) that keeps its parts for renderers that typeset them.

Operators (children are `Expr`)
- `Prod` ``a * b * c``; `Sum` ``a + b + c``; `Diff` ``a - b``; `Neg` ``-a``;
- `Frac` ``a / b`` (``1/2`` when both are plain numbers);
- `Power` ``a^2``;
- `Bracket` ``(a)`` or ``[a]``: grouping is explicit, never inferred;
- `Deriv` ``dL/dy`` (``partial``: ``∂L/∂Y``): the derivative of one symbol
  with respect to another;
- `Apply` ``phi'(H21)``, ``log(Y)``, ``softmax(Y_in)_1``: a function (a `Sym`
  or a plain name), ``prime`` for its derivative, arguments, an optional
  subscript on the result;
- `Mean` ``mean over the 3 samples of a``: the batch mean of a per-sample
  expression;
- `Over` ``sum_j a`` / ``mean_j a``: a sum or mean over a named index, for
  layers too wide to write term by term;
- `New` ``xh1_new``: a quantity after the update;
- `Tagged` ``dL/dxh1 (numeric)``: an expression with a parenthesized remark.

`render_text` writes a tree as the derivation's ASCII; `text_pieces` gives the
same text split where a long line may break (before ``+`` in a sum).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class Expr:
    """Base of every node; nodes are frozen dataclasses compared by value."""

    __slots__ = ()

    def __str__(self) -> str:
        return render_text(self)


@dataclass(frozen=True)
class Sym(Expr):
    text: str
    base: str
    index: tuple[str, ...] = ()
    word: str = ""
    layer: int | None = None
    node: int | None = None


@dataclass(frozen=True)
class Weight(Expr):
    alias: str
    prefix: str
    index: tuple[str, ...]
    k: int
    i: int
    j: int
    standard: bool = False


@dataclass(frozen=True)
class Num(Expr):
    value: float
    shown: str | None = None


@dataclass(frozen=True)
class Words(Expr):
    text: str


@dataclass(frozen=True)
class Prod(Expr):
    factors: tuple[Expr, ...]


@dataclass(frozen=True)
class Sum(Expr):
    terms: tuple[Expr, ...]


@dataclass(frozen=True)
class Diff(Expr):
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg(Expr):
    operand: Expr


@dataclass(frozen=True)
class Frac(Expr):
    num: Expr
    den: Expr


@dataclass(frozen=True)
class Power(Expr):
    base: Expr
    exponent: Expr


@dataclass(frozen=True)
class Bracket(Expr):
    inner: Expr
    square: bool = False


@dataclass(frozen=True)
class Deriv(Expr):
    top: Expr
    bottom: Expr
    partial: bool = False


@dataclass(frozen=True)
class Apply(Expr):
    fn: Expr | str
    args: tuple[Expr, ...]
    prime: bool = False
    sub: str = ""


@dataclass(frozen=True)
class Mean(Expr):
    body: Expr
    count: int | None = None


@dataclass(frozen=True)
class Over(Expr):
    op: str  # "sum" or "mean"
    index: str
    body: Expr


@dataclass(frozen=True)
class New(Expr):
    of: Expr


@dataclass(frozen=True)
class Tagged(Expr):
    expr: Expr
    tag: str


class Prose(str):
    """A line of prose: its plain text, and ``parts`` (text and expression trees, in
    order) for the renderers that typeset the trees."""

    parts: tuple[str | Expr, ...]

    def __new__(cls, *parts: str | Expr) -> Prose:
        text = "".join(p if isinstance(p, str) else render_text(p) for p in parts)
        line = super().__new__(cls, text)
        line.parts = parts
        return line


# --- building -------------------------------------------------------------------------


def prod(*factors: Expr) -> Expr:
    """``a * b``; one factor is itself, a product among the factors is flattened."""
    flat: list[Expr] = []
    for f in factors:
        flat += f.factors if isinstance(f, Prod) else (f,)
    return flat[0] if len(flat) == 1 else Prod(tuple(flat))


def add(*terms: Expr) -> Expr:
    """``a + b``; one term is itself."""
    return terms[0] if len(terms) == 1 else Sum(tuple(terms))


def nums(*values: float) -> tuple[Num, ...]:
    return tuple(Num(float(v)) for v in values)


def children(e: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of a node, left to right."""
    if isinstance(e, Prod):
        return e.factors
    if isinstance(e, Sum):
        return e.terms
    if isinstance(e, Diff):
        return (e.left, e.right)
    if isinstance(e, Frac):
        return (e.num, e.den)
    if isinstance(e, Power):
        return (e.base, e.exponent)
    if isinstance(e, Apply):
        return ((e.fn,) if isinstance(e.fn, Expr) else ()) + e.args
    if isinstance(e, Neg):
        return (e.operand,)
    if isinstance(e, Bracket):
        return (e.inner,)
    if isinstance(e, Deriv):
        return (e.top, e.bottom)
    if isinstance(e, Mean | Over):
        return (e.body,)
    if isinstance(e, New):
        return (e.of,)
    if isinstance(e, Tagged):
        return (e.expr,)
    return ()


# --- numbers as the derivation writes them ----------------------------------------------


def fmt(x: float) -> str:
    """8 significant digits, no trailing zeros: 32, 0.125, 1.5 (as cli/render/numbers.num)."""
    text = format(float(x), ".8g")
    return "0" if text == "-0" else text


def number_text(n: Num) -> str:
    return n.shown if n.shown is not None else fmt(n.value)


# --- plain text -------------------------------------------------------------------------

BREAK = "\x00"  # where a long line may break (before "+ " in a sum)
BREAK2 = "\x01"  # where a still longer piece may break as well (before "* " in a product)


def render_text(e: Expr) -> str:
    """The tree in the source derivation's ASCII: ``phi'(H21) * hh1``, ``8 * [0.5 + 1]``."""
    return _text(e, top=True).replace(BREAK, "").replace(BREAK2, "")


def text_pieces(e: Expr) -> list[str]:
    """`render_text` split where a long line may break: each piece after the first starts
    with ``+ ``. The pieces joined with a space are the text."""
    text = _text(e, top=True).replace(BREAK2, "")
    return [part.rstrip(" ") for part in text.split(BREAK)]


def _text(e: Expr, top: bool = False, breaks: bool = True) -> str:
    """`e` as text; ``breaks``: mark the sums where a line may break (not inside a
    fraction, a power or a function's arguments, which LaTeX sets as one group)."""

    def t(x: Expr, top: bool = False, breaks: bool = breaks) -> str:
        return _text(x, top, breaks)

    if isinstance(e, Num):
        text = number_text(e)
        # A negative number inside an expression is parenthesized: 2 * (-0.5).
        return f"({text})" if text.startswith("-") and not top else text
    if isinstance(e, Sym):
        return e.text
    if isinstance(e, Weight):
        return e.alias
    if isinstance(e, Words):
        return e.text
    if isinstance(e, Prod):
        times = f" {BREAK2}* " if breaks else " * "
        return times.join(t(f) for f in e.factors)
    if isinstance(e, Sum):
        plus = f" {BREAK}+ " if breaks else " + "
        return plus.join(t(x) for x in e.terms)
    if isinstance(e, Diff):
        return f"{t(e.left)} - {t(e.right)}"
    if isinstance(e, Neg):
        return f"-{t(e.operand)}"
    if isinstance(e, Frac):
        a, b = t(e.num, breaks=False), t(e.den, breaks=False)
        if isinstance(e.num, Num) and isinstance(e.den, Num):
            return f"{a}/{b}"
        return f"{a} / {b}"
    if isinstance(e, Power):
        return f"{t(e.base, breaks=False)}^{t(e.exponent, breaks=False)}"
    if isinstance(e, Bracket):
        inner = t(e.inner)
        return f"[{inner}]" if e.square else f"({inner})"
    if isinstance(e, Deriv):
        d = "∂" if e.partial else "d"
        return f"{d}{t(e.top, breaks=False)}/{d}{t(e.bottom, breaks=False)}"
    if isinstance(e, Apply):
        name = e.fn if isinstance(e.fn, str) else t(e.fn, breaks=False)
        args = ", ".join(t(a, top=True, breaks=False) for a in e.args)
        return f"{name}{chr(39) if e.prime else ''}({args}){'_' + e.sub if e.sub else ''}"
    if isinstance(e, Mean):
        count = f" {e.count}" if e.count is not None else ""
        return f"mean over the{count} samples of {t(e.body)}"
    if isinstance(e, Over):
        return f"{e.op}_{e.index} {t(e.body)}"
    if isinstance(e, New):
        return f"{t(e.of, breaks=False)}_new"
    if isinstance(e, Tagged):
        return f"{t(e.expr)} ({e.tag})"
    raise TypeError(f"not an expression node: {e!r}")


def layout_text(e: Expr, width: int, indent: int) -> list[str]:
    """The text of `e` in lines of at most `width` (where it can), breaking before a
    ``+`` of a sum, and only inside a term too long for a line before a ``*`` of a
    product; continuation lines start `indent` spaces in."""
    lines: list[str] = []
    for term in _text(e, top=True).split(BREAK):
        whole = term.replace(BREAK2, "").rstrip(" ")
        if lines and len(lines[-1]) + 1 + len(whole) <= width:
            lines[-1] += " " + whole
            continue
        pad = " " * indent if lines else ""
        if len(pad) + len(whole) <= width:
            lines.append(pad + whole)
            continue
        factors = [f.rstrip(" ") for f in term.split(BREAK2)]
        lines.append(pad + factors[0])
        for factor in factors[1:]:
            if len(lines[-1]) + 1 + len(factor) <= width:
                lines[-1] += " " + factor
            else:
                lines.append(" " * indent + factor)
    return lines


def walk(e: Expr) -> Sequence[Expr]:
    """Every node of the tree, parents before children."""
    out: list[Expr] = [e]
    for c in children(e):
        out += walk(c)
    return out
