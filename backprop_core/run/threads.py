"""How many threads the BLAS (NumPy's matrix products) may use while training.

The default is the CPUs this process may use (its affinity: what `taskset` or a
container grants), and `training.threads` / `--threads` sets it. Not the load
average: OpenBLAS splits a matrix product differently for another thread
count, so the count changes the last bits of the weights, and a default that
followed the machine's load would break "same config and seed, same bits".
On a machine shared with other work, one thread is often fastest: a BLAS
thread whose sibling core is busy spins waiting for it (two threads on two
busy cores measured 4-6.5x slower than one). threadpoolctl sets the count of
whichever BLAS NumPy was built with (OpenBLAS, MKL, BLIS) at run time, which
environment variables cannot do once NumPy is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def default_threads() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def blas_threads(count: int) -> Iterator[None]:
    """Limit the BLAS to `count` threads inside the block (restored after)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=count, user_api="blas"):
        yield
