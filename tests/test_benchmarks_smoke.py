"""The benchmark suite's smoke mode produces every figure (timings are never asserted)."""

from __future__ import annotations

import json
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
    "import numpy, yaml, typer, pydantic",
    "import typer",
    "### Rendering cost",
    "### Reading a CSV file",
    "numpy.loadtxt",
    "float32 .npz",
    "### Targets",
)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        path = tmp_path_factory.mktemp("bench") / "results.json"
        try:
            results = run.main(["--smoke", "--no-torch", "--check", "--json", str(path)])
        except SystemExit as e:  # smoke sizes miss targets: only that it judges them counts
            assert e.code == 1
            results = json.loads(path.read_text())

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
        assert set(row) == {"numpy", "bp", *(["bp-scalar"] if name in run.SCALAR else [])}, name
        for r in row.values():
            assert len(r["times"]) == 1 and r["peak_mb"] > 0 and r["data_mb"] > 0
        # Same data, weights and shuffling: the last epoch's losses agree.
        rtol = 1e-4 if name == "large-32" else 1e-9
        for variant in set(row) - {"numpy"}:
            bp, numpy = row[variant]["loss"], row["numpy"]["loss"]
            assert math.isclose(bp, numpy, rel_tol=rtol, abs_tol=1e-12), (variant, bp, numpy)


def test_start_up_and_rendering_are_measured(smoke: tuple[dict[str, Any], str]) -> None:
    results, _ = smoke
    rows = results["startup"]["rows"]
    # 6 commands and 4 references
    assert len(rows) == 10 and all(r["cpu"] > 0 and r["wall"] > 0 for r in rows.values())
    assert rows["bp check"]["ratio"] > 0 and rows["bp --help"]["reference"] == "import typer"
    one_thread = rows["bp train (reference's OpenBLAS on one thread)"]["reference"]
    assert one_thread == "OPENBLAS_NUM_THREADS=1 import numpy, yaml, typer, pydantic"
    assert "numpy" not in results["startup"]["imports"]["bp --help"]
    for timing in results["rendering"].values():
        assert timing["shown"] > 0 and timing["quiet"] > 0


def test_check_names_each_missed_target() -> None:
    def timed(seconds: float) -> dict[str, Any]:
        return {"times": [seconds] * 3}

    results = {
        "startup": {
            "rows": {
                "bp check": {"reference": "import numpy", "ratio": 1.5},
                "bp --help": {"reference": "import typer", "ratio": 1.05},
            }
        },
        "workloads": {
            "tiny": {"bp": timed(2.0), "numpy": timed(1.0)},
            "large-32": {"bp": timed(1.0), "numpy": timed(1.0), "torch": timed(2.0)},
        },
        "csv": {
            "array_mb": 100.0,
            "readers": {
                "bp": {"seconds": [1.0], "peak_mb": [200.0]},
                "numpy.loadtxt": {"seconds": [1.0], "peak_mb": [100.0]},
            },
        },
    }
    verdicts = {target: (met, shown) for target, met, shown in run.check(results)}
    missed = sorted(t for t, (met, _) in verdicts.items() if not met)
    assert missed == [
        "`bp check` CPU at most 1.2x `import numpy`",
        "tiny: time per update at most 1.0x the NumPy loop",
    ]
    assert verdicts["tiny: time per update at most 1.0x the NumPy loop"] == (False, "2.00x")
    assert verdicts["CSV: peak memory at most 2.5x its float64 array"] == (True, "2.00x")
    assert len(verdicts) == 6


def test_the_scalar_paths_stretch_target_is_judged_apart() -> None:
    def timed(seconds: float) -> dict[str, Any]:
        return {"times": [seconds] * 3}

    results = {
        "workloads": {
            "reference": {"bp": timed(1.0), "numpy": timed(1.0), "bp-scalar": timed(0.1)},
            "tiny": {"bp": timed(1.0), "numpy": timed(1.0), "bp-scalar": timed(0.25)},
        }
    }
    verdicts = {target: (met, shown) for target, met, shown in run.check(results)}
    stretch = "stretch: {}: the scalar path at least 5x faster per update than the NumPy loop"
    assert verdicts[stretch.format("reference")] == (True, "10.0x faster")
    assert verdicts[stretch.format("tiny")] == (False, "4.0x faster")
    assert all(t.startswith(run.STRETCH) for t in verdicts if "scalar" in t)


def test_width_scaling_ran_reused_and_fresh_buffers_on_the_same_maths(
    smoke: tuple[dict[str, Any], str],
) -> None:
    results, text = smoke
    assert "### Width: time per epoch" in text
    rows = results["width"]
    assert set(rows) == {"width-16", "width-32"}
    for row in rows.values():
        assert set(row) == {"bp", "bp-fresh"} and all(t > 0 for t in row["bp"]["times"])
        assert row["bp"]["loss"] == row["bp-fresh"]["loss"]  # the same bits


def test_check_judges_width_growth_against_linear() -> None:
    def width(seconds_16: float, seconds_32: float) -> dict[str, Any]:
        return {
            "mode": "smoke",
            "workloads": {},
            "width": {
                "width-16": {"bp": {"times": [seconds_16]}},
                "width-32": {"bp": {"times": [seconds_32]}},
            },
        }

    [(target, met, shown)] = run.check(width(1.0, 2.0))
    assert target == "time per epoch at most linear in width, 16 to 32 units"
    assert met and shown == "worst 1.00x linear; 32 units: 2.0x the time, 2x the width"
    [(_, met, shown)] = run.check(width(1.0, 2.5))
    assert not met and shown.startswith("worst 1.25x linear")


def test_a_command_that_fails_is_never_timed() -> None:
    from benchmarks import startup

    failing = [
        sys.executable,
        "-c",
        "import sys; print('no module cli', file=sys.stderr); sys.exit(3)",
    ]
    with pytest.raises(SystemExit) as raised:
        startup.run(failing)
    assert str(raised.value).endswith("exited 3: no module cli")
