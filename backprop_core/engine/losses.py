"""Losses: one `LossRecord` per loss, everything bp knows about it.

``loss(Y, T)`` is the per-sample loss averaged over the batch (a scalar);
``dL_dY(Y, T)`` is the per-sample derivative ``dL/dY`` with shape ``(n, outputs)``,
*not* divided by ``n``: the engine averages gradients over the batch once, in
``dL/dW = A.T @ delta / n``. A record also says how `explain` writes the loss,
which output activation it pairs with, and how a classifier's targets encode
classes. Adding a loss is one `register(LossRecord(...))` here (plus its tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]

# How a classifier's targets encode its classes (LossRecord.targets):
ONE_HOT = "one_hot"  # one output per class, the prediction is the argmax
BINARY = "binary"  # each output the probability of class 1, the prediction is >= 0.5

# A bad target: (row, column or None for the whole row, message).
TargetProblem = tuple[int, int | None, str]


@dataclass(frozen=True)
class LossRecord:
    """One loss, every fact about it in one place (later work adds fields here)."""

    name: str
    # L(Y, T): the per-sample loss averaged over the batch.
    loss: Callable[[Array, Array], float]
    # dL/dY per sample, shape (n, outputs), not divided by n.
    dL_dY: Callable[[Array, Array], Array]
    # L for one sample as `explain` writes it in general (any number of outputs).
    formula: str
    # dL/dy of one output written out: (y, t, outputs) -> text, y and t being
    # names or numbers; `explain` calls it once with each.
    write_derivative: Callable[[str, str, int], str]
    # L written out over the listed outputs [(y, t), ...], names or numbers;
    # None: `explain` shows `formula`.
    write_terms: Callable[[list[tuple[str, str]]], str] | None = None
    # The canonical output pairing: the output activation this loss requires,
    # the loss from the output pre-activation H(K) on it (exact where Y has
    # rounded to 0 or 1), and the output delta dL/dH(K) = (Y - T) / scale it
    # simplifies to there (no division by Y * (1 - Y) when a sigmoid saturates).
    output: str | None = None
    from_H: Callable[[Array, Array], float] | None = None
    # exact_from_Y(Y): is `loss(Y, T)` as exact as `from_H` for these outputs (none
    # clamped away from 0 or 1)? Then the engine takes the cheaper of the two.
    # None: always `from_H` on the canonical pairing.
    exact_from_Y: Callable[[Array], bool] | None = None
    output_delta: Callable[[Array, Array], Array] | None = None
    # Classifiers: how targets encode classes (ONE_HOT, BINARY); None: regression.
    targets: str | None = None
    # The first target the loss cannot train on, or None.
    check_targets: Callable[[Array], TargetProblem | None] | None = None
    # The loss of a batch summed over its rows as a PyTorch expression of H(K),
    # Y and T (`bp export`; text only), from H on the canonical output pairing.
    torch_sum: str = ""

    @property
    def classifier(self) -> bool:
        return self.targets is not None

    def classes(self, outputs: int) -> int | None:
        """How many classes `outputs` outputs predict under this loss (None: not classes)."""
        if self.targets == ONE_HOT and outputs > 1:
            return outputs
        if self.targets == BINARY and outputs == 1:
            return 2
        return None


LOSSES: dict[str, LossRecord] = {}


def register(record: LossRecord) -> LossRecord:
    """Add a loss; the config model reads the records when it is imported."""
    LOSSES[record.name] = record
    return record


# log() of a probability is taken no lower than log(TINY), so a confidently
# wrong prediction costs a large finite loss rather than inf.
TINY = 1e-300


def _floor(Y: Array) -> float:
    """TINY, or the smallest normal number of Y's dtype where TINY is not one (float32)."""
    floor = _FLOORS.get(Y.dtype)
    if floor is None:  # once per dtype: finfo costs more than a small loss's arithmetic
        floor = _FLOORS[Y.dtype] = max(TINY, float(np.finfo(Y.dtype).tiny))
    return floor


_FLOORS: dict[np.dtype[Any], float] = {}


def _ceiling(Y: Array) -> float:
    """The largest number below 1 in Y's dtype: log(1 - Y) stays finite."""
    return 1.0 - float(np.finfo(Y.dtype).epsneg)


def _per(outputs: int) -> str:
    return "" if outputs == 1 else f" / {outputs}"


def first_cell(mask: NDArray[np.bool_]) -> tuple[int, int] | None:
    """(row, column) of the first True in a 2-D mask, in row order; None if there is none."""
    cells = np.argwhere(mask)
    return (int(cells[0][0]), int(cells[0][1])) if len(cells) else None


def sse(Y: Array, T: Array) -> float:
    E = Y - T
    np.multiply(E, E, out=E)  # squared in place: one array per call, not two
    return float(0.5 * np.add.reduce(E, axis=None) / Y.shape[0])


def sse_prime(Y: Array, T: Array) -> Array:
    return Y - T


def _sse_terms(pairs: list[tuple[str, str]]) -> str:
    if len(pairs) == 1:
        return f"1/2 * ({pairs[0][0]} - {pairs[0][1]})^2"
    return "1/2 * [" + " + ".join(f"({y} - {t})^2" for y, t in pairs) + "]"


register(
    LossRecord(
        "sse",
        sse,
        sse_prime,
        formula="1/2 * sum_j (Y_j - T_j)^2",
        write_derivative=lambda y, t, m: f"{y} - {t}",
        write_terms=_sse_terms,
        torch_sum="0.5 * ((Y - T) ** 2).sum()",
    )
)


def mse(Y: Array, T: Array) -> float:
    return float(np.mean((Y - T) ** 2))


def mse_prime(Y: Array, T: Array) -> Array:
    return 2.0 * (Y - T) / Y.shape[1]


register(
    LossRecord(
        "mse",
        mse,
        mse_prime,
        formula="mean_j (Y_j - T_j)^2",
        write_derivative=lambda y, t, m: f"2 * ({y} - {t}){_per(m)}",
        torch_sum="((Y - T) ** 2).sum() / T.shape[1]",
    )
)


def cross_entropy(Y: Array, T: Array) -> float:
    # -sum(T * log(max(Y, floor))) / n, in one temporary: the engine calls it per update
    L = np.maximum(Y, _floor(Y))
    np.log(L, out=L)
    L *= T
    return float(-np.add.reduce(L, axis=None) / Y.shape[0])


def cross_entropy_prime(Y: Array, T: Array) -> Array:
    return -T / np.maximum(Y, _floor(Y))


def cross_entropy_from_H(H: Array, T: Array) -> float:
    """cross_entropy of softmax(H): sum_j T_j * (logsumexp(H) - H_j), from H itself."""
    m = H.max(axis=1, keepdims=True)
    E = H - m
    np.exp(E, out=E)  # in place, and methods rather than np.sum: called every update
    lse = m + np.log(E.sum(axis=1, keepdims=True))
    D = np.subtract(lse, H, out=E)
    D *= T
    return float(D.sum() / H.shape[0])


def _distributions(T: Array) -> TargetProblem | None:
    """cross_entropy targets: each row a distribution (the output delta Y - T needs it)."""
    negative = first_cell(T < 0)
    if negative is not None:
        r, c = negative
        return r, c, f"cross_entropy targets must not be negative, got {T[r, c]:g}"
    sums = T.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
    if len(off):
        r = int(off[0])
        return r, None, f"cross_entropy targets must sum to 1 in each row, got {sums[r]:g}"
    return None


register(
    LossRecord(
        "cross_entropy",
        cross_entropy,
        cross_entropy_prime,
        formula="-sum_j T_j * log(Y_j)",
        write_derivative=lambda y, t, m: f"-{t} / {y}",
        output="softmax",
        from_H=cross_entropy_from_H,
        # log(Y) is exact unless some Y underflowed to the floor: -log(Y_j) is
        # logsumexp(H) - H_j to rounding, without redoing softmax's exp.
        exact_from_Y=lambda Y: bool(np.minimum.reduce(Y, axis=None) > _floor(Y)),
        output_delta=lambda Y, T: Y - T,
        targets=ONE_HOT,
        check_targets=_distributions,
        torch_sum="(T * (torch.logsumexp(H, dim=1, keepdim=True) - H)).sum()",
    )
)


def bce(Y: Array, T: Array) -> float:
    Yc = np.clip(Y, _floor(Y), _ceiling(Y))
    return float(-np.mean(T * np.log(Yc) + (1.0 - T) * np.log1p(-Yc)))


def bce_prime(Y: Array, T: Array) -> Array:
    Yc = np.clip(Y, _floor(Y), _ceiling(Y))
    return (Yc - T) / (Yc * (1.0 - Yc)) / Y.shape[1]


def bce_from_H(H: Array, T: Array) -> float:
    """bce of sigmoid(H): softplus(H) - T * H, from H itself."""
    return float(np.mean(np.logaddexp(0.0, H) - T * H))


def _probabilities(T: Array) -> TargetProblem | None:
    """bce targets: probabilities (the output delta Y - T needs them)."""
    outside = first_cell((T < 0) | (T > 1))
    if outside is None:
        return None
    r, c = outside
    return r, c, f"bce targets must lie in [0, 1], got {T[r, c]:g}"


register(
    LossRecord(
        "bce",
        bce,
        bce_prime,
        formula="-mean_j [T_j * log(Y_j) + (1 - T_j) * log(1 - Y_j)]",
        write_derivative=lambda y, t, m: f"({y} - {t}) / ({y} * (1 - {y})){_per(m)}",
        output="sigmoid",
        from_H=bce_from_H,
        output_delta=lambda Y, T: (Y - T) / Y.shape[1],
        targets=BINARY,
        check_targets=_probabilities,
        torch_sum="(torch.logaddexp(torch.zeros_like(H), H) - T * H).sum() / T.shape[1]",
    )
)
