"""The drawing model: no label overlaps another label or a node, checked from the
layout's own boxes, for the shipped configs, a 2-2-2 network with biases and random
networks; captions, dead units, and one notation for drawings and `explain`."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from networks import NET_222
from typer.testing import CliRunner

from backprop_core.engine.activations import Activation
from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.engine.network import Layer, Network
from backprop_core.explain.drawing import MAX_LABELLED_EDGES, Box, Layout, dead_units, draw
from backprop_core.explain.notation import notation_for
from backprop_core.run.experiment import load_experiment
from cli.app import app
from cli.render.diagram import MAX_EDGES, DiagramTooLargeError, drawing_of, node_label
from cli.render.svg import svg

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))
SVG = "{http://www.w3.org/2000/svg}"


def overlaps(layout: Layout) -> list[str]:
    """Every pair of label boxes that overlap, and every label over a node."""
    found = []
    labels = layout.label_boxes()
    for a, b in itertools.combinations(labels, 2):
        if a.overlaps(b):
            found.append(f"labels {a} and {b}")
    for box, node in itertools.product(labels, layout.nodes):
        if box.overlaps(node.box):
            found.append(f"label {box} over node {node.id}")
    return found


def check(layout: Layout, edges: int) -> None:
    assert overlaps(layout) == []
    assert len(layout.edges) == edges
    v = layout.view
    for box in [*layout.label_boxes(), *(n.box for n in layout.nodes)]:
        assert v.x0 <= box.x0 and box.x1 <= v.x1 and v.y0 <= box.y0 and box.y1 <= v.y1
    if edges > MAX_LABELLED_EDGES:
        assert layout.mode == "none"
        return
    assert layout.mode in ("labels", "numbered")
    assert all(e.label is not None for e in layout.edges)
    if layout.mode == "numbered":
        assert [row.number for row in layout.legend] == list(range(1, edges + 1))
        assert [e.shown for e in layout.edges] == [str(n) for n in range(1, edges + 1)]
        for row, e in zip(layout.legend, layout.edges, strict=True):
            assert row.text.endswith(f"  {e.text}")
    else:
        assert [e.shown for e in layout.edges] == [e.text for e in layout.edges]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_draw_without_overlaps(config: Path) -> None:
    e = load_experiment(config, [])
    count = e.network.parameter_count()
    if count > MAX_EDGES:  # spiral: a blur at any size; bp show lists its weights instead
        with pytest.raises(DiagramTooLargeError):
            drawing_of(e)
        return
    check(drawing_of(e), count)


def test_a_222_network_with_biases_has_every_label_on_its_edge(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text(NET_222)
    layout = drawing_of(load_experiment(path, []))
    check(layout, 12)
    assert layout.mode == "labels"
    texts = {e.alias: e.shown for e in layout.edges}
    assert texts["xh01"] == "xh01 = 0.35" and texts["xh21"] == "xh21 = 0.2"
    for e in layout.edges:
        # The label's centre lies on its own edge.
        b = e.label
        assert b is not None
        cross = (e.x1 - e.x0) * (b.cy - e.y0) - (e.y1 - e.y0) * (b.cx - e.x0)
        assert abs(cross) < 1e-6 * max(1.0, abs(e.x1 - e.x0) + abs(e.y1 - e.y0)) ** 2


def test_iris_carries_column_and_class_names() -> None:
    layout = drawing_of(load_experiment(Path("configs/iris.yaml"), []))
    inputs = [n.caption for n in layout.nodes if n.kind == "input"]
    outputs = [n.caption for n in layout.nodes if n.kind == "output"]
    assert inputs == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert outputs == ["setosa", "versicolor", "virginica"]
    assert layout.mode == "numbered"  # 67 labels do not fit: numbers and a legend
    assert layout.legend[0].text == " 1  xh01 = 0"


@st.composite
def shapes(draw: st.DrawFn) -> tuple[Network, WeightNames]:
    units = [draw(st.integers(1, 5))]
    biases = []
    for _ in range(draw(st.integers(1, 4))):
        units.append(draw(st.integers(1, 6)))
        biases.append(draw(st.booleans()))
    count = sum((units[k - 1] + biases[k - 1]) * units[k] for k in range(1, len(units)))
    if count > 60:
        units, biases = units[:2], biases[:1]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    layers = tuple(Layer(u, Activation("tanh"), b) for u, b in zip(units[1:], biases, strict=True))
    # Values of every length, negative ones too: labels from 1 to 14 characters wide.
    W = {
        k: rng.normal(0, 3, (units[k - 1], units[k])).round(rng.integers(0, 6))
        for k in range(1, len(units))
    }
    b = {k: rng.normal(0, 3, units[k]) for k in range(1, len(units)) if biases[k - 1]}
    net = Network(units[0], layers, "sse", W, b)
    return net, WeightNames(tuple(units), tuple(biases))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shapes())
def test_random_networks_up_to_60_weights_draw_without_overlaps(case) -> None:
    net, names = case
    assert net.parameter_count() <= 60
    layout = draw(net, names, notation_for(net), lambda a, v: f"{a} = {v:.6g}")
    check(layout, net.parameter_count())


def test_box_overlap_and_crossing() -> None:
    a = Box(0, 0, 10, 10)
    assert a.overlaps(Box(9, 9, 20, 20)) and not a.overlaps(Box(10, 0, 20, 10))
    assert a.crosses(-5, 5, 15, 5) and not a.crosses(-5, 15, 15, 15)
    assert not a.crosses(11, -5, 30, 20)


def test_dead_relu_units_are_greyed() -> None:
    # H = x * w with x > 0: w < 0 keeps node 1 at H <= 0 on every sample; node 2 lives.
    net = Network(
        1,
        (Layer(2, Activation("relu"), False), Layer(1, Activation("linear"), False)),
        "sse",
        {1: np.array([[-1.0, 1.0]]), 2: np.array([[1.0], [1.0]])},
    )
    X = np.array([[0.5], [2.0]])
    assert dead_units(net, X) == {(1, 1)}
    names = WeightNames((1, 2, 1), (False, False))
    layout = draw(net, names, notation_for(net), lambda a, v: f"{a} = {v}", dead={(1, 1)})
    root = ET.fromstring(svg(layout))
    classes = {g.get("id"): g.get("class") for g in root.iter(f"{SVG}g")}
    assert classes["n1_1"] == "node hidden dead" and classes["n1_2"] == "node hidden"


def test_svg_labels_are_text_elements_and_highlight_marks_the_weight(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text(NET_222)
    e = load_experiment(path, [])
    w = e.names.resolve("xh11")
    from backprop_core.explain.drawing import on_paths

    root = ET.fromstring(svg(drawing_of(e), highlight=on_paths(e.names, w), marked=w))
    classes = {g.get("id"): g.get("class") for g in root.iter(f"{SVG}g")}
    assert classes["e1_1_1"] == "edge hot marked"
    assert classes["e1_2_1"] == "edge dim"  # xh21 ends at H11 too, but is not on xh11's paths
    assert classes["e2_1_2"] == "edge hot" and classes["e2_2_1"] == "edge dim"
    assert classes["e1_0_1"] == "edge bias dim"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "xh11 = 0.15" in texts and "hy02 = 0.6" in texts and "H11" in texts


def test_show_svg_writes_the_drawing(tmp_path: Path, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # not needed for SVG
    path = tmp_path / "tiny.svg"
    result = CliRunner().invoke(app, ["show", "--format", "svg", "--output", str(path)])
    assert result.exit_code == 0, result.output
    texts = [t.text for t in ET.parse(path).getroot().iter(f"{SVG}text")]
    assert texts[:5] == ["xh1 = 2", "hh1 = 0.75", "hh2 = 0.25", "hy1 = 0.25", "hy2 = 0.5"]


def test_one_notation_for_explain_and_the_drawing(tmp_path: Path) -> None:
    # A chain of one-node layers: layer 10 is H10 in explain and in every drawing.
    layers = "".join("    - {units: 1, activation: linear}\n" for _ in range(11))
    path = tmp_path / "chain.yaml"
    path.write_text(
        f"network:\n  inputs: 1\n  layers:\n{layers}loss: sse\n"
        "data:\n  inputs: [[1]]\n  targets: [[1]]\n"
    )
    result = CliRunner().invoke(app, ["explain", str(path), "-w", "w10_1_1"])
    assert result.exit_code == 0, result.output
    assert "  H10 = A9 * h9h101 + h9h1001 = " in result.stdout
    assert "  A9 -[h9h101]-> A10 -[hy1]-> Y\n" in result.stdout  # the drawing's path sketch
    assert "H10_1" not in result.stdout and "A10_1" not in result.stdout
    layout = drawing_of(load_experiment(path, []))
    assert next(n.lines for n in layout.nodes if n.id == "n10_1") == ("H10", "A10")
    assert node_label(10, 1, (1,) * 12) == "H10 · A10"
    assert WeightId(10, 1, 1) in {e.weight for e in layout.edges}
