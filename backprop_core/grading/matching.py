"""When a hand-computed number counts as the right one.

A value is right when it agrees with the target to ``digits`` significant
digits: it is within half a unit of the target's ``digits``-th significant
digit. So every value rounded from the right one (to ``digits`` digits or more)
is right, whichever way the student rounded a tie, and a rounding that carries
into the next decade (0.99951 -> 1.00) too.
"""

from __future__ import annotations

import numpy as np

from backprop_core.grading.quantities import Array

DIGITS = 3
# Below this a target is zero up to the engine's rounding: any value that small agrees.
ZERO = 1e-12


def tolerance(target: Array, digits: int) -> Array:
    """Half a unit in the ``digits``-th significant digit of each target value."""
    magnitude = np.abs(np.asarray(target, np.float64))
    with np.errstate(divide="ignore"):
        exponent = np.floor(np.log10(np.where(magnitude > 0, magnitude, 1.0)))
    half_unit = 0.5 * 10.0 ** (exponent - digits + 1)
    # A hair over half a unit: 0.125 written 0.13 (or 0.12) is a rounding, in binary too.
    return np.maximum(half_unit * (1 + 1e-9), ZERO)


def agrees(given: Array, target: Array, digits: int = DIGITS) -> bool:
    """Every value of `given` agrees with `target` (broadcast) to ``digits`` digits."""
    try:
        g, t = np.broadcast_arrays(np.asarray(given, np.float64), np.asarray(target, np.float64))
    except ValueError:
        return False  # a list of the wrong length
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(t))):
        return bool(np.array_equal(g, t))
    return bool(np.all(np.abs(g - t) <= tolerance(t, digits)))
