"""Decision regions of a 2-input classifier: the data behind a playground-style picture.

A regular grid covers the range of the data plus a margin; the network's
predicted class at every grid point is computed with batched forward passes
(in chunks, so a fine grid never allocates one huge activation matrix).
Plotting lives in the CLI; this module only computes arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from backprop_core.engine.losses import LOSSES
from backprop_core.engine.network import Network

Array = NDArray[np.floating[Any]]
CHUNK = 16_384  # grid points per forward pass


class LabelledPoints(Protocol):
    """What `regions_for` reads of a data set (a `Dataset`; the engine imports no data/)."""

    @property
    def X(self) -> Array: ...
    @property
    def T(self) -> Array: ...
    @property
    def classes(self) -> list[str] | None: ...


@dataclass(frozen=True)
class Regions:
    """``classes[r, c]`` is the predicted class at ``(xs[c], ys[r])`` (image layout).

    ``points`` are the data rows (n, 2) and ``labels`` their true classes (n,),
    ready to scatter on top of the regions; ``names`` the class names.
    """

    xs: Array
    ys: Array
    classes: NDArray[np.int64]
    points: Array
    labels: NDArray[np.int64]
    names: list[str]


def supports_regions(network: Network) -> bool:
    """A decision-region picture needs exactly 2 inputs and a classification loss."""
    return network.inputs == 2 and LOSSES[network.loss].classifier


def class_of(Y: Array) -> NDArray[np.int64]:
    """Predicted class per row: argmax over several outputs, ``Y >= 0.5`` for one
    (the same rule as `training.accuracy`)."""
    if Y.shape[1] > 1:
        return Y.argmax(axis=1).astype(np.int64)
    return (Y[:, 0] >= 0.5).astype(np.int64)


def grid(X: Array, resolution: int = 200, margin: float = 0.1) -> tuple[Array, Array]:
    """Axis coordinates over the data range of ``X (n, 2)``, widened by `margin`
    of the range on every side (a degenerate range of width 0 is widened by 1)."""
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision regions need 2 input columns, got shape {X.shape}")
    lo, hi = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - margin * span, hi + margin * span
    return np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)


def predict_grid(network: Network, xs: Array, ys: Array, chunk: int = CHUNK) -> NDArray[np.int64]:
    """The predicted class at every ``(xs[c], ys[r])``, shape ``(len(ys), len(xs))``."""
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()]).astype(network.dtype)
    out = np.empty(points.shape[0], dtype=np.int64)
    with np.errstate(all="ignore"):  # a diverged network predicts NaN; argmax still answers
        for start in range(0, points.shape[0], chunk):
            out[start : start + chunk] = class_of(network.predict(points[start : start + chunk]))
    return out.reshape(gy.shape)


def decision_regions(
    network: Network,
    X: Array,
    T: Array,
    names: list[str] | None = None,
    *,
    resolution: int = 200,
    margin: float = 0.1,
) -> Regions:
    """Grid, predicted classes and the labelled data points of a 2-input classifier.

    ``X`` is what the network sees (standardized inputs when the config
    standardizes), so regions and points share one coordinate system.
    """
    if network.inputs != 2:
        raise ValueError(f"decision regions need a 2-input network, got {network.inputs}")
    xs, ys = grid(np.asarray(X, dtype=np.float64), resolution, margin)
    labels = class_of(np.asarray(T))
    count = max(2, T.shape[1])
    return Regions(
        xs,
        ys,
        predict_grid(network, xs, ys),
        np.asarray(X, dtype=np.float64),
        labels,
        list(names) if names else [str(c) for c in range(count)],
    )


def regions_for(network: Network, data: LabelledPoints, resolution: int = 200) -> Regions | None:
    """The decision regions of `network` over a `Dataset`'s training points, or None
    when the picture does not apply (not 2 inputs, or not a classifier)."""
    if not supports_regions(network):
        return None
    return decision_regions(network, data.X, data.T, data.classes, resolution=resolution)
