"""Data at scale: reading a large CSV file, and training from a float32 .npz file.

`write_csv` makes a file of random numbers (rows of `COLUMNS` values, 7
significant digits); each reader runs in its own process (benchmarks/child.py)
and reports its seconds and its peak memory above what the process held before
reading, against the size of the float64 array the file holds:

- ``numpy.loadtxt``: the yardstick, reading every column as float64;
- ``bp``: `read_table` and the inputs and target columns, as `bp train` reads them.

bp parses a large file in forked processes (backprop_core/data/csv_parallel.py),
so a reader's peak is the reading process's growth plus its largest child's:
that child's peak above the peak of a child forked just before reading that
exits at once (what a forked child holds from the start). It errs high: the
pages of the shared array a child fills count in the child and again in the
reading process, which reads them.

`npz_train` runs `bp`'s own path from a config with a float32 .npz file
(784 inputs, 10 one-hot targets) through one epoch of training, and reports the
whole process's peak memory against the data plus the parameters.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any

COLUMNS = 10
NPZ_UNITS = (784, 256, 128, 10)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def children_peak_mb() -> float:
    """The largest peak of the finished child processes (0 before any)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def forked_mb() -> float:
    """The peak of a child forked now that exits at once (0 where nothing forks)."""
    if not hasattr(os, "fork"):
        return 0.0
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return children_peak_mb()


def resident_mb() -> float:
    """Memory resident now (the peak so far may be higher: imports free what they used)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:  # not Linux: the peak so far, which can only understate the growth
        return peak_mb()


def write_csv(path: Path, numbers: int) -> int:
    """A CSV file of `numbers` random values with a header; returns its size in bytes."""
    import numpy as np

    rows = numbers // COLUMNS
    rng = np.random.default_rng(0)
    with path.open("w") as f:
        f.write(",".join(f"x{i}" for i in range(COLUMNS - 1)) + ",y\n")
        for start in range(0, rows, 100_000):  # in blocks: the writer stays small
            block = rng.standard_normal((min(100_000, rows - start), COLUMNS))
            np.savetxt(f, block, delimiter=",", fmt="%.7g")
    return path.stat().st_size


def csv_load(request: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from backprop_core.data.csv_table import read_table  # imported before the clock starts

    path = Path(request["path"])
    forked_start_mb = forked_mb()
    start_mb = resident_mb()
    started = time.perf_counter()
    if request["variant"] == "numpy.loadtxt":
        values = np.loadtxt(path, delimiter=",", skiprows=1)
        shape = values.shape
    else:
        table = read_table(path, path.name)
        X, T = table.numbers(table.header[:-1]), table.numbers(table.header[-1:])
        shape = (X.shape[0], X.shape[1] + T.shape[1])
    seconds = time.perf_counter() - started
    child_mb = max(0.0, children_peak_mb() - forked_start_mb)
    return {
        "seconds": seconds,
        "peak_mb": peak_mb() - start_mb + child_mb,
        "child_mb": child_mb,
        "array_mb": shape[0] * shape[1] * 8 / 2**20,
        "file_mb": path.stat().st_size / 2**20,
    }


def write_npz(folder: Path, rows: int) -> Path:
    """A float32 .npz file (X: rows x 784, T: one-hot of 10) and a config training on it."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, NPZ_UNITS[0]), dtype=np.float32)
    T = np.zeros((rows, NPZ_UNITS[-1]), np.float32)
    T[np.arange(rows), rng.integers(0, NPZ_UNITS[-1], rows)] = 1.0
    np.savez(folder / "data.npz", X=X, T=T)
    layers = "\n".join(
        f"    - {{units: {u}, activation: {a}}}"
        for u, a in zip(NPZ_UNITS[1:], ("relu", "relu", "softmax"), strict=True)
    )
    config = folder / "npz.yaml"
    config.write_text(
        f"network:\n  inputs: {NPZ_UNITS[0]}\n  layers:\n{layers}\nloss: cross_entropy\n"
        "data:\n  file: {path: data.npz}\n"
        "training: {eta: 0.05, epochs: 1, batch_size: 128, precision: float32, threads: 1}\n"
    )
    return config


def npz_train(request: dict[str, Any]) -> dict[str, Any]:
    from backprop_core.run.experiment import load_experiment
    from backprop_core.run.training import Trainer

    started = time.perf_counter()
    experiment = load_experiment(Path(request["config"]), [])
    trainer = Trainer(experiment)
    trainer.measure_norm = lambda epoch: False
    trainer.run()
    data = experiment.data
    params = experiment.network.parameter_count() * 4
    return {
        "seconds": time.perf_counter() - started,
        "peak_mb": peak_mb(),
        "data_mb": (data.X.nbytes + data.T.nbytes) / 2**20,
        "params_mb": params / 2**20,
    }
