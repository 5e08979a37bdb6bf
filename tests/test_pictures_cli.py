"""CLI integration of pictures: bp show --format, bp explain markdown picture, bp train --plot."""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()
GOLDEN = Path(__file__).parent / "golden" / "pictures"


def test_show_mermaid_and_dot_print_the_golden_drawings() -> None:
    result = runner.invoke(app, ["show", "--format", "mermaid"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (GOLDEN / "tiny.mmd").read_text(encoding="utf-8")
    result = runner.invoke(app, ["show", "-f", "dot"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (GOLDEN / "tiny.dot").read_text(encoding="utf-8")


def test_show_png_needs_output_with_the_right_extension(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", "--format", "png"])
    assert result.exit_code == 2, result.output
    assert result.stderr == "error: --format png writes a file: add --output PATH\n"
    result = runner.invoke(app, ["show", "--format", "png", "--output", str(tmp_path / "n.svg")])
    assert result.exit_code == 2, result.output
    assert result.stderr == "error: --format png needs an --output name ending in .png\n"
    assert list(tmp_path.iterdir()) == []


def test_show_png_writes_an_image(tmp_path: Path) -> None:
    pytest.importorskip(
        "matplotlib", reason="matplotlib is not installed: pip install 'backprop-explained[plot]'"
    )
    path = tmp_path / "tiny.png"
    result = runner.invoke(app, ["show", "--format", "png", "--output", str(path)])
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert 300 <= width <= 2000 and 100 <= height <= 1000, (width, height)


def test_explain_markdown_embeds_the_highlighted_drawing() -> None:
    result = runner.invoke(app, ["explain", "--weight", "hh1", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "```mermaid" not in out  # no renderer needed to see the drawing
    found = re.search(r'<img alt="([^"]*)" src="data:image/svg\+xml;base64,([^"]+)">\n', out)
    assert found is not None and found.start() < out.index("### ")  # the picture comes first
    assert found[1] == "the network, the paths from hh1 to the output highlighted"
    drawing = base64.b64decode(found[2]).decode()
    assert '<g id="e2_1_1" class="edge hot marked"' in drawing  # hh1, the weight explained
    assert '<g id="e3_1_1" class="edge hot"' in drawing  # hy1: on its path
    assert '<g id="e2_1_2" class="edge dim"' in drawing
    assert '<g id="e3_2_1" class="edge dim"' in drawing


def test_explain_markdown_to_a_file_links_the_drawing_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "hh1.md"
    result = runner.invoke(app, ["explain", "-w", "hh1", "-f", "markdown", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = path.read_text()
    alt = "the network, the paths from hh1 to the output highlighted"
    assert f"![{alt}](hh1.svg)\n" in text  # a relative link: GitHub shows it
    assert (tmp_path / "hh1.svg").read_text().startswith('<?xml version="1.0"')


def test_explain_output_is_for_documents() -> None:
    result = runner.invoke(app, ["explain", "-w", "hh1", "-o", "x.txt"])
    assert result.exit_code == 2
    assert result.stderr == "error: --output is for --format markdown, latex or html\n"


def test_train_plot_writes_loss_curve_and_summary_has_sparkline(tmp_path: Path) -> None:
    pytest.importorskip(
        "matplotlib", reason="matplotlib is not installed: pip install 'backprop-explained[plot]'"
    )
    path = tmp_path / "loss.svg"
    result = runner.invoke(app, ["train", "--plot", str(path)])
    assert result.exit_code == 0, result.output
    assert b"loss per epoch" in path.read_bytes()
    assert "loss █▇▆▆▅▄▃▃▂▁  (log scale, epoch 1 to 10)" in result.stdout


def test_train_plot_bad_extension_fails_before_training(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--plot", str(tmp_path / "loss.jpg")])
    assert result.exit_code == 2, result.output
    path = tmp_path / "loss.jpg"
    expected = f"error: {path}: expected a file name ending in .png or .svg, got '.jpg'\n"
    assert result.stderr == expected
    assert result.stdout == ""  # no epoch was run
