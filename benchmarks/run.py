"""Benchmark bp against a plain NumPy loop (and PyTorch, when installed).

    python benchmarks/run.py            # the issue's sizes (about ten minutes on 2 cores)
    python benchmarks/run.py --quick    # smaller sizes, fewer repetitions (a few minutes)
    python benchmarks/run.py --smoke    # tiny sizes: checks that every figure is produced
    python benchmarks/run.py --check    # also judge every target; exit 1 if one is missed

Every variant of every workload runs in its own process (benchmarks/child.py);
figures are medians over repetitions; ratios compare with the NumPy loop and
PyTorch measured in the same run, and GFLOP/s with this machine's matmul peak
measured in the same run. `--json PATH` also writes the raw numbers.
`--check` compares each figure with its target (TARGETS below), prints which
are met and which missed, and exits 1 when any is missed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks import report  # noqa: E402
from benchmarks.data_scale import write_csv, write_npz  # noqa: E402
from benchmarks.startup import rendering, startup  # noqa: E402
from benchmarks.workloads import width_workloads, workloads  # noqa: E402

# mode: repetitions (small, large workloads), rounds, matmul size, start-up runs, epochs
SETTINGS = {
    "full": {
        # Small workloads: many processes of a few repetitions each. The same code
        # runs up to a third faster or slower from one process to the next here
        # (memory layout), so more processes, not more repetitions, steady a ratio.
        "repeats": 3,
        "repeats_large": 5,
        "rounds": 8,
        "rounds_large": 3,
        "matmul": 2048,
        "startup": 10,
        "render": 10_000,
        "csv_numbers": 10_000_000,
        "npz_rows": 60_000,
    },
    "quick": {
        "repeats": 2,
        "repeats_large": 3,
        "rounds": 5,
        "rounds_large": 2,
        "matmul": 1024,
        "startup": 7,
        "render": 10_000,
        # The data targets are judged at the sizes in every mode (seconds
        # each): at a smaller size the interpreter's own memory would dominate.
        "csv_numbers": 10_000_000,
        "npz_rows": 60_000,
    },
    "smoke": {
        "repeats": 1,
        "repeats_large": 1,
        "rounds": 1,
        "rounds_large": 1,
        "matmul": 128,
        "startup": 1,
        "render": 20,
        "csv_numbers": 20_000,
        "npz_rows": 256,
    },
}

# (name, what it says, figure -> the ratio, limit): met when ratio <= limit.
SMALL = ("reference", "tiny", "small")
# Networks of at most 64 weights, also timed on the scalar path (training.engine: scalar).
SCALAR = ("reference", "tiny")
STRETCH = "stretch: "


def child(request: dict[str, Any]) -> dict[str, Any]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.child", json.dumps(request)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed: {request}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", const="quick", dest="mode")
    size.add_argument("--smoke", action="store_const", const="smoke", dest="mode")
    parser.add_argument("--only", nargs="*", help="workload names (default: all)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--no-startup", action="store_true", help="skip start-up and rendering")
    parser.add_argument("--no-data", action="store_true", help="skip the CSV and .npz figures")
    parser.add_argument("--no-width", action="store_true", help="skip the width scaling")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads for every variant (default 1: fastest on a shared machine)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--check", action="store_true", help="judge the targets; exit 1 if any is missed"
    )
    parser.add_argument("--full", action="store_const", const="full", dest="mode")
    args = parser.parse_args(argv)
    # --check alone runs the quick sizes, so the targets are checked in minutes.
    mode = args.mode or ("quick" if args.check else "full")
    s = SETTINGS[mode]
    has_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    variants = ["numpy", "bp", *(["torch"] if has_torch else [])]

    results: dict[str, Any] = {"mode": mode, "machine": child({"kind": "machine"})}
    report.machine(results["machine"])
    results["peak"] = {
        dtype: child(
            {"kind": "matmul", "dtype": dtype, "size": s["matmul"], "repeats": s["repeats"]}
        )
        for dtype in ("float32", "float64")
    }
    report.peak(results["peak"], s["matmul"])
    results["workloads"] = {}
    for w in workloads(mode):
        if args.only and w.name not in args.only:
            continue
        repeats = s["repeats_large"] if w.name.startswith("large") else s["repeats"]
        # Variants take turns, round after round, each round in fresh processes:
        # a slow spell of a shared machine then falls on every variant alike,
        # instead of on whichever one happened to be running.
        these = [*variants, "bp-scalar"] if w.name in SCALAR else variants
        runs: dict[str, list[dict[str, Any]]] = {v: [] for v in these}
        for _ in range(s["rounds_large"] if w.name.startswith("large") else s["rounds"]):
            for v in these:
                runs[v].append(
                    child(
                        {
                            "kind": "train",
                            "variant": v,
                            "workload": w.name,
                            "mode": mode,
                            "repeats": repeats,
                            "threads": args.threads,
                        }
                    )
                )
        row = {v: _pooled(r) for v, r in runs.items()}
        results["workloads"][w.name] = row
        report.workload(w, row, results["peak"])
    if not args.no_width:
        results["width"] = _width(mode, s["repeats"], s["rounds"], args.threads)
        report.width(results["width"], {w.name: w.units[1] for w in width_workloads(mode)})
    if not args.no_data:
        with tempfile.TemporaryDirectory() as folder:
            # A reader takes a second: seven turns steady a ratio near 1 for little time.
            results["csv"] = _csv(Path(folder), s["csv_numbers"], max(7, s["rounds"]))
            report.csv(results["csv"])
            config = write_npz(Path(folder), s["npz_rows"])
            results["npz"] = {
                "rows": s["npz_rows"],
                **child({"kind": "npz", "config": str(config)}),
            }
            report.npz(results["npz"])
    if not args.no_startup:
        results["startup"] = startup(s["startup"])
        report.startup(results["startup"])
        with tempfile.TemporaryDirectory() as folder:
            configs = _render_configs(Path(folder), smoke=mode == "smoke")
            results["rendering"] = rendering(configs, s["render"], s["startup"])
        report.rendering(results["rendering"], s["render"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.check:
        verdicts = check(results)
        results["checks"] = verdicts
        report.checks(verdicts)
        # A stretch target is judged and shown, but missing it does not fail the run.
        required = [(t, met) for t, met, _ in verdicts if not t.startswith(STRETCH)]
        missed = [t for t, met in required if not met]
        if missed:
            print(f"{len(missed)} of {len(required)} targets missed: " + "; ".join(missed))
            raise SystemExit(1)
        stretch = [t for t, met, _ in verdicts if not met and t.startswith(STRETCH)]
        print(f"all {len(required)} targets met" + "".join(f"; missed {t}" for t in stretch))
    return results


def _width(mode: str, repeats: int, rounds: int, threads: int) -> dict[str, Any]:
    """bp on each width, with its buffers reused and with arrays made afresh,
    widths and variants taking turns round after round."""
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for _ in range(rounds):
        for w in width_workloads(mode):
            for variant in ("bp", "bp-fresh"):
                request = {"kind": "train", "variant": variant, "workload": w.name}
                request |= {"mode": mode, "repeats": repeats, "threads": threads}
                runs.setdefault(w.name, {}).setdefault(variant, []).append(child(request))
    return {name: {v: _pooled(r) for v, r in row.items()} for name, row in runs.items()}


def _csv(folder: Path, numbers: int, rounds: int) -> dict[str, Any]:
    """numpy.loadtxt and bp's reader on one file, taking turns, each in a fresh process."""
    path = folder / "numbers.csv"
    write_csv(path, numbers)
    readers: dict[str, dict[str, list[float]]] = {}
    last: dict[str, Any] = {}
    for _ in range(rounds):
        for variant in ("numpy.loadtxt", "bp"):
            last = child({"kind": "csv", "variant": variant, "path": str(path)})
            into = readers.setdefault(variant, {"seconds": [], "peak_mb": []})
            into["seconds"].append(last["seconds"])
            into["peak_mb"].append(last["peak_mb"])
    return {
        "numbers": numbers,
        "file_mb": last["file_mb"],
        "array_mb": last["array_mb"],
        "readers": readers,
    }


def check(results: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """(target, met, what was measured) for every target the run measured."""
    out: list[tuple[str, bool, str]] = []

    def judge(target: str, value: float, limit: float, shown: str) -> None:
        out.append((target, bool(value <= limit), shown))

    rows = results.get("startup", {}).get("rows", {})
    for name, limit in (("bp check", 1.2), ("bp train", 1.2), ("bp --help", 1.1)):
        if name in rows:
            r = rows[name]
            judge(
                f"`{name}` CPU at most {limit}x `{r['reference']}`",
                r["ratio"],
                limit,
                f"{r['ratio']:.2f}x",
            )
    workloads = results["workloads"]
    for name in SMALL:
        if name in workloads:
            ratio = _median(workloads[name]["bp"]) / _median(workloads[name]["numpy"])
            judge(
                f"{name}: time per update at most 1.0x the NumPy loop", ratio, 1.0, f"{ratio:.2f}x"
            )
    for name in SCALAR:
        if "bp-scalar" in workloads.get(name, {}):
            ratio = _median(workloads[name]["numpy"]) / _median(workloads[name]["bp-scalar"])
            judge(
                f"{STRETCH}{name}: the scalar path at least 5x faster per update than the "
                "NumPy loop",
                5.0 / ratio,
                1.0,
                f"{ratio:.1f}x faster",
            )
    large = workloads.get("large-32", {})
    if "torch" in large:
        ratio = _median(large["bp"]) / _median(large["torch"])
        judge(
            "784-256-128-10 float32: samples/s at least PyTorch's (same threads)",
            ratio,
            1.0,
            f"bp takes {ratio:.2f}x PyTorch's time",
        )
    if "width" in results:
        times = {name: _median(row["bp"]) for name, row in results["width"].items()}
        units = {w.name: w.units[1] for w in width_workloads(results["mode"])}
        first = next(iter(times))
        # growth beyond linear: time ratio to the narrowest over the width ratio
        worst = max(
            (times[n] / times[first]) / (units[n] / units[first]) for n in times if n != first
        )
        widest = max(units.values())
        judge(
            f"time per epoch at most linear in width, {units[first]} to {widest} units",
            worst,
            1.0,
            f"worst {worst:.2f}x linear; {widest} units: "
            f"{times[f'width-{widest}'] / times[first]:.1f}x the time, "
            f"{widest // units[first]}x the width",
        )
    if "csv" in results:
        c = results["csv"]
        bp, numpy = c["readers"]["bp"], c["readers"]["numpy.loadtxt"]
        memory = max(bp["peak_mb"]) / c["array_mb"]
        judge("CSV: peak memory at most 2.5x its float64 array", memory, 2.5, f"{memory:.2f}x")
        # The readers take turns: the median of each turn's ratio, as for start-up.
        speed = statistics.median(
            b / a for a, b in zip(numpy["seconds"], bp["seconds"], strict=True)
        )
        judge("CSV: at least as fast as numpy.loadtxt", speed, 1.0, f"{speed:.2f}x its time")
    if "npz" in results:
        n = results["npz"]
        memory = n["peak_mb"] / (n["data_mb"] + n["params_mb"])
        judge(
            "float32 .npz training: whole-process peak at most 1.5x data + parameters",
            memory,
            1.5,
            f"{memory:.2f}x",
        )
    return out


def _median(run: dict[str, Any]) -> float:
    return float(statistics.median(run["times"]))


def _pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One variant's rounds as one result: every repetition's time, the largest peak."""
    pooled = dict(runs[-1])
    pooled["times"] = [t for r in runs for t in r["times"]]
    pooled["peak_mb"] = max(r["peak_mb"] for r in runs)
    return pooled


def _render_configs(folder: Path, *, smoke: bool) -> dict[str, Path | None]:
    """The reference example, and the 2-2-2 sigmoid network written as a config."""
    if smoke:  # one is enough to check the measurement works
        return {"reference example": None}
    from benchmarks.bp_variant import config_text
    from benchmarks.workloads import by_name

    path = folder / "tiny-sigmoid.yaml"
    path.write_text(config_text(by_name("full", "tiny"), inline_data=True))
    return {"reference example": None, "2-2-2 sigmoid": path}


if __name__ == "__main__":
    main()
