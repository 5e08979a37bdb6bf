"""The benchmark suite's smoke mode produces every figure (timings are never asserted)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402

HEADINGS = (
    "## Machine",
    "matmul peak",
    "per update",
    "samples/s",
    "GFLOP/s",
    "of peak",
    "time vs NumPy loop",
    "peak memory",
    "memory / (data + params)",
    "### Start-up",
    "`bp --help`",
    "`bp check`",
    "`bp train`",
    "import numpy, typer, rich, yaml",
    "### Rendering cost",
)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        path = tmp_path_factory.mktemp("bench") / "results.json"
        results = run.main(["--smoke", "--no-torch", "--json", str(path)])
    return results, out.getvalue()


def test_every_figure_is_printed(smoke: tuple[dict[str, Any], str]) -> None:
    results, text = smoke
    missing = [h for h in HEADINGS if h not in text]
    assert not missing, text
    assert results["machine"]["numpy"] and results["machine"]["blas"]
    for dtype in ("float32", "float64"):
        peak = results["peak"][dtype]
        assert peak["flops"] == 2 * 128**3 and all(t > 0 for t in peak["times"])


def test_every_workload_ran_both_variants_on_the_same_maths(
    smoke: tuple[dict[str, Any], str],
) -> None:
    results, _ = smoke
    rows = results["workloads"]
    assert set(rows) == {"reference", "tiny", "small", "large-32", "large-64"}
    for name, row in rows.items():
        assert set(row) == {"numpy", "bp"}, name
        for r in row.values():
            assert len(r["times"]) == 1 and r["peak_mb"] > 0 and r["data_mb"] > 0
        # Same data, weights and shuffling: the last epoch's losses agree.
        rtol = 1e-4 if name == "large-32" else 1e-9
        bp, numpy = row["bp"]["loss"], row["numpy"]["loss"]
        assert math.isclose(bp, numpy, rel_tol=rtol, abs_tol=1e-12), (name, bp, numpy)


def test_start_up_and_rendering_are_measured(smoke: tuple[dict[str, Any], str]) -> None:
    results, _ = smoke
    seconds = results["startup"]["seconds"]
    assert len(seconds) == 5 and all(t > 0 for t in seconds.values())
    assert "numpy" not in results["startup"]["imports"]["bp --help"]
    for timing in results["rendering"].values():
        assert timing["shown"] > 0 and timing["quiet"] > 0
