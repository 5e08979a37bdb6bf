"""One measurement in its own process: `python -m benchmarks.child '<json request>'`.

Prints one JSON line: per-repetition seconds, the last loss, peak memory. A
separate process per variant keeps one variant's thread pools, allocator state
and imports from disturbing another's (OpenBLAS beside libgomp stalls).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def train(request: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.workloads import by_name

    w = by_name(request["mode"], request["workload"])
    start_mb = peak_mb()
    variant = request["variant"]
    epoch: Callable[[], float]
    if variant in ("bp", "bp-fresh", "bp-scalar"):
        from benchmarks.bp_variant import make_epoch

        engine = "scalar" if variant == "bp-scalar" else "vector"
        epoch = make_epoch(w, request["threads"], fresh=variant == "bp-fresh", engine=engine)
    elif variant == "numpy":
        from threadpoolctl import threadpool_limits

        from benchmarks.reference import make_epoch

        # The same BLAS threads as bp and PyTorch get (for the whole process).
        threadpool_limits(limits=request["threads"], user_api="blas")
        epoch = make_epoch(w)
    else:
        from benchmarks.torch_variant import make_epoch as make_torch_epoch

        epoch = make_torch_epoch(w, request["threads"])
    loss = epoch()  # warm-up: caches, thread pools, first allocations
    times = []
    for _ in range(request["repeats"]):
        started = time.perf_counter()
        for _ in range(w.epochs):
            loss = epoch()
        times.append(time.perf_counter() - started)
    itemsize = 4 if w.dtype == "float32" else 8
    params = sum(w.units[k - 1] * w.units[k] + w.units[k] for k in range(1, w.layers + 1))
    return {
        "times": times,
        "loss": loss,
        "peak_mb": peak_mb(),
        "start_mb": start_mb,
        "data_mb": w.samples * (w.units[0] + w.units[-1]) * itemsize / 2**20,
        "params_mb": params * itemsize / 2**20,
    }


def matmul(request: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    N = request["size"]
    rng = np.random.default_rng(0)
    A = rng.standard_normal((N, N)).astype(request["dtype"])
    B = rng.standard_normal((N, N)).astype(request["dtype"])
    A @ B  # warm-up
    times = []
    for _ in range(request["repeats"]):
        started = time.perf_counter()
        A @ B
        times.append(time.perf_counter() - started)
    return {"times": times, "flops": 2 * N**3}


def machine(request: dict[str, Any]) -> dict[str, Any]:
    import os
    import platform

    import numpy as np

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": f"{blas.get('name')} {blas.get('version')}",
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
    }
    try:  # optional: which kernel the BLAS picked at run time, and its threads
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            info["kernel"] = pools[0].get("architecture")
            info["blas_threads"] = pools[0].get("num_threads")
    except ImportError:
        info["kernel"] = None
    try:
        import torch

        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        info["torch"] = None
    return info


def main() -> None:
    from benchmarks.data_scale import csv_load, npz_train

    request = json.loads(sys.argv[1])
    kinds = {"train": train, "matmul": matmul, "machine": machine, "csv": csv_load}
    result = {**kinds, "npz": npz_train}[request["kind"]](request)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
