"""Expression trees (backprop_core/explain/expr.py) as MathML, rendered natively by browsers.

`mathml` walks the tree as cli/render/math_latex.py does for LaTeX: ``H`` with
subscript ``21``, ``Y`` with subscript ``in``, ``δ`` with subscript 1 and
superscript (2), ``φ′(H21)``, ``∂L/∂y`` as a fraction, weights as their alias
(``hh`` with subscript 1) or ``w`` with superscript (2) and subscript 11 under
the standard notation, ``1e-08`` as 1×10⁻⁸. `math` wraps one step's parts in a
``<math>`` element whose ``alttext`` is the derivation's plain text.
"""

from __future__ import annotations

from html import escape

from backprop_core.explain.expr import (
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
    Sum,
    Sym,
    Tagged,
    Weight,
    Words,
    number_text,
    walk,
)

NS = "http://www.w3.org/1998/Math/MathML"

GREEK = {"delta": "δ", "phi": "φ", "eta": "η", "eps": "ε"}
SUPER_LAYER = {"delta", "O", "w"}  # bases written with the layer as a superscript (k)


def mi(text: str) -> str:
    return f"<mi>{escape(text)}</mi>"


def mn(text: str) -> str:
    return f"<mn>{escape(text)}</mn>"


def mo(text: str, *, fence: bool = False, stretchy: bool = False) -> str:
    if fence:
        # Brackets hug what they hold; a stretchy one in Chromium adds side space.
        stretch = "true" if stretchy else "false"
        return f'<mo stretchy="{stretch}" lspace="0" rspace="0">{escape(text)}</mo>'
    return f"<mo>{escape(text)}</mo>"


def mtext(text: str) -> str:
    return f"<mtext>{escape(text)}</mtext>"


def row(*items: str) -> str:
    return "<mrow>" + "".join(items) + "</mrow>"


def scripts(base: str, sub: str = "", sup: str = "") -> str:
    if sub and sup:
        return f"<msubsup>{base}{sub}{sup}</msubsup>"
    if sub:
        return f"<msub>{base}{sub}</msub>"
    if sup:
        return f"<msup>{base}{sup}</msup>"
    return base


def number(text: str) -> str:
    """``1e-08`` -> 1×10⁻⁸; other numbers as written."""
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return mn(text)
    power = int(exponent)
    sup = row(mo("−"), mn(str(-power))) if power < 0 else mn(str(power))
    return row(mn(mantissa), mo("×"), scripts(mn("10"), sup=sup))


def _index(index: tuple[str, ...]) -> str:
    """``("2", "1")`` -> 21; ``("10", "3")`` -> 10,3."""
    text = "".join(index) if all(len(i) == 1 for i in index) else ",".join(index)
    return mn(text) if text.replace(",", "").isdigit() else mi(text)


def _layer(k: int) -> str:
    return row(mo("(", fence=True), mn(str(k)), mo(")", fence=True))


def symbol(s: Sym) -> str:
    base = mi(GREEK.get(s.base, s.base))
    sub = [mi(s.word)] if s.word else []
    if s.index:
        sub.append(_index(s.index))
    sup = _layer(s.layer) if s.base in SUPER_LAYER and s.layer is not None else ""
    return scripts(base, row(*sub) if len(sub) > 1 else "".join(sub), sup)


def weight(w: Weight) -> str:
    if w.standard:
        i, j = str(w.i), str(w.j)
        ij = i + j if len(i) == 1 and len(j) == 1 else f"{i},{j}"
        return scripts(mi("w"), mn(ij), _layer(w.k))
    return scripts(mi(w.prefix), _index(w.index))


def mathml(e: Expr, top: bool = True) -> str:
    """The tree as MathML (no <math> wrapper)."""

    def m(x: Expr, top: bool = False) -> str:
        return mathml(x, top)

    if isinstance(e, Num):
        text = number_text(e)
        if text.startswith("-"):
            negative = row(mo("−"), number(text[1:]))
            return negative if top else row(mo("(", fence=True), negative, mo(")", fence=True))
        return number(text)
    if isinstance(e, Sym):
        return symbol(e)
    if isinstance(e, Weight):
        return weight(e)
    if isinstance(e, Words):
        return mtext(e.text)
    if isinstance(e, Prod):
        return row(*_join([m(f) for f in e.factors], mo("·")))
    if isinstance(e, Sum):
        return row(*_join([m(x) for x in e.terms], mo("+")))
    if isinstance(e, Diff):
        return row(m(e.left), mo("−"), m(e.right))
    if isinstance(e, Neg):
        return row(mo("−"), m(e.operand))
    if isinstance(e, Frac):
        return f"<mfrac>{_bare(e.num)}{_bare(e.den)}</mfrac>"
    if isinstance(e, Power):
        return scripts(m(e.base), sup=m(e.exponent, True))
    if isinstance(e, Bracket):
        tall = any(isinstance(n, Frac | Deriv) for n in walk(e.inner))
        left, right = ("[", "]") if e.square else ("(", ")")
        return row(
            mo(left, fence=True, stretchy=tall),
            m(e.inner, True),
            mo(right, fence=True, stretchy=tall),
        )
    if isinstance(e, Deriv):
        d = mi("∂" if e.partial else "d")
        return f"<mfrac>{row(d, m(e.top))}{row(d, m(e.bottom))}</mfrac>"
    if isinstance(e, Apply):
        name = mi(e.fn) if isinstance(e.fn, str) else m(e.fn)
        if e.prime:
            name = scripts(name, sup=mo("′"))
        args = _join([m(a, True) for a in e.args], mo(","))
        call = row(name, mo("(", fence=True), *args, mo(")", fence=True))
        return scripts(call, mn(e.sub) if e.sub.isdigit() else mi(e.sub)) if e.sub else call
    if isinstance(e, Mean):
        count = f" {e.count}" if e.count is not None else ""
        return row(mtext(f"mean over the{count} samples of\u00a0"), m(e.body))
    if isinstance(e, Over):
        op = mo("∑") if e.op == "sum" else mtext("mean")
        return row(scripts(op, mi(e.index)), m(e.body))
    if isinstance(e, New):
        return scripts(m(e.of), sup=mtext("new"))
    if isinstance(e, Tagged):
        return row(m(e.expr), mtext(f"\u00a0({e.tag})"))
    raise TypeError(f"not an expression node: {e!r}")


def _join(items: list[str], sep: str) -> list[str]:
    out: list[str] = []
    for item in items:
        if out:
            out.append(sep)
        out.append(item)
    return out


def _bare(e: Expr) -> str:
    """A fraction's part: its own round brackets are the fraction bar's job."""
    return mathml(e.inner if isinstance(e, Bracket) and not e.square else e, True)


def math(parts: list[str], alttext: str) -> str:
    """A <math> element of MathML parts joined by ``=``; `alttext` is the plain form."""
    body = mo("=").join(parts)
    return f'<math xmlns="{NS}" display="inline" alttext="{escape(alttext)}">{body}</math>'
