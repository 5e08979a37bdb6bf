"""What every section of the derivation reads: the engine's numbers for one weight.

`Context.read` runs the engine once on the explained rows (forward trace,
backward gradients, loss, the weight's ``dL/dw``); the section modules only
write those numbers down, through the helpers here: `Context.step` makes a
per-sample quantity one `Step`, `Context.dphi` is ``phi'(H)`` of one node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.engine.network import Gradients, Network, Trace
from backprop_core.explain.expr import Expr, Weight
from backprop_core.explain.notation import Notation, notation_for
from backprop_core.explain.steps import MAX_NODES, Array, Step


@dataclass(frozen=True)
class Context:
    net: Network
    names: WeightNames
    X: Array
    T: Array
    w: WeightId
    eta: float
    frozen: bool
    optimizer: str
    sample: int | None
    nt: Notation
    trace: Trace
    grads: Gradients
    loss: float
    grad: float  # the engine's dL/dw
    # The engine's canonical-link shortcut (softmax + cross_entropy, sigmoid + bce):
    # then the chain starts at dL/dY_in, and the output layer has no phi' factor.
    shortcut: bool

    @classmethod
    def read(
        cls,
        net: Network,
        names: WeightNames,
        X: Array,
        T: Array,
        w: WeightId,
        eta: float,
        frozen: bool,
        optimizer: str,
        sample: int | None,
        standard: bool = False,
    ) -> Context:
        trace = net.forward(X)
        grads = net.backward(trace, T)
        return cls(
            net,
            names,
            X,
            T,
            w,
            eta,
            frozen,
            optimizer,
            sample,
            nt=notation_for(net, standard),
            trace=trace,
            grads=grads,
            loss=net.loss_of(trace, T),
            grad=grads.of(w),
            shortcut=net.canonical_output,
        )

    @property
    def n(self) -> int:
        """Rows explained."""
        return self.X.shape[0]

    @property
    def w_alias(self) -> str:
        """The explained weight's name, as the derivation writes it (``xh1``)."""
        return self.names.alias(self.w)

    @property
    def w_expr(self) -> Weight:
        """The explained weight as an expression leaf."""
        return self.nt.weight(self.names, self.w)

    def step(
        self,
        symbol: Expr,
        formula: Expr | None,
        numbers: Expr | None,
        per_sample: Array,
        explains: Expr | None = None,
    ) -> Step:
        """A per-sample quantity: numbers only for one sample; the mean plus samples for a batch."""
        values = tuple(float(v) for v in np.asarray(per_sample).reshape(-1))
        if self.n == 1:
            return Step(symbol, formula, numbers, values[0], explains=explains)
        if len(set(values)) == 1:
            # The same for every sample (a weight past the shortcut): one value, not a list.
            return Step(symbol, formula, None, values[0], explains=explains)
        return Step(symbol, formula, None, float(np.mean(values)), values, explains)

    def alias(self, k: int, i: int, j: int) -> Weight:
        return self.nt.weight(self.names, WeightId(k, i, j))

    def weight(self, k: int, i: int, j: int) -> float:
        return self.net.weight(WeightId(k, i, j))

    def out_values(self, trace: Trace, k: int, i: int) -> Array:
        return np.ones(self.n) if i == 0 else trace.A[k][:, i - 1]

    def dphi(self, k: int, j: int) -> Array:
        """``phi'(H)`` of node j of layer k, per sample."""
        return self.net.layer(k).activation.phi_prime(self.trace.H[k][:, j - 1])

    def shown_nodes(self, k: int, must: Sequence[int] = ()) -> tuple[list[int], int]:
        """The nodes of layer k listed (the first MAX_NODES, plus `must`), and how many are not."""
        count = self.net.units[k]
        nodes = list(range(1, min(count, MAX_NODES) + 1))
        nodes += [j for j in must if j not in nodes]
        return sorted(nodes), count - len(nodes)
