"""Benchmark bp against a plain NumPy loop (and PyTorch, when installed).

    python benchmarks/run.py            # the issue's sizes (a few minutes on 2 cores)
    python benchmarks/run.py --quick    # smaller sizes, fewer repetitions
    python benchmarks/run.py --smoke    # tiny sizes: checks that every figure is produced

Every variant of every workload runs in its own process (benchmarks/child.py);
figures are medians over repetitions; ratios compare with the NumPy loop and
PyTorch measured in the same run, and GFLOP/s with this machine's matmul peak
measured in the same run. `--json PATH` also writes the raw numbers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks import report  # noqa: E402
from benchmarks.startup import rendering, startup  # noqa: E402
from benchmarks.workloads import workloads  # noqa: E402

# mode: repetitions (small, large workloads), rounds, matmul size, start-up runs, epochs
SETTINGS = {
    "full": {
        "repeats": 8,
        "repeats_large": 5,
        "rounds": 3,
        "matmul": 2048,
        "startup": 10,
        "render": 10_000,
    },
    "quick": {
        "repeats": 5,
        "repeats_large": 3,
        "rounds": 2,
        "matmul": 1024,
        "startup": 5,
        "render": 10_000,
    },
    "smoke": {
        "repeats": 1,
        "repeats_large": 1,
        "rounds": 1,
        "matmul": 128,
        "startup": 1,
        "render": 20,
    },
}


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
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    mode = args.mode or "full"
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
        runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
        for _ in range(s["rounds"]):
            for v in variants:
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
    if not args.no_startup:
        results["startup"] = startup(s["startup"])
        report.startup(results["startup"])
        with tempfile.TemporaryDirectory() as folder:
            configs = _render_configs(Path(folder), smoke=mode == "smoke")
            results["rendering"] = rendering(configs, s["render"], s["startup"])
        report.rendering(results["rendering"], s["render"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return results


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
