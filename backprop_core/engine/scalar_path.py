"""The scalar path: one epoch of a small network as straight-line float arithmetic.

For a network of a few dozen weights NumPy's per-call overhead (a microsecond or
so per ufunc, several per layer) dwarfs the arithmetic. This module writes the
vector engine's equations out weight by weight as Python source, compiles it once
and runs an epoch per call with every weight a local float:

    H_j(k) = sum_i O_i(k-1) w_ij(k-1, k);  A_j(k) = phi_k(H_j(k))
    delta_i(k) = phi_k'(H_i(k)) * sum_j w_ij(k, k+1) delta_j(k+1)
    dL/dw_ij(k-1, k) = sum over the batch of O_i(k-1) * (delta_j(k) / n)

Nothing here is a second copy of the maths: every activation, loss and update
rule is written from the `scalar_*` fields of its record (activations.py,
losses.py, optimizers.py), next to its vector form, and a network some part of
which has none stays on the vector engine (`unsupported` says why). The source
follows the engine's operation order (delta / n before the products, the bias
added after the matrix product, the loss from H on the canonical output pairs,
sums of a reduction in numpy's pairwise order), so results agree to the last bit
except where the vector engine's arithmetic is not IEEE's plain one: OpenBLAS
fuses multiply-adds in its matrix products (FMA: one rounding instead of two) and
numpy's SIMD exp/tanh differ from libm's by an ulp in a few per cent of
arguments. docs/performance.md states how often and by how much.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.engine.losses import BINARY, ONE_HOT
from backprop_core.engine.network import Gradients, Network
from backprop_core.engine.optimizers import OPTIMIZERS, Optimizer

Array = NDArray[np.floating[Any]]
Key = tuple[str, int]

# The largest network (weights, biases included) and batch written out: the
# source grows with weights * rows, and beyond these NumPy's calls pay for
# themselves anyway.
MAX_WEIGHTS = 64
MAX_BATCH = 64

# Where `training.engine: auto` takes the scalar path: an update costs it about
# 80 ns per weight per row against the vector engine's 20-30 µs of calls (equal
# near 450 weight-rows, measured), and compiling costs it about 50 µs per
# weight-row, repaid after some 3 updates per weight-row.
AUTO_WORK = 256
AUTO_UPDATES_PER_WORK = 4
# It holds the data as Python floats (some 30 bytes each against NumPy's 8): auto
# leaves larger data sets to the vector engine.
AUTO_VALUES = 200_000


def pays_off(net: Network, batch: int, updates: int, values: int) -> bool:
    """Is the scalar path worth taking for `updates` updates in batches of `batch`
    rows, on data of `values` numbers (inputs and targets)?"""
    work = net.parameter_count() * batch
    return work <= AUTO_WORK and updates >= AUTO_UPDATES_PER_WORK * work and values <= AUTO_VALUES


# The functions the records' scalar forms may call by their bare names.
NAMESPACE: dict[str, Any] = {
    "exp": math.exp,
    "log": math.log,
    "log1p": math.log1p,
    "tanh": math.tanh,
    "sqrt": math.sqrt,
}


def unsupported(
    net: Network, optimizer: str, batch: int, *, dtype: np.dtype[Any] | None = None
) -> str | None:
    """Why `net` trained by `optimizer` in batches of `batch` rows cannot take the
    scalar path (None: it can)."""
    if net.dtype != np.float64 or (dtype is not None and dtype != np.float64):
        return "it computes in float64 only (training.precision is float32)"
    count = net.parameter_count()
    if count > MAX_WEIGHTS:
        return f"the network has {count} weights, more than {MAX_WEIGHTS}"
    if batch > MAX_BATCH:
        return f"batches of {batch} rows are more than {MAX_BATCH}"
    for k, layer in enumerate(net.layers, 1):
        record = layer.activation.record
        if not (record.scalar_phi or record.scalar_row):
            return f"activation {record.name} has no scalar form"
        needs_prime = k < net.K or not _shortcut(net)
        if needs_prime and not record.scalar_prime:
            return f"activation {record.name} has no scalar derivative"
    loss = net.loss_record
    if _shortcut(net):
        if not (loss.scalar_H_term and loss.scalar_output_delta):
            return f"loss {loss.name} has no scalar form"
        if loss.exact_from_Y is not None and not (loss.scalar_term and loss.scalar_exact_from_Y):
            return f"loss {loss.name} has no scalar form"
    elif not (loss.scalar_term and loss.scalar_dL_dY):
        return f"loss {loss.name} has no scalar form"
    if not OPTIMIZERS[optimizer].scalar_step:
        return f"optimizer {optimizer} has no scalar form"
    return None


def _shortcut(net: Network) -> bool:
    """Does the engine take the loss from H and the output delta's shortcut (network.py)?"""
    record = net.loss_record
    return record.from_H is not None and record.output_delta is not None and net.canonical_output


def _num(value: float) -> str:
    return repr(float(value))  # round-trips exactly


def pairwise(terms: Sequence[str]) -> str:
    """The sum of `terms` in numpy's order for a reduction (pairwise_sum in numpy's
    loops: under 8 terms one by one, up to 128 in 8 running sums, else halves)."""
    n = len(terms)
    if n < 8:
        return "(" + " + ".join(terms) + ")"
    if n <= 128:
        r = list(terms[:8])
        i = 8
        while i < n - n % 8:
            r = [f"{r[j]} + {terms[i + j]}" for j in range(8)]
            i += 8
        r = [f"({x})" for x in r]
        left, right = (
            f"({r[0]} + {r[1]}) + ({r[2]} + {r[3]})",
            f"({r[4]} + {r[5]}) + ({r[6]} + {r[7]})",
        )
        head = f"(({left}) + ({right}))"
        return "(" + " + ".join([head, *terms[i:]]) + ")"
    half = n // 2
    half -= half % 8
    return f"({pairwise(terms[:half])} + {pairwise(terms[half:])})"


def matmul_sum(products: Sequence[str], vector: bool) -> str:
    """One entry of a matrix product as OpenBLAS adds it up, as nearly as plain
    arithmetic can: in order, except that a matrix-vector product of 4 to 7 terms
    adds them in 4 lanes first (measured bit for bit). Its matrix-matrix kernels
    fuse each multiply-add (one rounding, not two): that is where the last bit may
    differ."""
    n = len(products)
    if vector and 4 <= n < 8:
        lanes = f"(({products[0]} + {products[1]}) + ({products[2]} + {products[3]}))"
        return "(" + " + ".join([lanes, *products[4:]]) + ")"
    return "(" + " + ".join(products) + ")"


@dataclass(frozen=True)
class Weight:
    """One weight's local name and where it lives."""

    name: str
    key: Key
    index: tuple[int, ...]


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)


class ScalarPath:
    """An epoch of training `net` as one compiled function over floats.

    The state (every weight, then the optimizer's per-weight slots and counters)
    is a tuple: `state` reads it from the network and the optimizer objects,
    `write` puts it back, so the vector engine can take over at any epoch; each
    epoch also ends by storing its weights into the network's arrays. Arrays
    keyed in `still` (wholly frozen) get no gradient and no step, as in the
    Trainer; `masks[key]` (0 = frozen) multiplies a partly frozen array's gradient.
    """

    def __init__(
        self,
        net: Network,
        optimizer: str,
        eta: float,
        settings: Mapping[str, float],
        masks: Mapping[Key, Array | None],
        batch: int,
        rows: int,
        still: Iterable[Key] = (),
    ) -> None:
        self.net = net
        self.record = OPTIMIZERS[optimizer]
        self.batch, self.rows = batch, rows
        self.still = frozenset(still)
        self.masks = masks
        self.weights: list[Weight] = []
        for key, p in net.parameters():
            for index in np.ndindex(p.shape):
                self.weights.append(Weight(_weight_name(key, index), key, index))
        self.moving = [w for w in self.weights if w.key not in self.still]
        self.moving_keys = [key for key, _ in net.parameters() if key not in self.still]
        fields = {"eta": _num(eta), **{k: _num(settings[k]) for k in self.record.takes}}
        self.fields = fields
        self.views = self._views()
        self.source = self._source()
        namespace = {**NAMESPACE, **self.views}
        exec(compile(self.source, "<scalar path>", "exec"), namespace)
        self.epoch_function = namespace["epoch"]

    # -- the state -----------------------------------------------------------

    def state(self, optimizer: Optimizer) -> tuple[float | int, ...]:
        """Weights, slots and counters, read from the network and `optimizer`."""
        net = self.net
        params = dict(net.parameters())
        values: list[float | int] = [float(params[w.key][w.index]) for w in self.weights]
        for slot in self.record.slots:
            # The optimizer's arrays of a slot hold the moving weights' in order
            # (one per array, or one buffer of them all, as it was stepped); None: zeros.
            held = getattr(optimizer, slot)
            if held is None:
                values.extend([0.0] * len(self.moving))
            else:
                values.extend(np.concatenate([a.ravel() for a in held]).tolist())
        values.extend(int(getattr(optimizer, c)) for c in self.record.counters)
        if len(values) != self.state_size:
            raise ValueError("the optimizer's state is not laid out as the moving weights")
        return tuple(values)

    @property
    def state_size(self) -> int:
        record = self.record
        return len(self.weights) + len(record.slots) * len(self.moving) + len(record.counters)

    def _views(self) -> dict[str, Any]:
        """Per moving array, what the epoch's last lines store its weights into: a
        memoryview of it (a third of numpy's cost per item), else the array."""
        views: dict[str, Any] = {}
        for key, array in self.net.parameters():
            if key in self.still:
                continue
            name = f"_{key[0]}{key[1]}"
            if array.flags.c_contiguous and array.dtype == np.float64:
                views[name] = memoryview(array.reshape(-1))
            else:
                views[name] = array
        return views

    def write(
        self,
        state: Sequence[float | int],
        optimizer: Optimizer,
        stepped: Sequence[Array] | None = None,
    ) -> None:
        """Put `state` back into the network's arrays and `optimizer`. `stepped`: the
        arrays the optimizer steps, shaping its state where it has none yet
        (default: each moving array)."""
        net, at = self.net, 0
        for w in self.weights:
            array = (net.b if w.key[0] == "b" else net.W)[w.key[1]]
            array[w.index] = state[at]
            at += 1
        if stepped is None:
            params = dict(net.parameters())
            stepped = [params[key] for key in self.moving_keys]
        for slot in self.record.slots:
            held = getattr(optimizer, slot)
            if held is None:
                held = [np.zeros_like(p) for p in stepped]
                setattr(optimizer, slot, held)
            for a in held:
                a[...] = np.reshape(state[at : at + a.size], a.shape)
                at += a.size
        for counter in self.record.counters:
            setattr(optimizer, counter, int(state[at]))
            at += 1

    def gradients(self, flat: Sequence[float]) -> Gradients:
        """The last update's gradients (of the moving arrays) as the engine returns them."""
        dL_dW: dict[int, Array] = {}
        dL_db: dict[int, Array] = {}
        params = dict(self.net.parameters())
        for key in self.moving_keys:
            (dL_db if key[0] == "b" else dL_dW)[key[1]] = np.empty_like(params[key])
        for w, g in zip(self.moving, flat, strict=True):
            (dL_db if w.key[0] == "b" else dL_dW)[w.key[1]][w.index] = g
        return Gradients(dL_dW, dL_db, {})

    # -- the data --------------------------------------------------------------

    def batches(
        self, rows: Sequence[tuple[float, ...]], order: Sequence[int] | None
    ) -> tuple[list[tuple[float, ...]], tuple[float, ...]]:
        """The full batches and the last short one (() if none) as flat tuples,
        `rows[i]` being row i's inputs then targets, taken in `order` (None: as they are)."""
        if order is not None:
            rows = [rows[i] for i in order]
        B, n = self.batch, len(rows)
        flat = [sum(rows[s : s + B], ()) for s in range(0, n, B)]
        if n % B:
            return flat[:-1], flat[-1]
        return flat, ()

    def epoch(
        self,
        state: tuple[float | int, ...],
        batches: Sequence[tuple[float, ...]],
        last: tuple[float, ...],
    ) -> tuple[tuple[float | int, ...], float, int, tuple[float, ...]] | None:
        """(state after, sum of batch loss * rows, right predictions, the last update's
        gradients), the weights stored into the network's arrays; or None if a
        batch's loss is not finite (its update not taken, the arrays as they were)."""
        result: Any = self.epoch_function(state, batches, last)
        return result  # type: ignore[no-any-return]

    # -- the source --------------------------------------------------------------

    def _source(self) -> str:
        out = _Writer()
        slots = [f"{slot}_{w.name}" for slot in self.record.slots for w in self.moving]
        state = [w.name for w in self.weights] + slots + list(self.record.counters)
        grads = [f"g_{w.name}" for w in self.moving]
        out("def epoch(state, batches, last):")  # its defaults added at the end
        out.depth = 1
        out(f"({', '.join(state)},) = state")
        out("total = 0.0")
        out("right = 0")
        # A full batch's code in the loop; the short last batch's after it.
        out("for batch in batches:")
        out.depth = 2
        self._update(out, self.batch)
        out.depth = 1
        if self.rows % self.batch:
            out("if last:")
            out.depth = 2
            self._update(out, self.rows % self.batch)
            out.depth = 1
        # The new weights into the network's arrays: whatever reads them between
        # epochs reads these (a batch whose loss was not finite returned before).
        for w in self.moving:
            view = self.views[f"_{w.key[0]}{w.key[1]}"]
            shape = dict(self.net.parameters())[w.key].shape
            at = np.ravel_multi_index(w.index, shape) if isinstance(view, memoryview) else w.index
            out(f"_{w.key[0]}{w.key[1]}[{at}] = {w.name}")
        out(f"return {_tuple(state)}, total, right, {_tuple(grads)}")
        # The functions it calls and the arrays' views as arguments' defaults:
        # local names, the fastest to look up.
        body = "\n".join(out.lines)
        used = [name for name in NAMESPACE if re.search(rf"\b{name}\(", body)]
        helpers = "".join(f", {name}={name}" for name in [*used, *self.views])
        out.lines[0] = f"def epoch(state, batches, last{helpers}):"
        return "\n".join(out.lines) + "\n"

    def _update(self, out: _Writer, n: int) -> None:
        """One update on a batch of `n` rows, read from the local `batch`/`last`."""
        net, K, units = self.net, self.net.K, self.net.units
        source = "batch" if n == self.batch else "last"
        names = []
        for s in range(n):
            names += [_a(0, s, i) for i in range(units[0])]
            names += [f"t{s}_{j}" for j in range(units[K])]
        out(f"({', '.join(names)},) = {source}")
        # Forward: H(k) = A(k-1) @ W(k) (+ b(k)), A(k) = phi(H(k)).
        for k in range(1, K + 1):
            layer = net.layer(k)
            params = {p: _num(v) for p, v in layer.activation.params.items()}
            record = layer.activation.record
            vector = n == 1 or units[k] == 1
            for s in range(n):
                for j in range(units[k]):
                    products = [f"{_a(k - 1, s, i)} * {_w(k, i, j)}" for i in range(units[k - 1])]
                    bias = f" + {_w(k, -1, j)}" if layer.bias else ""
                    out(f"{_h(k, s, j)} = {matmul_sum(products, vector)}{bias}")
                if record.scalar_row is not None:
                    numerator, share = record.scalar_row
                    row = [_h(k, s, j) for j in range(units[k])]
                    out(f"top = max({', '.join(row)})")
                    for j in range(units[k]):
                        out(f"e{j} = " + numerator.format(H=row[j], max="top", **params))
                    # the row's sum as softmax's product with ones adds it: in order
                    # (bit for bit up to 3 outputs or one row; then OpenBLAS's lanes)
                    out(f"total_e = {matmul_sum([f'e{j}' for j in range(units[k])], False)}")
                    for j in range(units[k]):
                        A = share.format(E=f"e{j}", sum="total_e", **params)
                        out(f"{_a(k, s, j)} = {A}")
                else:
                    for j in range(units[k]):
                        A = record.scalar_phi.format(H=_h(k, s, j), **params)
                        out(f"{_a(k, s, j)} = {A}")
        self._loss(out, n)
        out("if loss - loss != 0.0:")  # inf or NaN: the Trainer reports the divergence
        out("    return None")
        out(f"total += loss * {n}")
        self._right(out, n)
        self._backward(out, n)
        self._step(out)

    def _loss(self, out: _Writer, n: int) -> None:
        """The batch's loss, as `Network.loss_of` takes it: from H on the canonical
        output pairs, unless the record says Y gives it as exactly (`exact_from_Y`)."""
        net, K = self.net, self.net.K
        loss = net.loss_record
        if not _shortcut(net):
            out("loss = " + self._loss_from_Y(n))
            return
        if loss.exact_from_Y is None:
            self._loss_from_H(out, n)
            return
        outputs = [_a(K, s, j) for s in range(n) for j in range(net.units[K])]
        out(f"if {' and '.join(loss.scalar_exact_from_Y.format(y=y) for y in outputs)}:")
        out("    loss = " + self._loss_from_Y(n))
        out("else:")
        out.depth += 1
        self._loss_from_H(out, n)
        out.depth -= 1

    def _loss_from_Y(self, n: int) -> str:
        net, K = self.net, self.net.K
        m, loss = net.units[K], net.loss_record
        terms = [
            f"({loss.scalar_term.format(y=_a(K, s, j), t=f't{s}_{j}')})"
            for s in range(n)
            for j in range(m)
        ]
        return loss.scalar_total.format(S=pairwise(terms), n=n, size=n * m)

    def _loss_from_H(self, out: _Writer, n: int) -> None:
        net, K = self.net, self.net.K
        m, loss = net.units[K], net.loss_record
        term, terms = loss.scalar_H_term, []
        for s in range(n):
            lse = ""
            if "{lse}" in term:  # the row's log-sum-exp, as cross_entropy_from_H takes it
                row = [_h(K, s, j) for j in range(m)]
                out(f"top = max({', '.join(row)})")
                lse = f"lse{s}"
                out(f"{lse} = top + log({pairwise([f'exp({h} - top)' for h in row])})")
            for j in range(m):
                terms.append(f"({term.format(h=_h(K, s, j), t=f't{s}_{j}', lse=lse)})")
        out("loss = " + loss.scalar_H_total.format(S=pairwise(terms), n=n, size=n * m))

    def _right(self, out: _Writer, n: int) -> None:
        """Right predictions, as training.correct counts them."""
        net, K = self.net, self.net.K
        m = net.units[K]
        targets = net.loss_record.targets
        if targets is None:
            return
        for s in range(n):
            if targets == ONE_HOT and m > 1:
                Y = ", ".join(_a(K, s, j) for j in range(m))
                T = ", ".join(f"t{s}_{j}" for j in range(m))
                out(f"right += _argmax(({Y},)) == _argmax(({T},))")
            else:
                assert targets in (ONE_HOT, BINARY)
                for j in range(m):
                    out(f"right += ({_a(K, s, j)} >= 0.5) == (t{s}_{j} >= 0.5)")

    def _backward(self, out: _Writer, n: int) -> None:
        net, K, units = self.net, self.net.K, self.net.units
        # The delta recursion reaches down to the lowest layer with a moving array.
        lowest = min((key[1] for key in self.moving_keys), default=K + 1)
        output = net.layer(K).activation
        loss = net.loss_record
        m = units[K]
        for s in range(n):
            for j in range(m):
                y, t = _a(K, s, j), f"t{s}_{j}"
                if _shortcut(net):
                    delta = loss.scalar_output_delta.format(y=y, t=t, m=m)
                else:
                    prime = _prime(output, _h(K, s, j), y)
                    delta = f"({prime}) * ({loss.scalar_dL_dY.format(y=y, t=t, m=m)})"
                out(f"{_d(K, s, j)} = {delta}")
        for k in range(K, lowest - 1, -1):
            gets_W = ("W", k) not in self.still
            gets_b = k in net.b and ("b", k) not in self.still
            if gets_W or gets_b:
                for s in range(n):
                    for j in range(units[k]):
                        out(f"{_q(k, s, j)} = {_over(_d(k, s, j), n)}")
            if gets_W:
                vector = units[k - 1] == 1 or units[k] == 1
                for i in range(units[k - 1]):
                    for j in range(units[k]):
                        products = [f"{_a(k - 1, s, i)} * {_q(k, s, j)}" for s in range(n)]
                        out(f"g_{_w(k, i, j)} = {matmul_sum(products, vector)}")
            if gets_b:
                for j in range(units[k]):
                    column = [_q(k, s, j) for s in range(n)]
                    out(f"g_{_w(k, -1, j)} = {matmul_sum(column, True)}")
            if k > lowest:
                below = net.layer(k - 1).activation
                vector = n == 1 or units[k - 1] == 1
                for s in range(n):
                    for i in range(units[k - 1]):
                        products = [f"{_d(k, s, j)} * {_w(k, i, j)}" for j in range(units[k])]
                        prime = _prime(below, _h(k - 1, s, i), _a(k - 1, s, i))
                        back = matmul_sum(products, vector)
                        out(f"{_d(k - 1, s, i)} = ({prime}) * {back}")

    def _step(self, out: _Writer) -> None:
        record = self.record
        for line in record.scalar_update:
            out(line.format(**self.fields))
        for w in self.moving:
            g = f"g_{w.name}"
            mask = self.masks.get(w.key)
            if mask is not None and not mask[w.index]:
                g = f"({g} * 0.0)"  # as the Trainer masks it: NaN stays NaN
            slots = {slot: f"{slot}_{w.name}" for slot in record.slots}
            for line in record.scalar_step:
                out(line.format(w=w.name, g=g, **slots, **self.fields))


def _over(x: str, n: int) -> str:
    """x / n; as x * (1 / n) where n is a power of two: the same number (a power of
    two's reciprocal is exact), and Python multiplies floats faster than it divides."""
    if n & (n - 1) == 0:
        return f"{x} * {1.0 / n!r}"
    return f"{x} / {n}"


def _tuple(names: Sequence[str]) -> str:
    return f"({', '.join(names)},)" if names else "()"


def _argmax(row: tuple[float, ...]) -> int:
    """numpy's argmax of a row: the first largest."""
    return max(range(len(row)), key=row.__getitem__)


NAMESPACE["_argmax"] = _argmax


def _prime(activation: Any, H: str, A: str) -> str:
    params = {p: _num(v) for p, v in activation.params.items()}
    return str(activation.record.scalar_prime.format(H=H, A=A, **params))


def _weight_name(key: Key, index: tuple[int, ...]) -> str:
    kind, k = key
    if kind == "b":
        return _w(k, -1, index[0])
    return _w(k, index[0], index[1])


def _w(k: int, i: int, j: int) -> str:
    """w_ij(k-1, k) with SPEC's 1-based nodes; i = -1 is the bias node 0."""
    return f"w{k}_{i + 1}_{j + 1}"


def _h(k: int, s: int, j: int) -> str:
    return f"h{k}_{s}_{j}"


def _a(k: int, s: int, j: int) -> str:
    return f"a{k}_{s}_{j}"


def _d(k: int, s: int, j: int) -> str:
    return f"d{k}_{s}_{j}"


def _q(k: int, s: int, j: int) -> str:
    return f"q{k}_{s}_{j}"
