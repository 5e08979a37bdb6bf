"""How many threads the BLAS (NumPy's matrix products) may use while training.

The default is the CPUs this process may use (its affinity: what `taskset` or a
container grants), or one thread when no matrix product of the run is large
enough for a BLAS to split (`SPLIT_WORK`); `training.threads` / `--threads`
sets it. Not the load average: OpenBLAS splits a matrix product differently for
another thread count, so the count changes the last bits of the weights, and a
default that followed the machine's load would break "same config and seed,
same bits". On a machine shared with other work, one thread is often fastest:
a BLAS thread whose sibling core is busy spins waiting for it (two threads on
two busy cores measured 4-6.5x slower than one). threadpoolctl sets the count of
whichever BLAS NumPy was built with (OpenBLAS, MKL, BLIS) at run time, which
environment variables cannot do once NumPy is loaded.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backprop_core.engine.network import Network

# Multiply-adds up to which OpenBLAS computes a matrix product on one thread
# whatever its thread count (its GEMM_MULTITHREAD_THRESHOLD, 4 x 65,536): for a
# run made only of such products, more threads cannot help and one is exact.
SPLIT_WORK = 4 * 65_536

# The variables OpenBLAS reads its thread count from when it loads, in its order.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")

# The thread count the BLAS started with, when bp set it before NumPy loaded.
_started: int | None = None


def default_threads(work: int | None = None) -> int:
    """The CPUs this process may use; 1 when the largest matrix product of the run
    (`work` multiply-adds) is no larger than `SPLIT_WORK`."""
    if work is not None and work <= SPLIT_WORK:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def threads_for(configured: int | None, rows: int, network: Network) -> int:
    """`training.threads` if set, else the default for `rows` rows at a time through
    the network's largest weight matrix (its largest matrix product)."""
    if configured is not None:
        return configured
    return default_threads(rows * max(W.size for W in network.W.values()))


def start_blas_single_threaded() -> None:
    """Before NumPy loads, in the `bp` process: have OpenBLAS start with one thread.

    OpenBLAS starts a thread per CPU when it loads, and each spins for about a
    tenth of a second waiting for work before it sleeps: ~55 ms of CPU time per
    `import numpy` on two CPUs, for threads that `bp check`, `explain` or the
    training of a small network never use. A run that wants more threads gets
    them from `blas_threads`, as before. Nothing is changed when NumPy is already
    loaded or the user set a thread variable (theirs is respected).
    """
    global _started
    if "numpy" in sys.modules or any(name in os.environ for name in THREAD_VARIABLES):
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    _started = 1


def _openblas_started_with(count: int) -> bool:
    """Whether NumPy's BLAS is a pthreads OpenBLAS that bp started with `count` threads.

    Read from the libraries the process has loaded, not from how NumPy was built:
    an OpenBLAS built with OpenMP takes its count from OMP_NUM_THREADS, not from
    OPENBLAS_NUM_THREADS, and another BLAS may be switched in under the same
    name. Off Linux (no /proc/self/maps) the answer is no: threadpoolctl decides.
    """
    if _started != count:
        return False
    try:
        with open("/proc/self/maps") as maps:
            loaded = maps.read().lower()
    except OSError:
        return False
    return "openblas" in loaded and not any(
        name in loaded for name in ("libgomp", "libomp", "libiomp", "mkl", "blis")
    )


@contextmanager
def blas_threads(count: int) -> Iterator[None]:
    """Limit the BLAS to `count` threads inside the block (restored after)."""
    if _openblas_started_with(count):
        # Already so: skip threadpoolctl's search of the loaded libraries
        # (importing ctypes and scanning them is ~5 ms of a small run).
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=count, user_api="blas"):
        yield
