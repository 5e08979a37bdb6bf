"""How each quantity of a derivation follows from earlier ones, built from the network.

The compute functions are written from the network's structure (the engine's
weights, activations and loss record), never by evaluating a formula's text,
so they do not depend on how a formula is rendered: ``H = sum_i O_i * w_ij``,
``A = phi(H)``, ``dL/dy`` from the loss, each chain factor ``phi'(H) * w``, a
path as the product of its factors, ``delta_j(k) = phi'(H) * sum_c w * delta_c``,
``dL/dw = delta_j(k) * O_i``, ``w_new = w - eta * dL/dw`` and the forward pass
after it. Each reads its inputs through an `Env` (quantities.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import numpy as np

from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.engine.network import Network
from backprop_core.explain.derivation import Explanation
from backprop_core.explain.notation import TextNotation, notation_for
from backprop_core.explain.steps import Step
from backprop_core.grading.quantities import (
    ETA_TWICE,
    FACTOR2,
    NO_ETA,
    PER_SAMPLE,
    PHI,
    SIGN,
    SUM,
    UPDATE_SIGN,
    UPDATED,
    Array,
    Compute,
    Env,
    Quantity,
    after_name,
    path_name,
)

# Sections of `explain` a sheet asks, in order; the paths' sum is asked after the deltas.
ASKED = ("forward", "output", "chain", "paths", "deltas", "update", "after")
# Losses that are functions of Y - T (so is dL/dy), as their formulas are written.
ERROR_LOSSES = ("sse", "mse")


def _values(step: Step) -> Array:
    return np.asarray(step.samples if step.samples is not None else step.value, np.float64)


class Structure:
    """The network's quantities as functions of each other, named as `explain` names them."""

    def __init__(self, net: Network, names: WeightNames, X: Array, T: Array, eta: float) -> None:
        self.net, self.names, self.X, self.T, self.eta = net, names, X, T, eta
        self.nt = TextNotation(notation_for(net))
        self.K = net.K
        self.n = X.shape[0]
        self.shortcut = net.canonical_output
        trace = net.forward(X)
        self.trace, self.grads = trace, net.backward(trace, T)
        self.given_names = {name for name, _ in self.givens()}
        self.primes_on_page: set[str] = set()  # the phi'(H) that explain shows (not constants)

    # --- givens and true values -----------------------------------------------------

    def all_weights(self) -> Iterable[WeightId]:
        return self.names.all_ids()

    def weight_value(self, w: WeightId) -> float:
        return self.net.weight(w)

    def givens(self) -> list[tuple[str, Array]]:
        nt = self.nt
        out = [(nt.out(0, i), self.X[:, i - 1]) for i in range(1, self.net.units[0] + 1)]
        out += [(nt.T(j), self.T[:, j - 1]) for j in range(1, self.net.units[self.K] + 1)]
        out += [(self.names.alias(w), np.asarray(self.weight_value(w))) for w in self.all_weights()]
        return out

    def truth(self) -> dict[str, Array]:
        """The engine's values of every node, delta and updated weight, by name."""
        nt, net, tr, K = self.nt, self.net, self.trace, self.K
        truth: dict[str, Array] = dict(self.givens())
        for k in range(1, K + 1):
            for j in range(1, net.units[k] + 1):
                truth[nt.H(k, j)] = tr.H[k][:, j - 1]
                truth[nt.out(k, j)] = tr.A[k][:, j - 1]
                truth[nt.delta(k, j)] = self.grads.delta[k][:, j - 1]
        heads = self._head_matrix(tr.A[K])
        for j in range(1, net.units[K] + 1):
            truth[f"{nt.out(K, j)} - {nt.T(j)}"] = tr.A[K][:, j - 1] - self.T[:, j - 1]
            truth[self.head_name(j)] = heads[:, j - 1]
        truth["L"] = np.asarray(net.loss_of(tr, self.T))
        for w in self.all_weights():
            new_value = self.weight_value(w) - self.eta * self.grads.of(w)
            truth[f"{self.names.alias(w)}_new"] = np.asarray(new_value)
        return truth

    def after_truth(self, x: Explanation, qualify: bool) -> dict[str, Array]:
        """The forward pass with `x`'s weight alone updated, every node of it."""
        net = self.net.copy()
        array, index = net.locate(x.weight)
        array[index] = x.new_value
        tr = net.forward(self.X)
        nt, out = self.nt, {}
        for k in range(x.weight.k, self.K + 1):
            for j in range(1, net.units[k] + 1):
                out[after_name(nt.H(k, j), x.alias, qualify)] = tr.H[k][:, j - 1]
                out[after_name(nt.out(k, j), x.alias, qualify)] = tr.A[k][:, j - 1]
        return out

    def head_name(self, j: int) -> str:
        nt = self.nt
        return f"dL/d{nt.H(self.K, j)}" if self.shortcut else f"dL/d{nt.d(self.K, j)}"

    def _head_matrix(self, Y: Array) -> Array:
        record = self.net.loss_record
        if self.shortcut:
            assert record.output_delta is not None
            return record.output_delta(Y, self.T)
        return record.dL_dY(Y, self.T)

    # --- the quantities of one explanation ----------------------------------------------

    def quantities(self, x: Explanation, qualify: bool) -> list[Quantity]:
        """`x`'s steps a student computes, each with its compute function, in sheet order."""
        table = self.table(x, qualify)
        gradient = f"dL/d{x.alias}"
        out: list[Quantity] = []
        asked_gradient: Quantity | None = None
        for key in ASKED:
            for step in x.section(key).steps:
                name = self.sheet_name(x, key, step, qualify)
                if name is None:
                    continue
                compute, others, slips = table[(key, step.symbol)]
                formula = step.formula_text
                if key == "after":
                    formula = self._after_formula(x, formula, qualify)
                q = Quantity(
                    name,
                    formula,
                    step.numbers_text,
                    _values(step),
                    key,
                    x.alias,
                    compute,
                    others,
                    slips,
                )
                if name == gradient:
                    asked_gradient = q  # the delta form's step: the last one wins
                    continue
                out.append(q)
        assert asked_gradient is not None
        # The gradient, asked once: after the deltas (before the update).
        at = next(i for i, q in enumerate(out) if q.section in ("update", "after"))
        out.insert(at, asked_gradient)
        return out

    def sheet_name(self, x: Explanation, key: str, step: Step, qualify: bool) -> str | None:
        """The step's name on the sheet, or None for a given (inputs, targets)."""
        if step.symbol in self.given_names:
            return None
        if key == "paths" and step.symbol.startswith("path "):
            return path_name(int(step.symbol.split()[1]), x.alias, qualify)
        if key == "after":
            return after_name(step.symbol, x.alias, qualify)
        return step.symbol

    def table(
        self, x: Explanation, qualify: bool
    ) -> dict[
        tuple[str, str], tuple[Compute, tuple[Compute, ...], tuple[tuple[str, Compute], ...]]
    ]:
        """(section, explain's symbol) -> compute, other right ways, slips."""
        nt, net, K, w = self.nt, self.net, self.K, x.weight
        alias = x.alias
        table: dict[tuple[str, str], Any] = {}

        def put(
            key: str,
            symbol: str,
            compute: Compute,
            others: tuple[Compute, ...] = (),
            slips: tuple[Any, ...] = (),
        ) -> None:
            table[(key, symbol)] = (compute, others, slips)

        for k in range(1, K + 1):
            for j in range(1, net.units[k] + 1):
                put("forward", nt.H(k, j), self._H(k, j, None))
                put("forward", nt.out(k, j), self._A(k, j, None))
        # Where the loss (and dL/dy) are functions of Y - T, a student works them out
        # from their own Y - T: that is a second right way to them.
        of_error = net.loss in ERROR_LOSSES
        for j in range(1, net.units[K] + 1):
            put("forward", self._error_name(j), self._error(j, None))
            head_others = (self._head(j, from_error=True),) if of_error or self.shortcut else ()
            put("output", self.head_name(j), self._head(j), head_others)
        loss_others = (self._loss(None, from_error=True),) if of_error else ()
        put("forward", "L", self._loss(None), loss_others)
        for q in range(w.k, K + 1):
            for b in range(1, net.units[q] + 1):
                # phi'(H) as explain computes it on the page, before the factors.
                put("chain", self._prime_name(q, b), partial(self._dphi, q=q, b=b))
        self.primes_on_page |= {step.symbol for step in x.section("chain").steps}
        for q in range(w.k + 1, K + 1):
            for a in range(1, net.units[q - 1] + 1):
                for b in range(1, net.units[q] + 1):
                    put("chain", self._factor_name(q, a, b), self._factor(q, a, b))
        put("chain", self._tail_name(x), self._tail(w))
        products = [self._path(p.factors) for p in x.paths]
        for p_index, step in enumerate(
            s for s in x.section("paths").steps if s.symbol.startswith("path ")
        ):
            put("paths", step.symbol, products[p_index])
        for q in range(w.k, K + 1):
            for b in range(1, net.units[q] + 1):
                put("deltas", nt.delta(q, b), *self._delta(q, b))
        every_path = x.path_sum is not None and len(x.paths) == x.path_count
        others: tuple[Compute, ...] = ()
        slips: tuple[tuple[str, Compute], ...] = ()
        if every_path:
            listed = [s.symbol for s in x.section("paths").steps if s.symbol.startswith("path ")]
            path_names = [path_name(int(s.split()[1]), alias, qualify) for s in listed]
            others = (_sum_of(path_names),)
            if len(path_names) > 1:
                slips = tuple(
                    (
                        f"the sum leaves out {name} ({self._route(p.nodes, x)}): a missing path",
                        _sum_of([other for other in path_names if other != name]),
                    )
                    for name, p in zip(path_names, x.paths, strict=True)
                )
        put("deltas", f"dL/d{alias}", self._gradient(w), others, slips)
        put("paths", f"dL/d{alias}", self._gradient(w), others, slips)
        put("update", f"{alias}_new", self._update(w))
        after = (w, alias, qualify)
        for k in range(w.k, K + 1):
            for j in range(1, net.units[k] + 1):
                put("after", nt.H(k, j), self._H(k, j, after))
                put("after", nt.out(k, j), self._A(k, j, after))
        for j in range(1, net.units[K] + 1):
            put("after", self._error_name(j), self._error(j, after))
        put("after", "L_new", self._loss(after), (self._loss(after, True),) if of_error else ())
        L_new = after_name("L_new", alias, qualify)
        put("after", "L_new - L", lambda env: np.asarray(env.get(L_new)[0] - env.get("L")[0]))
        return table

    def _after_formula(self, x: Explanation, formula: str, qualify: bool) -> str:
        """`explain` writes the pass after the update with the plain names: add ``_new``."""
        w, nt = x.weight, self.nt
        renamed = {x.alias: f"{x.alias}_new"}
        for k in range(w.k, self.K + 1):
            for j in range(1, self.net.units[k] + 1):
                for name in (nt.H(k, j), nt.out(k, j)):
                    renamed[name] = after_name(name, x.alias, qualify)
        # Display only: the names are swapped token by token, nothing is evaluated.
        return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: renamed.get(m[0], m[0]), formula)

    def _route(self, nodes: tuple[int, ...], x: Explanation) -> str:
        w = x.weight
        source = "1" if w.is_bias else self.nt.out(w.k - 1, w.i)
        return " -> ".join([source, *(self.nt.out(w.k + d, node) for d, node in enumerate(nodes))])

    # --- names -------------------------------------------------------------------

    def _factor_name(self, q: int, a: int, b: int) -> str:
        nt = self.nt
        top = nt.H(q, b) if self.shortcut and q == self.K else nt.d(q, b)
        return f"d{top}/d{nt.out(q - 1, a)}"

    def _tail_name(self, x: Explanation) -> str:
        nt, w = self.nt, x.weight
        top = nt.H(w.k, w.j) if self.shortcut and w.k == self.K else nt.d(w.k, w.j)
        return f"d{top}/d{x.alias}"

    def _node(self, k: int, i: int, after: tuple[WeightId, str, bool] | None) -> str:
        name = self.nt.out(k, i)
        if after is not None and k >= after[0].k:
            return after_name(name, after[1], after[2])
        return name

    # --- how each quantity follows from earlier ones ---------------------------------

    def _weight(
        self, env: Env, k: int, i: int, j: int, after: tuple[WeightId, str, bool] | None = None
    ) -> Array:
        w = WeightId(k, i, j)
        alias = self.names.alias(w)
        if after is not None and after[0] == w:
            return env.get(f"{alias}_new")
        if env.mistake == UPDATED and after is None:
            return env.get(f"{alias}_new")
        return np.full(self.n, self.weight_value(w))

    def _out(
        self, env: Env, k: int, i: int, after: tuple[WeightId, str, bool] | None = None
    ) -> Array:
        if i == 0:
            return np.ones(self.n)
        return env.get(self._node(k, i, after))

    def _prime_name(self, q: int, b: int) -> str:
        return f"{self.nt.phi(q)}'({self.nt.H(q, b)})"

    def _phi_prime(self, env: Env, q: int, b: int) -> Array:
        """phi'(H) in a factor or a delta: the student's own value where the page asks it
        and they wrote it (a wrong one is then carried forward, not marked again); with
        ``prime_from_output``, worked again from their A (kept to more digits than written)."""
        name = self._prime_name(q, b)
        written = name in self.primes_on_page and name in env.written
        if written and not env.prime_from_output and env.mistake != PHI:
            return env.get(name)
        return self._dphi(env, q, b)

    def _dphi(self, env: Env, q: int, b: int) -> Array:
        act = self.net.layer(q).activation
        H = env.get(self.nt.H(q, b))
        if env.prime_from_output:
            A = env.get(self.nt.out(q, b))
            if env.mistake == PHI:
                return A
            return np.broadcast_to(act.derivative(H, A), (self.n,)).astype(np.float64)
        return act.phi(H) if env.mistake == PHI else act.phi_prime(H)

    def _H(self, k: int, j: int, after: tuple[WeightId, str, bool] | None) -> Compute:
        def compute(env: Env) -> Array:
            total = sum(
                (
                    self._out(env, k - 1, i, after) * self._weight(env, k, i, j, after)
                    for i in range(1, self.net.units[k - 1] + 1)
                ),
                np.zeros(self.n),
            )
            if k in self.net.b:
                total = total + self._weight(env, k, 0, j, after)
            return total

        return compute

    def _A(self, k: int, j: int, after: tuple[WeightId, str, bool] | None) -> Compute:
        act = self.net.layer(k).activation
        H_name = self._node_H(k, after)

        def compute(env: Env) -> Array:
            if act.elementwise:
                return np.asarray(act.phi(env.get(H_name(j))), np.float64)
            H = np.stack([env.get(H_name(c)) for c in range(1, self.net.units[k] + 1)], axis=1)
            return np.asarray(act.phi(H))[:, j - 1]

        return compute

    def _node_H(self, k: int, after: tuple[WeightId, str, bool] | None) -> Callable[[int], str]:
        def name(j: int) -> str:
            H = self.nt.H(k, j)
            return after_name(H, after[1], after[2]) if after is not None and k >= after[0].k else H

        return name

    def _Y(
        self, env: Env, after: tuple[WeightId, str, bool] | None, from_error: bool = False
    ) -> Array:
        """Y, or (``from_error``) Y as T plus the student's Y - T."""
        outputs = range(1, self.net.units[self.K] + 1)
        if from_error:
            errors = [env.get(self._error_name(j, after)) for j in outputs]
            return np.stack(errors, axis=1) + self.T
        return np.stack([self._out(env, self.K, j, after) for j in outputs], axis=1)

    def _error_name(self, j: int, after: tuple[WeightId, str, bool] | None = None) -> str:
        name = f"{self.nt.out(self.K, j)} - {self.nt.T(j)}"
        return after_name(name, after[1], after[2]) if after is not None else name

    def _error(self, j: int, after: tuple[WeightId, str, bool] | None) -> Compute:
        def compute(env: Env) -> Array:
            e = self._out(env, self.K, j, after) - self.T[:, j - 1]
            return -e if env.mistake == SIGN else e

        return compute

    def _loss(self, after: tuple[WeightId, str, bool] | None, from_error: bool = False) -> Compute:
        record, K = self.net.loss_record, self.K

        def compute(env: Env) -> Array:
            loss_of: Callable[[slice], float]
            from_H = record.from_H
            if self.shortcut and from_H is not None and not from_error:
                # As the engine does on its canonical pairs: from Y_in (exact when Y rounds to 1).
                H_name = self._node_H(K, after)
                H = np.stack([env.get(H_name(j)) for j in range(1, self.net.units[K] + 1)], 1)
                loss_of = lambda rows: from_H(H[rows], self.T[rows])  # noqa: E731
            else:
                Y = self._Y(env, after, from_error)
                loss_of = lambda rows: record.loss(Y[rows], self.T[rows])  # noqa: E731
            per_sample = [loss_of(slice(i, i + 1)) for i in range(self.n)]
            return _over_batch(np.asarray(per_sample, np.float64), env.mistake)

        return compute

    def _head(self, j: int, from_error: bool = False) -> Compute:
        def compute(env: Env) -> Array:
            d = self._head_matrix(self._Y(env, None, from_error))[:, j - 1]
            if env.mistake == SIGN:
                d = -d
            if env.mistake == FACTOR2 and self.net.loss in ("sse", "mse"):
                d = d * 2.0 if self.net.loss == "sse" else d / 2.0
            return d

        return compute

    def _factor(self, q: int, a: int, b: int) -> Compute:
        def compute(env: Env) -> Array:
            wv = self._weight(env, q, a, b)
            return wv if self.shortcut and q == self.K else self._phi_prime(env, q, b) * wv

        return compute

    def _tail(self, w: WeightId) -> Compute:
        def compute(env: Env) -> Array:
            source = self._out(env, w.k - 1, w.i)
            if self.shortcut and w.k == self.K:
                return source
            return self._phi_prime(env, w.k, w.j) * source

        return compute

    def _path(self, factors: Sequence[Step]) -> Compute:
        symbols = [f.symbol for f in factors]

        def compute(env: Env) -> Array:
            product = np.prod([env.get(s) for s in symbols], axis=0)
            return _over_batch(product, env.mistake)

        return compute

    def _delta(
        self, q: int, b: int
    ) -> tuple[Compute, tuple[Compute, ...], tuple[tuple[str, Compute], ...]]:
        nt, net = self.nt, self.net
        if q == self.K:
            head = self.head_name(b)

            def output(env: Env) -> Array:
                d = env.get(head)
                return d if self.shortcut else self._phi_prime(env, q, b) * d

            return output, (), ()
        above = range(1, net.units[q + 1] + 1)

        def hidden(env: Env, skip: int = 0) -> Array:
            total = sum(
                (
                    self._weight(env, q + 1, b, c) * env.get(nt.delta(q + 1, c))
                    for c in above
                    if c != skip
                ),
                np.zeros(self.n),
            )
            return self._phi_prime(env, q, b) * total

        slips: tuple[tuple[str, Compute], ...] = ()
        if len(above) > 1:
            slips = tuple(
                (
                    f"the sum leaves out {self.names.alias(WeightId(q + 1, b, c))} * "
                    f"{nt.delta(q + 1, c)}: a missing path",
                    lambda env, c=c: hidden(env, c),
                )
                for c in above
            )
        return hidden, (), slips

    def _gradient(self, w: WeightId) -> Compute:
        delta = self.nt.delta(w.k, w.j)

        def compute(env: Env) -> Array:
            per_sample = env.get(delta) * self._out(env, w.k - 1, w.i)
            return _over_batch(per_sample, env.mistake)

        return compute

    def _update(self, w: WeightId) -> Compute:
        value, eta, gradient = self.weight_value(w), self.eta, f"dL/d{self.names.alias(w)}"

        def compute(env: Env) -> Array:
            g = env.get(gradient)[0]
            step = {NO_ETA: g, ETA_TWICE: eta * eta * g, UPDATE_SIGN: -eta * g}.get(
                env.mistake, eta * g
            )
            return np.asarray(value - step)

        return compute


def _sum_of(names: Sequence[str]) -> Compute:
    def compute(env: Env) -> Array:
        return np.asarray(sum(float(env.get(name)[0]) for name in names))

    return compute


def _over_batch(per_sample: Array, mistake: str) -> Array:
    """The mean over the samples (losses, paths and gradients), or a mistake about it."""
    if mistake == SUM:
        return np.asarray(per_sample.sum())
    if mistake == PER_SAMPLE:
        return per_sample
    return np.asarray(per_sample.mean())
