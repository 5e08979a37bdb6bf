"""The network: weights, the forward pass and the delta recursion (SPEC §1).

Shapes are batch-first. With ``n`` samples and ``units[k]`` nodes in layer ``k``
(``units[0]`` = inputs):

- ``X``, ``A[0]``: ``(n, units[0])``; ``H[k]``, ``A[k]``, ``delta[k]``: ``(n, units[k])``;
- ``W[k]``: ``(units[k-1], units[k])`` holds ``w_ij(k-1, k)`` at ``[i-1, j-1]``
  (rows = source node ``i``, columns = destination node ``j``);
- ``b[k]``: ``(units[k],)`` holds the bias weights ``w_0j(k-1, k)`` (node ``i = 0``,
  ``O_0 = 1``), present only for layers with a bias.

Layers are keyed ``k = 1..K`` exactly as in the derivation, so ``W[k]`` is the
matrix *into* layer ``k`` and the code reads like the equations.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.engine.activations import Activation, ones
from backprop_core.engine.losses import LOSSES, LossRecord
from backprop_core.engine.naming import WeightId

Array = NDArray[np.floating[Any]]


@dataclass(frozen=True)
class Layer:
    units: int
    activation: Activation
    bias: bool = True


@dataclass(slots=True)  # one per update: slots make it cheaper to build
class Trace:
    """What the forward pass computed: ``H[k]`` for k = 1..K, ``A[k]`` for k = 0..K."""

    H: dict[int, Array]
    A: dict[int, Array]

    @property
    def Y(self) -> Array:
        return self.A[len(self.A) - 1]  # A holds k = 0..K


@dataclass(slots=True)  # (as Trace)
class Gradients:
    """``dL/dW[k]`` and ``dL/db[k]`` averaged over the batch; ``delta[k]`` per sample."""

    dL_dW: dict[int, Array]
    dL_db: dict[int, Array]
    delta: dict[int, Array]

    def items(self) -> Iterator[tuple[tuple[str, int], Array]]:
        for k, g in self.dL_dW.items():
            yield ("W", k), g
        for k, g in self.dL_db.items():
            yield ("b", k), g

    def of(self, w: WeightId) -> float:
        """dL/dw of one weight."""
        return float((self.dL_db if w.is_bias else self.dL_dW)[w.k][w.index])

    def norm(self) -> float:
        return float(np.sqrt(sum(float(np.vdot(g, g)) for _, g in self.items())))


@dataclass
class Workspace:
    """The arrays one update writes, for one batch size, kept from update to update.

    A wide layer's ``H``, ``A``, ``delta`` and ``dL/dW`` are megabytes each; made
    afresh every update, they are handed back to the operating system and faulted
    in again every step (more system time than arithmetic at 2048 units). The
    engine writes into these instead (``out=``): the same operations on the same
    values, so the same bits. The output layer's delta is made afresh (it is
    ``units[K]`` wide). A trace and gradients computed into a workspace hold its
    arrays: they are overwritten by the next update that uses it.

    ``gradient``: when the workspace is made with an `order` of the weight arrays,
    every ``dL/dW[k]`` and ``dL/db[k]`` is a view into this one buffer, laid out as
    `Network.pack` lays out the weights, so an update of every weight is one
    operation on two buffers rather than one per array.
    """

    H: dict[int, Array]
    A: dict[int, Array]
    delta: dict[int, Array]  # delta(k) for k < K
    delta_mean: dict[int, Array]  # delta(k) / n
    dL_dW: dict[int, Array]
    dL_db: dict[int, Array]
    gradient: Array | None = None

    @classmethod
    def of(
        cls,
        net: Network,
        n: int,
        order: Sequence[tuple[str, int]] | None = None,
        *,
        rows: bool = True,
    ) -> Workspace:
        """Buffers for batches of `n` samples (X and T in the network's dtype).

        `order`: the gradients as views of one buffer in that order of
        ``("W", k)``/``("b", k)`` keys. `rows`: also the per-sample arrays (H, A,
        delta); without them those are made afresh each update.
        """
        dtype = net.dtype

        def per_sample(ks: range) -> dict[int, Array]:
            return {k: np.empty((n, net.units[k]), dtype) for k in ks} if rows else {}

        K = net.K
        gradient = None
        if order is None:
            dL_dW = {k: np.empty_like(w, dtype=dtype) for k, w in net.W.items()}
            dL_db = {k: np.empty_like(b, dtype=dtype) for k, b in net.b.items()}
        else:
            gradient, views = _flat_views(net, order)
            dL_dW = {k: a for (kind, k), a in views.items() if kind == "W"}
            dL_db = {k: a for (kind, k), a in views.items() if kind == "b"}
        return cls(
            H=per_sample(range(1, K + 1)),
            A=per_sample(range(1, K + 1)),
            delta=per_sample(range(1, K)),
            delta_mean=per_sample(range(1, K + 1)),
            dL_dW=dL_dW,
            dL_db=dL_db,
            gradient=gradient,
        )

    @staticmethod
    def largest(net: Network, n: int) -> int:
        """The size in bytes of the largest array a workspace for `n` samples holds."""
        sizes = [n * u for u in net.units[1:]] + [w.size for w in net.W.values()]
        return max(sizes, default=0) * net.dtype.itemsize


def _flat_views(
    net: Network, order: Sequence[tuple[str, int]]
) -> tuple[Array, dict[tuple[str, int], Array]]:
    """One buffer the size of the weight arrays in `order`, and a view of it per array."""
    arrays = dict(net.parameters())
    flat = np.empty(sum(arrays[key].size for key in order), net.dtype)
    views, at = {}, 0
    for key in order:
        shape = arrays[key].shape
        size = arrays[key].size
        views[key] = flat[at : at + size].reshape(shape)
        at += size
    return flat, views


# No workspace: every `out=` below is None, so every array is made afresh.
FRESH = Workspace({}, {}, {}, {}, {}, {})


@dataclass
class Network:
    inputs: int
    layers: tuple[Layer, ...]
    loss: str
    W: dict[int, Array]
    b: dict[int, Array] = field(default_factory=dict)

    @cached_property
    def K(self) -> int:
        return len(self.layers)  # layers is a tuple: fixed for the network's life

    @property
    def units(self) -> tuple[int, ...]:
        """Node counts per layer, ``units[0]`` being the inputs."""
        return (self.inputs, *(layer.units for layer in self.layers))

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.W[1].dtype

    def layer(self, k: int) -> Layer:
        """Layer ``k`` (1..K)."""
        return self.layers[k - 1]

    def parameters(self) -> Iterator[tuple[tuple[str, int], Array]]:
        """Every weight array keyed ``("W", k)`` or ``("b", k)``, W first."""
        for k in range(1, self.K + 1):
            yield ("W", k), self.W[k]
        for k in sorted(self.b):
            yield ("b", k), self.b[k]

    def locate(self, w: WeightId) -> tuple[Array, tuple[int, ...]]:
        """The array holding weight `w` and its index there (writable: ``a[i] = v``)."""
        return (self.b if w.is_bias else self.W)[w.k], w.index

    def weight(self, w: WeightId) -> float:
        """The value of one weight."""
        array, index = self.locate(w)
        return float(array[index])

    def parameter_count(self) -> int:
        return sum(p.size for _, p in self.parameters())

    def copy(self) -> Network:
        return Network(
            self.inputs,
            self.layers,
            self.loss,
            {k: w.copy() for k, w in self.W.items()},
            {k: b.copy() for k, b in self.b.items()},
        )

    def pack(self, order: Sequence[tuple[str, int]]) -> Array:
        """Move every weight array into one buffer, in `order`, and return the buffer.

        The values are copied unchanged; ``W[k]`` and ``b[k]`` become views of it,
        so a step over every trained weight is one operation on the buffer (see
        `Workspace.gradient`). `order` must name every array once.
        """
        flat, views = _flat_views(self, order)
        for (kind, k), view in views.items():
            arrays = self.W if kind == "W" else self.b
            view[...] = arrays[k]
            arrays[k] = view
        return flat

    def forward(self, X: Array, ws: Workspace = FRESH) -> Trace:
        """H_j(k) = sum_i O_i(k-1) w_ij(k-1, k);  A_j(k) = phi_k(H_j(k))."""
        H: dict[int, Array] = {}
        A: dict[int, Array] = {0: X}
        for k, phi in enumerate(self._phi, start=1):
            H[k] = np.dot(A[k - 1], self.W[k], out=ws.H.get(k))
            if k in self.b:
                H[k] += self.b[k]
            A[k] = phi(H[k], out=ws.A.get(k))
        return Trace(H, A)

    @cached_property
    def _phi(self) -> tuple[Callable[..., Array], ...]:
        """phi_k (written into a buffer) per layer, k = 1..K: looked up once, not per update."""
        return tuple(layer.activation.phi_into for layer in self.layers)

    @cached_property
    def _phi_prime(self) -> tuple[Callable[[Array, Array], Array | float], ...]:
        """phi_k'(H, A) per layer, k = 1..K, in the activation's cheapest form."""
        return tuple(layer.activation.derivative for layer in self.layers)

    def predict(self, X: Array) -> Array:
        return self.forward(X).Y

    @cached_property
    def loss_record(self) -> LossRecord:
        return LOSSES[self.loss]  # loss and layers are fixed for the network's life

    @cached_property
    def canonical_output(self) -> bool:
        """Is the output activation the one the loss pairs with (softmax + cross_entropy)?"""
        return self.loss_record.output == self.layers[-1].activation.name

    def loss_of(self, trace: Trace, T: Array) -> float:
        """The loss of a forward pass; from H(K) on the canonical output pairs (losses.py).

        The one loss every command reads (train, grads, gradcheck, explain).
        """
        K, record = self.K, self.loss_record
        Y = trace.A[K]
        # From Y where that is as exact (cheaper: softmax's exp is not redone).
        if (
            record.from_H is not None
            and self.canonical_output
            and not (record.exact_from_Y is not None and record.exact_from_Y(Y))
        ):
            return record.from_H(trace.H[K], T)
        return record.loss(Y, T)

    def output_delta(self, trace: Trace, T: Array) -> Array:
        """delta(K) = phi_K'(H(K)) * dL/dY, per sample."""
        K = self.K
        Y = trace.A[K]
        record = self.loss_record
        if record.output_delta is not None and self.canonical_output:
            # Softmax + cross-entropy and sigmoid + bce: the product collapses to
            # (Y - T) / scale exactly. Covered by the finite-difference tests.
            return record.output_delta(Y, T)
        return self._phi_prime[K - 1](trace.H[K], Y) * record.dL_dY(Y, T)

    def backward(
        self,
        trace: Trace,
        T: Array,
        skip: Collection[tuple[str, int]] = (),
        ws: Workspace = FRESH,
    ) -> Gradients:
        """The delta recursion, from the output layer back to layer 1.

        delta_i(k) = phi_k'(H_i(k)) * sum_j w_ij(k, k+1) delta_j(k+1)
        dL/dw_ij(k-1, k) = mean over the batch of delta_j(k) * O_i(k-1)

        The mean's 1/n is applied to delta (n rows) rather than to dL/dW (often
        many more rows), and the bias column is the product with the bias node's
        outputs O_0 = 1, a BLAS call faster than a reduction. Products are `np.dot`:
        the same BLAS call as `@` (the same bits), at half the overhead on small
        arrays. Arrays keyed in
        `skip` (``("W", k)``, ``("b", k)``: wholly frozen ones) get no gradient.
        """
        n = float(T.shape[0])  # exact; numpy divides by a float sooner than by an int
        H, A = trace.H, trace.A
        delta: dict[int, Array] = {}
        dL_dW: dict[int, Array] = {}
        dL_db: dict[int, Array] = {}
        delta[self.K] = self.output_delta(trace, T)
        for k in range(self.K, 0, -1):
            wanted_W = ("W", k) not in skip
            wanted_b = k in self.b and ("b", k) not in skip
            if wanted_W or wanted_b:
                delta_mean = np.divide(delta[k], n, out=ws.delta_mean.get(k))
                if wanted_W:
                    dL_dW[k] = np.dot(A[k - 1].T, delta_mean, out=ws.dL_dW.get(k))
                if wanted_b:
                    dL_db[k] = np.dot(ones(T.shape[0], self.dtype), delta_mean, out=ws.dL_db.get(k))
            if k > 1:
                phi_prime = self._phi_prime[k - 2](H[k - 1], A[k - 1])
                back = np.dot(delta[k], self.W[k].T, out=ws.delta.get(k - 1))
                delta[k - 1] = np.multiply(phi_prime, back, out=back)
        return Gradients(dL_dW, dL_db, delta)

    def loss_and_gradients(
        self,
        X: Array,
        T: Array,
        skip: Collection[tuple[str, int]] = (),
        ws: Workspace = FRESH,
    ) -> tuple[float, Gradients, Trace]:
        trace = self.forward(X, ws)
        loss = self.loss_of(trace, T)
        grads = self.backward(trace, T, skip, ws)
        return loss, grads, trace
