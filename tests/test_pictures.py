"""Pictures: Mermaid/DOT drawings against golden files, PNG/SVG files, sparkline, regions.

Golden files live in tests/golden/pictures/. After an intended change to the
drawings, regenerate them with ``BP_UPDATE_GOLDEN=1 pytest tests/test_pictures.py``
and review the diff.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from backprop_core import DISTRIBUTION
from backprop_core.engine.naming import WeightId
from backprop_core.engine.regions import class_of, decision_regions, grid, supports_regions
from backprop_core.run.experiment import Experiment, load_experiment
from cli.render import diagram
from cli.render.diagram import (
    MAX_EDGES,
    MAX_LABELLED_EDGES,
    DiagramTooLargeError,
    dot,
    mermaid,
    paths_to_output,
)
from cli.render.sparkline import sparkline

GOLDEN = Path(__file__).parent / "golden" / "pictures"

# A 2-2-2-1 network with every bias, explicit weights chosen so that no two
# weights share a value (a label on the wrong edge would show).
NET_2221 = """\
name: two-two-two-one
network:
  inputs: 2
  layers:
    - units: 2
      activation: sigmoid
      weights: [[0.1, -0.2], [0.3, 0.4]]
      biases: [0.5, -0.6]
    - units: 2
      activation: tanh
      weights: [[0.7, -0.8], [0.9, 1.0]]
      biases: [-1.1, 1.2]
    - units: 1
      activation: sigmoid
      weights: [[1.3], [-1.4]]
      biases: [0.15]
loss: bce
data:
  inputs: [[0, 0], [0, 1], [1, 0], [1, 1]]
  targets: [[0], [1], [1], [0]]
"""

# Class = (x1 > 0): a single sigmoid output with a steep weight on x1.
SEPARABLE = """\
network:
  inputs: 2
  layers:
    - units: 1
      activation: sigmoid
      weights: [[20.0], [0.0]]
      biases: [0.0]
loss: bce
data:
  inputs: [[-2, -1], [-1, 3], [1, 0], [2, 2]]
  targets: [[0], [0], [1], [1]]
"""


@pytest.fixture
def tiny() -> Experiment:
    return load_experiment(None, [])


@pytest.fixture
def net2221(tmp_path: Path) -> Experiment:
    path = tmp_path / "net2221.yaml"
    path.write_text(NET_2221)
    return load_experiment(path, [])


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BP_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with BP_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def wide_network(tmp_path: Path, hidden: int) -> Experiment:
    path = tmp_path / "wide.yaml"
    path.write_text(
        "network:\n  inputs: 2\n  layers:\n"
        f"    - {{units: {hidden}, activation: tanh}}\n"
        "    - {units: 1, activation: linear}\n"
        "loss: sse\ndata:\n  inputs: [[0, 1]]\n  targets: [[1]]\n"
    )
    return load_experiment(path, [])


# --- Mermaid and DOT ------------------------------------------------------------------


def test_mermaid_tiny_golden(tiny: Experiment) -> None:
    check_golden("tiny.mmd", mermaid(tiny.network, tiny.names))


def test_dot_tiny_golden(tiny: Experiment) -> None:
    check_golden("tiny.dot", dot(tiny.network, tiny.names))


def test_mermaid_2221_golden(net2221: Experiment) -> None:
    check_golden("net2221.mmd", mermaid(net2221.network, net2221.names))


def test_dot_2221_golden(net2221: Experiment) -> None:
    check_golden("net2221.dot", dot(net2221.network, net2221.names))


def test_mermaid_highlight_golden(net2221: Experiment) -> None:
    names = net2221.names
    text = mermaid(net2221.network, names, highlight=paths_to_output(names, names.resolve("xh12")))
    check_golden("net2221-xh12.mmd", text)


def test_tiny_mermaid_reads_like_the_derivation(tiny: Experiment) -> None:
    text = mermaid(tiny.network, tiny.names)
    assert text.startswith("flowchart LR\n")
    for label in ('"x1"', '"H1 · A1"', '"H21 · A21"', '"H22 · A22"', '"Y"'):
        assert label in text
    expected_edges = [
        'in1 -->|"xh1 = 2"| h1_1',
        'h1_1 -->|"hh1 = 0.75"| h2_1',
        'h1_1 -->|"hh2 = 0.25"| h2_2',
        'h2_1 -->|"hy1 = 0.25"| out1',
        'h2_2 -->|"hy2 = 0.5"| out1',
    ]
    assert [line.strip() for line in text.splitlines() if "--" in line] == expected_edges
    assert "B" not in text.replace("flowchart", "")  # no biases, no bias nodes


@pytest.mark.parametrize("render", [mermaid, dot])
def test_every_weight_name_is_on_its_own_edge(net2221: Experiment, render) -> None:
    names, net = net2221.names, net2221.network
    text = render(net, names)
    K = net.K
    for w in names.all_ids():
        source = diagram.bias_id(w.k) if w.is_bias else diagram.node_id(w.k - 1, w.i, K)
        target = diagram.node_id(w.k, w.j, K)
        label = f"{names.alias(w)} = {net.weight(w):g}"
        if render is mermaid:
            arrow = "-.->" if w.is_bias else "-->"
            assert f'  {source} {arrow}|"{label}"| {target}\n' in text, w
        else:
            assert f'  {source} -> {target} [label="{label}"' in text, w


def test_bias_edges_are_dashed(net2221: Experiment) -> None:
    mm = mermaid(net2221.network, net2221.names)
    assert mm.count("-.->") == 5  # xh01, xh02, hh01, hh02, hy01
    assert "classDef bias stroke-dasharray" in mm
    dt = dot(net2221.network, net2221.names)
    assert sum("style=dashed" in line for line in dt.splitlines() if "->" in line) == 5


def test_mermaid_labels_use_only_parser_safe_characters(net2221: Experiment) -> None:
    text = mermaid(net2221.network, net2221.names)
    labels = re.findall(r'"([^"]*)"', text)
    assert len(labels) == 10 + 15  # 10 nodes (3 bias), 15 edges
    for label in labels:
        assert re.fullmatch(r"[A-Za-z0-9 =.·+-]+", label), label


def test_values_false_leaves_names_only(tiny: Experiment) -> None:
    text = mermaid(tiny.network, tiny.names, values=False)
    assert 'in1 -->|"xh1"| h1_1' in text
    assert "=" not in text


def test_paths_to_output(tiny: Experiment, net2221: Experiment) -> None:
    names = tiny.names
    everything = set(names.all_ids())
    assert paths_to_output(names, names.resolve("xh1")) == everything
    assert paths_to_output(names, names.resolve("hh1")) == {
        names.resolve("hh1"),
        names.resolve("hy1"),
    }
    assert paths_to_output(names, names.resolve("hy2")) == {names.resolve("hy2")}
    n2 = net2221.names
    got = {n2.alias(w) for w in paths_to_output(n2, n2.resolve("xh12"))}
    assert got == {"xh12", "hh21", "hh22", "hy1", "hy2"}
    got = {n2.alias(w) for w in paths_to_output(n2, n2.resolve("hh01"))}
    assert got == {"hh01", "hy1"}


def test_highlight_marks_exactly_the_path_edges(net2221: Experiment) -> None:
    names = net2221.names
    text = mermaid(net2221.network, names, highlight=paths_to_output(names, names.resolve("xh12")))
    # Edges are numbered in all_ids() order: xh01 xh02 xh11 xh12 xh21 xh22 hh01 hh02
    # hh11 hh12 hh21 hh22 hy01 hy1 hy2 -> xh12 = 3, hh21 = 10, hh22 = 11, hy1 = 13, hy2 = 14.
    assert "  linkStyle 3,10,11,13,14 stroke:#d62728,stroke-width:3px\n" in text
    assert "  class in1,h1_2,h2_1,h2_2,out1 path\n" in text
    dt = dot(net2221.network, names, highlight={WeightId(3, 1, 1)})
    hot = [line for line in dt.splitlines() if "penwidth" in line]
    assert hot == [
        '    h2_1 [label="H21 · A21", shape=circle, color="#d62728", penwidth=2.5];',
        '    out1 [label="Y", shape=doublecircle, color="#d62728", penwidth=2.5];',
        '  h2_1 -> out1 [label="hy1 = 1.3", color="#d62728", fontcolor="#d62728", penwidth=2.5];',
    ]


def test_large_network_is_drawn_without_labels(tmp_path: Path) -> None:
    # 2 inputs, 20 hidden with bias, 1 output with bias: 40 + 20 + 20 + 1 = 81 edges.
    e = wide_network(tmp_path, 20)
    assert e.network.parameter_count() == 81 > MAX_LABELLED_EDGES
    text = mermaid(e.network, e.names)
    assert "%% 81 weights: edge labels left out above 60" in text
    assert "|" not in text
    assert text.count("-->") + text.count("-.->") == 81
    edges = [line for line in dot(e.network, e.names).splitlines() if " -> " in line]
    assert len(edges) == 81
    assert not any("label=" in line for line in edges)


def test_huge_network_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    e = wide_network(tmp_path, 200)  # 400 + 200 + 200 + 1 = 801 weights
    with pytest.raises(DiagramTooLargeError) as info:
        mermaid(e.network, e.names)
    assert str(info.value) == (
        f"the network has 801 weights; drawings are limited to {MAX_EDGES} "
        "(bp show lists every weight as a table)"
    )
    assert info.value.exit_code == 2


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_graphviz_accepts_the_dot(net2221: Experiment) -> None:
    names = net2221.names
    text = dot(net2221.network, names, highlight=paths_to_output(names, names.resolve("xh12")))
    out = subprocess.run(
        ["dot", "-Tsvg"], input=text.encode(), capture_output=True, timeout=30, check=False
    )
    assert out.returncode == 0, out.stderr.decode()
    assert b"xh12 = &#45;0.2" in out.stdout  # Graphviz writes the minus as an entity


def test_path_sketch_lists_the_chain_rule_paths(tiny: Experiment, net2221: Experiment) -> None:
    from cli.render.diagram import path_sketch

    assert path_sketch(tiny.names, tiny.names.resolve("xh1")) == [
        "x1 -[xh1]-> A1 -[hh1]-> A21 -[hy1]-> Y",
        "x1 -[xh1]-> A1 -[hh2]-> A22 -[hy2]-> Y",
    ]
    n2 = net2221.names
    assert path_sketch(n2, n2.resolve("hy01")) == ["B3 -[hy01]-> Y"]
    assert path_sketch(n2, n2.resolve("xh02"), limit=1) == [
        "B1 -[xh02]-> A12 -[hh21]-> A21 -[hy1]-> Y",
        "... and 1 more paths (2 in all)",
    ]


# --- sparkline ------------------------------------------------------------------------


def test_sparkline_of_the_reference_losses_on_a_log_scale() -> None:
    # SPEC §2: each epoch divides the loss by 16, a straight line on a log scale.
    losses = [32 / 16**e for e in range(10)]
    assert sparkline(losses, log=True) == "█▇▆▆▅▄▃▃▂▁"
    # On a linear scale everything after the first epoch is at the bottom.
    assert sparkline(losses) == "█▁▁▁▁▁▁▁▁▁"


def test_sparkline_linear_levels_constant_and_empty() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([3.0, 3.0, 3.0]) == "▄▄▄"
    assert sparkline([]) == ""


def test_sparkline_marks_nan_and_inf() -> None:
    # The diverging run of SPEC §2: 32, 10624.388, 9.395e16, then inf.
    assert sparkline([32, 10624.388, 9.395e16, math.inf], log=True) == "▁▂█×"
    assert sparkline([math.nan, None]) == "××"
    assert sparkline([0.0, 1.0, 100.0], log=True) == "▁▁█"  # 0 drawn at the bottom


def test_sparkline_buckets_long_series() -> None:
    assert sparkline(list(range(100)), width=10) == "▁▂▃▃▄▅▆▆▇█"
    assert len(sparkline(list(range(1000)), width=40)) == 40
    assert sparkline([1, 2, math.nan, 4, 5, 6], width=3) == "▁×█"
    with pytest.raises(ValueError):
        sparkline([1.0], width=0)


def test_sparkline_ascii_fallback() -> None:
    losses = [32 / 16**e for e in range(10)]
    assert sparkline(losses, log=True, ascii=True) == "@#**+=--._"
    assert sparkline([1.0, math.inf, 2.0], ascii=True) == "_x@"


# --- decision regions -----------------------------------------------------------------


def test_regions_of_a_linearly_separable_classifier(tmp_path: Path) -> None:
    path = tmp_path / "separable.yaml"
    path.write_text(SEPARABLE)
    e = load_experiment(path, [])
    assert supports_regions(e.network)
    regions = decision_regions(e.network, e.data.X, e.data.T, resolution=41, margin=0.1)
    # x1 spans [-2, 2] and x2 [-1, 3]; 10% of each range on every side.
    assert_allclose(regions.xs[[0, -1]], [-2.4, 2.4], rtol=0, atol=1e-12)
    assert_allclose(regions.ys[[0, -1]], [-1.4, 3.4], rtol=0, atol=1e-12)
    assert regions.classes.shape == (41, 41)
    expected = np.broadcast_to(regions.xs >= 0, (41, 41)).astype(np.int64)
    np.testing.assert_array_equal(regions.classes, expected)
    np.testing.assert_array_equal(regions.labels, [0, 0, 1, 1])
    assert regions.names == ["0", "1"]


def test_regions_for_applies_to_two_input_classifiers_only(tmp_path: Path, tiny) -> None:
    from backprop_core.engine.regions import regions_for

    assert regions_for(tiny.network, tiny.data) is None
    e = load_experiment(_write(tmp_path, SEPARABLE), [])
    regions = regions_for(e.network, e.data, resolution=5)
    assert regions is not None and regions.classes.shape == (5, 5)
    # x1 = -2.4, -1.2, 0, 1.2, 2.4; at 0 the output is exactly 0.5, which counts as class 1.
    np.testing.assert_array_equal(regions.classes[0], [0, 0, 1, 1, 1])


def test_regions_chunking_gives_the_same_answer(tmp_path: Path) -> None:
    from backprop_core.engine.regions import predict_grid

    e = load_experiment(_write(tmp_path, NET_2221), [])
    xs, ys = grid(e.data.X, resolution=30)
    np.testing.assert_array_equal(
        predict_grid(e.network, xs, ys, chunk=7), predict_grid(e.network, xs, ys)
    )


def test_class_of_and_grid_edge_cases(tiny: Experiment) -> None:
    np.testing.assert_array_equal(class_of(np.array([[0.2, 0.7, 0.1], [0.5, 0.1, 0.4]])), [1, 0])
    np.testing.assert_array_equal(class_of(np.array([[0.49], [0.5]])), [0, 1])
    xs, ys = grid(np.array([[1.0, 5.0], [1.0, 5.0]]), resolution=3, margin=0.5)
    assert_allclose(xs, [0.5, 1.0, 1.5], rtol=0, atol=1e-12)  # zero range widened by 1
    assert_allclose(ys, [4.5, 5.0, 5.5], rtol=0, atol=1e-12)
    assert not supports_regions(tiny.network)  # 1 input, sse loss
    with pytest.raises(ValueError):
        grid(np.zeros((3, 1)))


def _write(folder: Path, text: str) -> Path:
    path = folder / "config.yaml"
    path.write_text(text)
    return path


# --- PNG and SVG ------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR"), "the first chunk of a PNG must be IHDR"
    return struct.unpack(">II", data[16:24])


def svg_root(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
    return root


@pytest.fixture
def plots():
    pytest.importorskip(
        "matplotlib", reason="matplotlib is not installed: pip install 'backprop-explained[plot]'"
    )
    from cli.render import plots

    return plots


def test_network_png_and_svg(plots, tmp_path: Path, net2221: Experiment) -> None:
    png, svg = tmp_path / "net.png", tmp_path / "net.svg"
    layout = diagram.drawing_of(net2221)
    plots.save_network_image(png, layout)
    plots.save_network_image(svg, layout)
    width, height = png_size(png.read_bytes())
    v = layout.view
    assert abs(width - (v.x1 - v.x0)) <= 1 and abs(height - (v.y1 - v.y0)) <= 1  # layout px
    assert width > height  # layer columns run left to right
    root = svg_root(svg.read_bytes())
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "hy01 = 0.15" in texts  # every label a text element, not glyph outlines
    left = sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".yaml")
    assert left == ["net.png", "net.svg"]  # no temporary files left behind
    import matplotlib

    assert matplotlib.get_backend().lower() == "agg"


def test_training_plot_with_accuracy_and_regions(plots, tmp_path: Path) -> None:
    from backprop_core.run.training import Trainer

    e = load_experiment(_write(tmp_path, SEPARABLE), ["training.epochs=5"])
    result = Trainer(e).run()
    regions = decision_regions(e.network, e.data.X, e.data.T, resolution=50)
    png = tmp_path / "run.png"
    plots.save_training_plot(png, result.history, classes=["neg", "pos"], boundary=regions)
    width, height = png_size(png.read_bytes())
    assert width > 2.5 * height  # three panels side by side
    svg = tmp_path / "run.svg"
    plots.save_training_plot(
        svg, result.history, classes=["neg", "pos"], boundary=regions, title="separable"
    )
    text = svg.read_bytes()
    svg_root(text)
    for words in (
        b"loss per epoch",
        b"accuracy per epoch",
        b"decision regions",
        b"pos",
        b"separable",
    ):
        assert words in text


def test_loss_plot_of_a_diverged_run(plots, tmp_path: Path, tiny_all_path: Path) -> None:
    from backprop_core.run.training import Trainer

    result = Trainer(load_experiment(tiny_all_path, [])).run()
    assert result.status == "diverged"
    path = tmp_path / "loss.png"
    plots.save_training_plot(path, result.history)  # inf/nan epochs are gaps, not errors
    width, height = png_size(path.read_bytes())
    assert 300 <= width <= 1500 and 200 <= height <= 1000, (width, height)


def test_a_failed_render_leaves_the_old_file(plots, tmp_path: Path, tiny: Experiment, monkeypatch):
    from matplotlib.figure import Figure

    path = tmp_path / "net.png"
    path.write_bytes(b"good old picture")

    def broken(self, *args, **kwargs):
        raise RuntimeError("renderer crashed halfway")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError):
        plots.save_network_image(path, diagram.drawing_of(tiny))
    assert path.read_bytes() == b"good old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["net.png"]


def test_unknown_picture_type_and_empty_history(plots, tmp_path: Path, tiny: Experiment) -> None:
    with pytest.raises(plots.PlotError) as info:
        plots.save_network_image(tmp_path / "net.jpg", diagram.drawing_of(tiny))
    expected = f"{tmp_path / 'net.jpg'}: expected a file name ending in .png or .svg, got '.jpg'"
    assert str(info.value) == expected
    assert info.value.exit_code == 2
    with pytest.raises(plots.PlotError, match=r"^nothing to plot: no epoch was run$"):
        plots.save_training_plot(tmp_path / "loss.png", [])
    assert list(tmp_path.iterdir()) == []


def test_check_picture_path_before_a_long_run(plots, tmp_path: Path) -> None:
    assert plots.check_picture_path(tmp_path / "run.SVG") == "svg"
    with pytest.raises(plots.PlotError) as info:
        plots.check_picture_path(tmp_path / "missing" / "run.png")
    assert (
        str(info.value)
        == f"{tmp_path / 'missing' / 'run.png'}: cannot write: the folder does not exist"
    )
    with pytest.raises(plots.PlotError, match=r"got no extension$"):
        plots.check_picture_path(tmp_path / "run")


def test_missing_matplotlib_says_what_to_install(tmp_path: Path, tiny: Experiment, monkeypatch):
    from cli.render import plots

    # None in sys.modules makes `import matplotlib` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(plots.PlotError) as info:
        plots.save_network_image(tmp_path / "net.png", diagram.drawing_of(tiny))
    assert str(info.value) == (
        f"png and svg pictures need matplotlib: pip install '{DISTRIBUTION}[plot]'"
    )
    assert info.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []
