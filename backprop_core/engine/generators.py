"""Synthetic data sets for `data.generate`, each drawn from the config's seed.

Every generator returns ``(X, labels, targets)``: classifiers fill ``labels``
(integers ``0..k-1``, one per row) and leave ``targets`` None; the regression
generator (`sine`) fills ``targets`` ``(n, 1)``. data/targets.py turns labels into
the target encoding the loss needs (one-hot for softmax, a 0/1 column for
sigmoid). Rows come shuffled, so a file-order mini-batch is not one class.

`GENERATORS` is the one list of them: the config's choices read it (it lives in
engine/ because config/ may import only the engine). Adding a generator is one
function and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.engine.seeding import DATA, rng

Array = NDArray[np.floating[Any]]
Labels = NDArray[np.integer[Any]]


@dataclass(frozen=True)
class Generated:
    X: Array
    labels: Labels | None = None  # classifiers: the class index of each row
    targets: Array | None = None  # regression: (n, 1)
    classes: int = 0  # number of classes (0 for regression)


def _per_class(samples: int, k: int) -> list[int]:
    """`samples` split over `k` classes as evenly as possible (first classes get the rest)."""
    base, extra = divmod(samples, k)
    return [base + (1 if c < extra else 0) for c in range(k)]


def _shuffled(g: np.random.Generator, X: Array, labels: Labels, k: int) -> Generated:
    order = g.permutation(len(X))
    return Generated(X[order], labels[order], classes=k)


def xor(g: np.random.Generator, samples: int, noise: float, classes: int) -> Generated:
    """Gaussian clusters (sd `noise`) at the corners of the unit square; label x1 XOR x2."""
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    corner = np.concatenate([np.full(m, c) for c, m in enumerate(_per_class(samples, 4))])
    X = corners[corner] + g.normal(0.0, noise, (samples, 2))
    labels = np.array([0, 1, 1, 0])[corner]
    return _shuffled(g, X, labels, 2)


def circles(g: np.random.Generator, samples: int, noise: float, classes: int) -> Generated:
    """An outer circle of radius 1 (class 0) around an inner one of radius 0.5 (class 1)."""
    sizes = _per_class(samples, 2)
    radius = np.concatenate([np.full(sizes[0], 1.0), np.full(sizes[1], 0.5)])
    angle = g.uniform(0.0, 2 * np.pi, samples)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    X += g.normal(0.0, noise, X.shape)
    labels = np.concatenate([np.zeros(sizes[0], int), np.ones(sizes[1], int)])
    return _shuffled(g, X, labels, 2)


def moons(g: np.random.Generator, samples: int, noise: float, classes: int) -> Generated:
    """Two interleaving half circles (as scikit-learn's make_moons draws them)."""
    sizes = _per_class(samples, 2)
    t0 = np.linspace(0.0, np.pi, sizes[0])
    t1 = np.linspace(0.0, np.pi, sizes[1])
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + g.normal(0.0, noise, (samples, 2))
    labels = np.concatenate([np.zeros(sizes[0], int), np.ones(sizes[1], int)])
    return _shuffled(g, X, labels, 2)


def spiral(g: np.random.Generator, samples: int, noise: float, classes: int) -> Generated:
    """`classes` interleaved spiral arms (the CS231n data set); `noise` jitters the angle.

    Arm c: radius r in [0, 1], angle 4c + 4r (radians) plus N(0, (2 * noise)^2).
    """
    X_parts, label_parts = [], []
    for c, m in enumerate(_per_class(samples, classes)):
        r = np.linspace(0.0, 1.0, m)
        t = 4.0 * c + 4.0 * r + g.normal(0.0, 2.0 * noise, m)
        X_parts.append(r[:, None] * np.column_stack([np.sin(t), np.cos(t)]))
        label_parts.append(np.full(m, c))
    return _shuffled(g, np.vstack(X_parts), np.concatenate(label_parts), classes)


def sine(g: np.random.Generator, samples: int, noise: float, classes: int) -> Generated:
    """x uniform in [-pi, pi]; T = sin(x) + N(0, noise^2)."""
    x = g.uniform(-np.pi, np.pi, (samples, 1))
    return Generated(x, targets=np.sin(x) + g.normal(0.0, noise, x.shape))


Generator = Callable[[np.random.Generator, int, float, int], Generated]

# name -> (function, input width): the config's `data.generate.name` choices.
GENERATORS: dict[str, tuple[Generator, int]] = {
    "xor": (xor, 2),
    "circles": (circles, 2),
    "moons": (moons, 2),
    "spiral": (spiral, 2),
    "sine": (sine, 1),
}


def generate(name: str, samples: int, noise: float, classes: int, seed: int) -> Generated:
    """Draw the data set `name`: the same arguments always give the same arrays."""
    function, _ = GENERATORS[name]
    return function(rng(seed, DATA), samples, noise, classes)
