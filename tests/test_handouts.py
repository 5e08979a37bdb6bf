"""`bp explain --format latex` compiles with pdflatex as is, and nothing runs off the page.

The reference example and four larger networks (tests/data/handouts/): Mazur's
2-2-2 sigmoid net with biases and one sample, a 3-hidden-layer tanh net with 3
samples, a softmax classifier with 4 samples, a 2-5-5-5-2 net. Each document is
compiled once with ``pdflatex -halt-on-error`` (texlive-latex-base, which .ci/run
installs); its log may hold no ``Overfull \\hbox`` wider than 5 pt.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()
HANDOUTS = Path(__file__).resolve().parent / "data" / "handouts"
PDFLATEX = shutil.which("pdflatex")
pytestmark = pytest.mark.skipif(
    PDFLATEX is None, reason="pdflatex is not installed (Debian: texlive-latex-base)"
)
MAX_OVERFULL_PT = 5.0

DOCUMENTS = {
    "reference": ["--weight", "xh1"],
    "reference-all-standard": ["--all", "--notation", "standard"],
    "mazur": [str(HANDOUTS / "mazur.yaml"), "--all"],
    "tanh3": [str(HANDOUTS / "tanh3.yaml"), "--all"],
    "activations": [str(HANDOUTS / "activations.yaml"), "-w", "xh11"],
    "softmax": [str(HANDOUTS / "softmax.yaml"), "--all", "--jacobian"],
    "wide": [
        str(HANDOUTS / "wide.yaml"),
        *("-w", "w1_1_1", "-w", "w2_3_4", "-w", "w3_0_1", "-w", "w4_5_2"),
    ],
}


def compile_latex(source: str, directory: Path) -> str:
    """pdflatex's log for `source`; fails the test when it does not compile."""
    tex = directory / "doc.tex"
    tex.write_text(source)
    assert PDFLATEX is not None
    run = subprocess.run(
        [PDFLATEX, "-halt-on-error", "-interaction=nonstopmode", tex.name],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = (directory / "doc.log").read_text(errors="replace")
    assert run.returncode == 0, log[-3000:]
    assert (directory / "doc.pdf").stat().st_size > 0
    return log


def overfull(log: str) -> list[float]:
    return [float(m) for m in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_latex_compiles_and_fits_the_page(name: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["explain", *DOCUMENTS[name], "--format", "latex"])
    assert result.exit_code == 0, result.output
    log = compile_latex(result.stdout, tmp_path)
    too_wide = [pt for pt in overfull(log) if pt > MAX_OVERFULL_PT]
    assert too_wide == [], too_wide


def test_the_fragment_compiles_inside_a_minimal_document(tmp_path: Path) -> None:
    result = runner.invoke(app, ["explain", "-w", "xh1", "--format", "latex", "--fragment"])
    assert result.exit_code == 0, result.output
    document = (
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
        + result.stdout
        + "\\end{document}\n"
    )
    compile_latex(document, tmp_path)
