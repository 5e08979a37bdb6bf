"""The workloads, built here from a seed (no downloads), identical for every variant.

Each variant (bp, the plain NumPy loop, PyTorch) gets the same data, the same
initial weights and the same shuffling stream, so their losses agree and a
faster variant cannot be faster by doing different maths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
SEED = 0


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    units: tuple[int, ...]  # inputs first
    activations: tuple[str, ...]  # one per layer
    loss: str  # sse | cross_entropy
    samples: int
    batch: int  # rows per update; == samples for full batch
    epochs: int  # epochs per timed repetition
    eta: float
    bias: bool = True
    slope: float = 1.0  # of `linear`
    trainable: tuple[int, ...] | None = None  # layers updated (None: all)
    dtype: str = "float64"

    @property
    def layers(self) -> int:
        return len(self.units) - 1

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.samples // self.batch)

    @property
    def flops_per_sample(self) -> int:
        """Matrix-product flops of one update per sample: forward, dW, and the
        back-propagated delta (not needed into the inputs)."""
        pairs = [self.units[k - 1] * self.units[k] for k in range(1, self.layers + 1)]
        return 2 * (3 * sum(pairs) - pairs[0])


def workloads(mode: str) -> list[Workload]:
    """mode: full (the issue's sizes), quick (smaller), smoke (tiny, for the tests)."""
    updates = {"full": 10_000, "quick": 2_000, "smoke": 50}[mode]
    medium = {"full": 1_800, "quick": 1_800, "smoke": 96}[mode]
    large = {"full": 60_000, "quick": 12_800, "smoke": 512}[mode]
    wide = (784, 256, 128, 10) if mode != "smoke" else (784, 32, 16, 10)
    out = [
        Workload(
            "reference",
            "reference example (SPEC §2), xh1 alone",
            (1, 1, 2, 1),
            ("linear",) * 3,
            "sse",
            1,
            1,
            updates,
            0.03,
            bias=False,
            slope=2.0,
            trainable=(1,),
        ),
        Workload(
            "tiny",
            "2-2-2 sigmoid, full batch",
            (2, 2, 2),
            ("sigmoid", "sigmoid"),
            "sse",
            4,
            4,
            updates,
            0.5,
        ),
        Workload(
            "small",
            "64-32-10 tanh+softmax, batch 32",
            (64, 32, 10),
            ("tanh", "softmax"),
            "cross_entropy",
            medium,
            32,
            {"full": 5, "quick": 3, "smoke": 1}[mode],
            0.1,
        ),
    ]
    for dtype in ("float32", "float64"):
        out.append(
            Workload(
                f"large-{dtype[-2:]}",
                f"{'-'.join(map(str, wide))} relu+softmax, batch 128, {dtype}",
                wide,
                ("relu", "relu", "softmax"),
                "cross_entropy",
                large,
                128,
                1,
                0.05,
                dtype=dtype,
            )
        )
    return out


def width_workloads(mode: str) -> list[Workload]:
    """One hidden layer 128 to 2048 units wide: the matrix products' work grows
    linearly with the width, so time per epoch should too."""
    widths = (16, 32) if mode == "smoke" else WIDTHS
    samples = {"full": 2_560, "quick": 1_280, "smoke": 256}[mode]
    return [
        Workload(
            f"width-{u}",
            f"256-{u}-10 relu+softmax, batch 128",
            (256, u, 10),
            ("relu", "softmax"),
            "cross_entropy",
            samples,
            128,
            1,
            0.05,
        )
        for u in widths
    ]


WIDTHS = (128, 256, 512, 1024, 2048)


def by_name(mode: str, name: str) -> Workload:
    return next(w for w in [*workloads(mode), *width_workloads(mode)] if w.name == name)


def make_data(w: Workload) -> tuple[Array, Array]:
    """X (samples, inputs) and T (samples, outputs) in the workload's dtype."""
    dtype = np.dtype(w.dtype)
    if w.name == "reference":
        return np.array([[2.0]], dtype), np.array([[2.0]], dtype)
    if w.name == "tiny":
        X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype)
        xor = np.logical_xor(X[:, 0], X[:, 1])
        return X, np.stack([xor, ~xor], axis=1).astype(dtype)
    rng = np.random.default_rng([SEED, 3])
    inputs, classes = w.units[0], w.units[-1]
    # Drawn straight in the target dtype, so the data exist once in memory.
    X = rng.standard_normal((w.samples, inputs), dtype=dtype)
    teacher = rng.standard_normal((inputs, classes)).astype(dtype)
    labels = (X @ teacher).argmax(axis=1)
    T = np.zeros((w.samples, classes), dtype)
    T[np.arange(w.samples), labels] = 1.0
    return X, T


def initial_weights(w: Workload) -> tuple[list[Array], list[Array]]:
    """Xavier-uniform W[k] (rows = source node), zero biases; k = 0..layers-1 here."""
    if w.name == "reference":
        W = [np.array(v, w.dtype) for v in ([[2.0]], [[0.75, 0.25]], [[0.25], [0.5]])]
        return W, [np.zeros(u, w.dtype) for u in w.units[1:]]
    W, b = [], []
    for k in range(1, w.layers + 1):
        fan_in, fan_out = w.units[k - 1], w.units[k]
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        draw = np.random.default_rng([SEED, 1, k]).uniform(-limit, limit, (fan_in, fan_out))
        W.append(draw.astype(w.dtype))
        b.append(np.zeros(fan_out, w.dtype))
    return W, b


def shuffler() -> np.random.Generator:
    return np.random.default_rng([SEED, 2])
