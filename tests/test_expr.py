"""The expression model (backprop_core/explain/expr.py): trees and their plain text."""

from __future__ import annotations

from backprop_core.explain.expr import (
    Apply,
    Bracket,
    Deriv,
    Diff,
    Frac,
    Mean,
    Num,
    Power,
    Prod,
    Sum,
    Sym,
    layout_text,
    prod,
    render_text,
    text_pieces,
)

H21 = Sym("H21", "H", ("2", "1"), "", 2, 1)
Y = Sym("Y", "Y")
T = Sym("T", "T")
PHI = Sym("phi", "phi")


def test_text_is_the_derivations_ascii() -> None:
    assert render_text(Prod((Apply(PHI, (H21,), prime=True), Num(0.75)))) == "phi'(H21) * 0.75"
    assert render_text(Prod((Num(2.0), Num(-0.5)))) == "2 * (-0.5)"
    assert render_text(Num(-0.5)) == "-0.5"
    assert render_text(Apply("sigmoid", (Num(-0.5),))) == "sigmoid(-0.5)"
    half = Frac(Num(1.0), Num(2.0))
    assert render_text(Prod((half, Power(Bracket(Diff(Y, T)), Num(2.0))))) == "1/2 * (Y - T)^2"
    assert render_text(Deriv(Sym("L", "L"), Sym("y", "y"))) == "dL/dy"
    assert render_text(Deriv(Sym("L", "L"), Y, partial=True)) == "∂L/∂Y"
    assert render_text(Mean(Prod((Y, T)), 3)) == "mean over the 3 samples of Y * T"
    assert render_text(Num(0.29837098, "0.298371")) == "0.298371"


def test_products_flatten_and_long_sums_break_only_before_plus() -> None:
    assert prod(Y, prod(T, Num(2.0))) == Prod((Y, T, Num(2.0)))
    terms = Sum(tuple(Prod((Num(float(i)), Num(0.5))) for i in range(1, 5)))
    e = Prod((Num(8.0), Bracket(terms, square=True)))
    assert render_text(e) == "8 * [1 * 0.5 + 2 * 0.5 + 3 * 0.5 + 4 * 0.5]"
    assert text_pieces(e) == ["8 * [1 * 0.5", "+ 2 * 0.5", "+ 3 * 0.5", "+ 4 * 0.5]"]
    assert layout_text(e, 24, 4) == ["8 * [1 * 0.5 + 2 * 0.5", "    + 3 * 0.5 + 4 * 0.5]"]


def test_latex_typesets_names_from_their_parts_not_from_text() -> None:
    from backprop_core.engine.naming import WeightId, WeightNames
    from backprop_core.explain.notation import Notation
    from cli.render.math_latex import plain

    units = (2, 12, 3, 3, 2)
    nt = Notation(units, ("phi",) * 4)
    names = WeightNames(units, (True,) * 4)
    assert plain(nt.weight(names, WeightId(3, 1, 1))) == r"\mathit{h2h3}_{11}"  # not h2h3_{1}1
    assert nt.weight(names, WeightId(3, 1, 1)).alias == "h2h311"
    assert plain(nt.weight(names, WeightId(2, 10, 3))) == r"\mathit{h1h2}_{10,3}"
    assert plain(nt.H(1, 10)) == "H_{1,10}" and nt.H(1, 10).text == "H1_10"
    assert plain(nt.H(4, 1)) == r"Y_{\text{in},1}"
    assert plain(nt.delta(2, 1)) == r"\delta^{(2)}_{1}"
    assert plain(Num(1e-8)) == r"1\times10^{-8}"
    assert plain(Prod((Num(2.5e-5), Num(-3.0)))) == r"2.5\times10^{-5} \cdot (-3)"
    standard = Notation(units, ("phi",) * 4, standard=True)
    assert plain(standard.weight(names, WeightId(3, 1, 1))) == "w^{(3)}_{11}"
    assert plain(standard.dL(standard.d(4, 1))) == r"\frac{\partial L}{\partial Y_{1}}"
    assert plain(nt.dL(nt.d(4, 1))) == r"\frac{dL}{dy_{1}}"


def test_names_held_as_text_are_typeset_from_the_networks_leaves() -> None:
    from backprop_core.engine.naming import WeightNames
    from backprop_core.explain.notation import Notation
    from cli.render.math_latex import name_latex

    units = (1, 1, 2, 1)
    leaves = Notation(units, ("phi",) * 3).leaves(WeightNames(units, (False,) * 3))
    assert name_latex("H1_new [xh1]", leaves) == r"H_{1}^{\text{new}}\ [\mathit{xh}_{1}]"
    assert name_latex("phi'(H21)", leaves) == r"\varphi'(H_{21})"
    assert name_latex("dy/dA21", leaves) == r"\frac{dy}{dA_{21}}"
    assert name_latex("Y_new - T", leaves) == r"Y^{\text{new}} - T"
    assert name_latex("mystery_1", leaves) == r"\text{mystery\_1}"


def test_latex_prose_and_words_avoid_characters_the_text_font_lacks() -> None:
    from cli.render.math_latex import escape, words

    assert escape("layer 0 -> 1, H > 0 | x_1") == (
        r"layer 0 $\to$ 1, H \textgreater{} 0 \textbar{} x\_1"
    )
    assert words("1 if H21 > 0, else 0") == r"\text{1 if H21 }>\text{ 0, else 0}"
    assert words("sepal_length") == r"\text{sepal}\_\text{length}"
