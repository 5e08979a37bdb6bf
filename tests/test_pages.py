"""The HTML pages as files (the browser tests open them): self-contained, every step
with what it lights up, every weight in `bp show`'s table; the MathML of formulas."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from backprop_core.explain.derivation import explain_experiment
from backprop_core.explain.expr import Apply, Frac, Num, Power, Sym
from backprop_core.explain.focus import focus
from backprop_core.run.experiment import load_experiment
from cli.app import app
from cli.render.mathml import math, mathml

runner = CliRunner()
MATHML = "{http://www.w3.org/1998/Math/MathML}"


def test_explain_html_is_one_self_contained_file(tmp_path: Path) -> None:
    path = tmp_path / "xh1.html"
    result = runner.invoke(app, ["explain", "-w", "xh1", "--format", "html", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    # Nothing to fetch: no src, no href, no URL but the XML namespaces.
    assert not re.search(r"\b(src|href)=", page)
    assert set(re.findall(r"https?://[^\"' )]+", page)) == {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1998/Math/MathML",
    }
    steps = re.findall(r'<div class="step" id="step-(\d+)" data-focus="([^"]*)">', page)
    assert [int(n) for n, _ in steps] == list(range(1, len(steps) + 1))
    assert len(steps) == 39 and all(ids for _, ids in steps)
    assert '<span class="counter" aria-live="polite">39 steps</span>' in page
    same = runner.invoke(app, ["explain", "-w", "xh1", "--format", "html"])
    assert same.stdout == page  # stdout without -o; and the same bytes every run


def test_what_each_step_lights_up() -> None:
    e = load_experiment(None, [])
    x = explain_experiment(e, "xh1", None)
    found = focus(x, e.network.units)
    by_symbol = {
        (section.key, step.symbol): f.ids()
        for section, fs in zip(x.sections, found, strict=True)
        for step, f in zip(section.steps, fs, strict=True)
    }
    assert by_symbol["forward", "H21"] == ["e2_1_1", "n1_1", "n2_1"]  # A1 * hh1
    assert by_symbol["forward", "A21"] == ["n2_1"]
    assert by_symbol["chain", "dy/dA22"] == ["e3_2_1", "n2_2", "n3_1"]  # phi'(Y_in) * hy2
    path_2 = ["e1_1_1", "e2_1_2", "e3_2_1", "n0_1", "n1_1", "n2_2", "n3_1"]
    assert by_symbol["paths", "path 2"] == path_2
    assert by_symbol["deltas", "delta_1(2)"] == ["e3_1_1", "n2_1", "n3_1"]
    assert by_symbol["update", "xh1_new"] == ["e1_1_1", "n0_1", "n1_1", "n3_1"]  # dL: the loss


def test_show_html_lists_every_weight(tmp_path: Path) -> None:
    path = tmp_path / "iris.html"
    result = runner.invoke(app, ["show", "configs/iris.yaml", "--format", "html", "-o", str(path)])
    assert result.exit_code == 0, result.output
    page = path.read_text()
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>(w\d+_\d+_\d+)</td><td>(\w+)</td>', page)
    assert len(rows) == 67
    assert rows[0] == ("1", "w1_0_1", "xh01") and rows[-1] == ("67", "w2_8_3", "hy83")
    # The drawing's edge 47 is the table's row 47 (hy21).
    assert '<g id="e2_2_1" class="edge" data-weight="hy21">' in page and rows[46][2] == "hy21"
    assert re.search(
        r'<g id="e2_2_1"[^>]*>\s*<title>hy21 = 0.3773</title>.*?>47</text>', page, re.S
    )
    assert ">sepal_length</text>" in page and ">virginica</text>" in page
    assert "<script>" not in page


def test_show_html_of_a_network_too_large_to_draw() -> None:
    result = runner.invoke(app, ["show", "configs/spiral.yaml", "--format", "html"])
    assert result.exit_code == 0, result.output
    assert "<svg" not in result.stdout
    assert "No drawing: the network has 1251 weights; drawings are limited to 600" in result.stdout


def parsed(e) -> ET.Element:
    return ET.fromstring(math([mathml(e)], str(e)))


def test_mathml_of_the_derivations_formulas() -> None:
    e = load_experiment(None, [])
    x = explain_experiment(e, "xh1", None)
    steps = {(s.key, step.symbol): step for s in x.sections for step in s.steps}
    root = parsed(steps["chain", "dA21/dA1"].lhs)
    frac = root.find(f".//{MATHML}mfrac")
    assert frac is not None and "".join(frac.itertext()) == "dA21dA1"
    assert root.get("alttext") == "dA21/dA1"
    assert "".join(parsed(steps["chain", "dA21/dA1"].formula).itertext()) == "φ′(H21)·hh1"
    assert "".join(parsed(steps["deltas", "delta_1(2)"].lhs).itertext()) == "δ1(2)"
    loss = parsed(steps["forward", "L"].formula)
    assert loss.find(f".//{MATHML}msup") is not None  # (Y - T)^2
    assert loss.find(f".//{MATHML}mfrac") is not None  # 1/2
    assert "".join(parsed(steps["update", "xh1_new"].lhs).itertext()) == "xh1new"
    small = parsed(Num(1e-8))
    assert "".join(small.itertext()) == "1×10−8"
    negative = parsed(Power(Num(-0.5), Num(2.0)))
    assert "".join(negative.itertext()) == "(−0.5)2"
    assert "".join(parsed(Apply("softmax", (Sym("Y_in", "Y", (), "in"),), sub="1")).itertext()) == (
        "softmax(Yin)1"
    )
    assert "".join(parsed(Frac(Num(1.0), Num(2.0))).itertext()) == "12"


def test_several_weights_make_one_page_with_an_article_each(tmp_path: Path) -> None:
    from networks import NET_222

    config = tmp_path / "n.yaml"
    config.write_text(NET_222)
    result = runner.invoke(app, ["explain", str(config), "-w", "xh11", "-w", "hy21", "-f", "html"])
    assert result.exit_code == 0, result.output
    page = result.stdout
    articles = re.findall(r'<article class="derivation" id="weight-(w\d_\d_\d)">', page)
    assert articles == ["w1_1_1", "w2_2_1"]
    steps = [int(n) for n in re.findall(r'<div class="step" id="step-(\d+)"', page)]
    assert steps == list(range(1, len(steps) + 1))  # one step-through across both
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # two drawings, no id twice: each has its prefix
    assert '<g id="d1-e1_1_1" class="edge hot marked"' in page
    assert '<g id="d2-e2_2_1" class="edge hot marked"' in page
    assert '<a href="#weight-w2_2_1">hy21</a>' in page  # the summary links each derivation
