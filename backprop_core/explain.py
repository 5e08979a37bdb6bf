"""`bp explain` as data: the derivation of one weight's gradient, step by step.

Everything here is read out of the engine: the forward `Trace`, the backward
`Gradients` (deltas), the activation and loss tables. No value is recomputed by
a second implementation; the "formula with numbers" strings only write down
the engine's own operands, in the source derivation's order:

1. forward pass: every node's ``H`` and ``A``, ``Y``, ``T``, ``Y - T``, the loss;
2. ``dL/dy`` for every output;
3. the chain rule: each factor, every path from the weight to an output, the sum;
4. the delta recursion down to the weight, and ``dL/dw = delta_j(k) * O_i(k-1)``;
5. central finite differences;
6. the update ``w_new = w - eta * dL/dw``;
7. the forward pass with that weight alone updated.

Node names follow the derivation:

- inputs ``x1, x2, ...``; the bias node's output ``O_0 = 1`` is written ``1``;
- hidden layer ``k`` node ``j``: ``H{k}{j}`` / ``A{k}{j}`` (``H21``, ``A22``: layer,
  then node), or just ``H{k}`` / ``A{k}`` when the layer has one node (``H1``,
  ``A1``); ``H{k}_{j}`` / ``A{k}_{j}`` when ``k`` or ``j`` is above 9;
- the output layer: ``Y_in`` / ``Y`` with one output, ``Y_in1`` / ``Y1``, ... with several;
  targets ``T`` or ``T1, T2, ...``. Derivatives use the derivation's lower-case
  ``y`` (``dL/dy``, ``dy/dA21``);
- ``delta(k)`` for a one-node layer, ``delta_j(k)`` otherwise;
- ``phi`` is the activation; ``phi_k`` when the layers use different ones;
- weights by their source-style alias (``xh1``, ``hh01``, ``hy21``, see naming.py).

For a batch (``sample=None``) the explanation is of the mean over the batch, as
training uses: each step carries its per-sample values, every path's product is
the batch mean of its per-sample products (so the products still sum to the
gradient), and ``dL/dw`` is the mean of ``delta_j(k) * O_i(k-1)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.activations import DERIVATIVE_FORMULAS
from backprop_core.errors import BpError
from backprop_core.gradcheck import (
    EPS,
    analytic_gradient,
    as_float64,
    locate,
    numeric_gradient,
    relative_error,
    weight_value,
)
from backprop_core.losses import LOSSES, OUTPUT_DELTA_SHORTCUT, REQUIRED_OUTPUT
from backprop_core.naming import WeightId, WeightNames
from backprop_core.network import Network, Trace

Array = NDArray[np.floating[Any]]

MAX_LISTED_PATHS = 32  # up to this many paths are all listed ...
TOP_PATHS = 10  # ... past it, only the largest contributions
MAX_PATH_CELLS = 4_000_000  # samples x paths we multiply out; past it only the count
MAX_NODES = 16  # nodes listed per layer in the forward pass and the deltas
MAX_TERMS = 8  # sums longer than this are written with sum_i, not term by term


class SampleError(BpError):
    """``--sample N`` outside the training data."""


@dataclass(frozen=True)
class Step:
    """One line of the derivation: ``symbol = formula = numbers = value``.

    ``formula`` uses names (``phi'(H21) * hh1``), ``numbers`` the same with the
    engine's values (``2 * 0.75``); either may be empty. ``samples`` holds the
    per-sample values when a batch of several samples is explained (``value`` is
    then their mean, or the batch quantity itself for losses and gradients).
    """

    symbol: str
    formula: str
    numbers: str
    value: float
    samples: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        # "hy11 = 0.6 = 0.6" says nothing twice: numbers that are just the value go.
        if self.numbers == fmt(self.value):
            object.__setattr__(self, "numbers", "")


@dataclass(frozen=True)
class Path:
    """One chain-rule path: node ``j`` of layer k, then one node per layer up to an output.

    ``factors`` run as the derivation writes them: ``dL/dy`` first, the weight's
    own factor last. ``product`` is their product (the batch mean of per-sample
    products), so the products of all paths sum to the gradient.
    """

    nodes: tuple[int, ...]
    factors: tuple[Step, ...]
    product: float


@dataclass
class Section:
    key: str  # stable id: forward, output, chain, paths, deltas, check, update, after
    title: str
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Explanation:
    weight: WeightId
    canonical: str
    alias: str
    value: float
    grad: float  # the engine's dL/dw
    numeric_grad: float
    eta: float
    new_value: float
    frozen: bool
    samples: int  # rows explained (1 with --sample)
    sample: int | None
    description: list[str]  # the network and data, one line each
    sections: list[Section]
    paths: list[Path]  # the listed ones (all, or the largest past MAX_LISTED_PATHS)
    path_count: int
    path_sum: float | None  # sum over all paths; None when too many to multiply out
    omitted_sum: float | None  # sum over the paths not listed
    deltas: dict[int, list[Step]]  # layer -> its delta steps (output layer first)
    after_outputs: list[list[float]]
    after_loss: float
    loss: float

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


# --- numbers as the derivation writes them ----------------------------------------


def fmt(x: float) -> str:
    """8 significant digits, no trailing zeros: 32, 0.125, 1.5 (as cli/render/numbers.num)."""
    text = format(float(x), ".8g")
    return "0" if text == "-0" else text


def _p(x: float) -> str:
    """A number inside an expression: negatives in parentheses (``2 * (-0.5)``)."""
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


# --- node names -----------------------------------------------------------------


@dataclass(frozen=True)
class Notation:
    units: tuple[int, ...]
    phis: tuple[str, ...]  # "phi" or "phi_k" per layer 1..K

    @property
    def K(self) -> int:
        return len(self.units) - 1

    def _pair(self, k: int, j: int) -> str:
        if k <= 9 and j <= 9:
            return f"{k}" if self.units[k] == 1 else f"{k}{j}"
        return f"{k}_{j}"

    def H(self, k: int, j: int) -> str:
        if k == self.K:
            return "Y_in" if self.units[k] == 1 else f"Y_in{j}"
        return f"H{self._pair(k, j)}"

    def out(self, k: int, i: int) -> str:
        """Output of node i of layer k (``x1`` for the inputs, ``1`` for a bias node)."""
        if i == 0:
            return "1"
        if k == 0:
            return f"x{i}"
        if k == self.K:
            return "Y" if self.units[k] == 1 else f"Y{i}"
        return f"A{self._pair(k, i)}"

    def T(self, j: int) -> str:
        return "T" if self.units[self.K] == 1 else f"T{j}"

    def d(self, k: int, j: int) -> str:
        """The node as it appears in a derivative: the output is the derivation's lower-case y."""
        if k == self.K:
            return "y" if self.units[k] == 1 else f"y{j}"
        return self.out(k, j)

    def delta(self, k: int, j: int) -> str:
        return f"delta({k})" if self.units[k] == 1 else f"delta_{j}({k})"

    def phi(self, k: int) -> str:
        return self.phis[k - 1]


def notation_for(network: Network) -> Notation:
    described = [layer.activation.describe() for layer in network.layers]
    same = len(set(described)) == 1
    phis = tuple("phi" if same else f"phi_{k}" for k in range(1, network.K + 1))
    return Notation(network.units, phis)


# --- the explanation ----------------------------------------------------------------


def explain(
    network: Network,
    names: WeightNames,
    X: Array,
    T: Array,
    w: WeightId,
    eta: float,
    *,
    frozen: bool = False,
    optimizer: str = "sgd",
    sample: int | None = None,
) -> Explanation:
    """The derivation of ``dL/dw`` on the rows ``X, T`` (all of them, or row `sample`)."""
    net = as_float64(network)
    X = np.asarray(X, np.float64)
    T = np.asarray(T, np.float64)
    if sample is not None:
        if not 0 <= sample < X.shape[0]:
            rows = X.shape[0]
            raise SampleError(
                f"sample {sample} is out of range: the training data has {rows} "
                f"row{'s' if rows != 1 else ''} (0..{rows - 1})"
            )
        X, T = X[sample : sample + 1], T[sample : sample + 1]
    return _Builder(net, names, X, T, w, eta, frozen, optimizer, sample).build()


def explain_experiment(experiment: Any, name: str, sample: int | None = None) -> Explanation:
    """`explain` for a weight named in any SPEC §4 form, on an experiment's training data."""
    w = experiment.names.resolve(name)
    training = experiment.config.training
    return explain(
        experiment.network,
        experiment.names,
        experiment.data.X,
        experiment.data.T,
        w,
        training.eta,
        frozen=experiment.is_frozen(w),
        optimizer=training.optimizer.name,
        sample=sample,
    )


class _Builder:
    def __init__(
        self,
        net: Network,
        names: WeightNames,
        X: Array,
        T: Array,
        w: WeightId,
        eta: float,
        frozen: bool,
        optimizer: str,
        sample: int | None,
    ) -> None:
        self.net, self.names, self.X, self.T, self.w = net, names, X, T, w
        self.eta, self.frozen, self.optimizer, self.sample = eta, frozen, optimizer, sample
        self.n = X.shape[0]
        self.nt = notation_for(net)
        self.trace = net.forward(X)
        self.grads = net.backward(self.trace, T)
        self.loss = net.loss_value(self.trace.Y, T)
        output = net.layer(net.K).activation
        # The engine's canonical-link shortcut (softmax + cross_entropy, sigmoid + bce):
        # then the chain starts at dL/dY_in, and the output layer has no phi' factor.
        self.shortcut = REQUIRED_OUTPUT.get(net.loss) == output.name

    # -- helpers
    def vals(self, a: Array) -> tuple[float, ...]:
        return tuple(float(v) for v in np.asarray(a).reshape(-1))

    def step(self, symbol: str, formula: str, numbers: str, per_sample: Array) -> Step:
        """A per-sample quantity: numbers only for one sample; the mean plus samples for a batch."""
        values = self.vals(per_sample)
        if self.n == 1:
            return Step(symbol, formula, numbers, values[0])
        if len(set(values)) == 1:
            # The same for every sample (a weight past the shortcut): one value, not a list.
            return Step(symbol, formula, "", values[0])
        return Step(symbol, formula, "", float(np.mean(values)), values)

    def alias(self, k: int, i: int, j: int) -> str:
        return self.names.alias(WeightId(k, i, j))

    def weight(self, k: int, i: int, j: int) -> float:
        return float(self.net.b[k][j - 1]) if i == 0 else float(self.net.W[k][i - 1, j - 1])

    def out_values(self, trace: Trace, k: int, i: int) -> Array:
        return np.ones(self.n) if i == 0 else trace.A[k][:, i - 1]

    def shown_nodes(self, k: int, must: Sequence[int] = ()) -> tuple[list[int], int]:
        count = self.net.units[k]
        nodes = list(range(1, min(count, MAX_NODES) + 1))
        nodes += [j for j in must if j not in nodes]
        return sorted(nodes), count - len(nodes)

    # -- sections
    def build(self) -> Explanation:
        w, nt = self.w, self.nt
        forward = self.forward_section("forward", "Forward pass", self.trace, range(1, nt.K + 1))
        output = self.output_section()
        chain, paths_section, paths, count, total, omitted = self.chain_sections()
        deltas_section, deltas = self.delta_section()
        grad = analytic_gradient(self.grads.dL_dW, self.grads.dL_db, w)
        if total is not None:
            agree = np.isclose(total, grad, rtol=1e-9, atol=1e-12)
            deltas_section.notes.append(
                f"The delta form gives {fmt(grad)}, "
                + ("the same as" if agree else "which DIFFERS from")
                + f" the sum over the {count} path{'s' if count != 1 else ''} ({fmt(total)})."
            )
        numeric = numeric_gradient(self.net, self.X, self.T, w)
        check = self.check_section(grad, numeric)
        value = weight_value(self.net, w)
        new_value = value - self.eta * grad
        update = self.update_section(value, grad, new_value)
        after, after_net_trace, after_loss = self.after_section(new_value)
        return Explanation(
            weight=w,
            canonical=w.canonical,
            alias=self.names.alias(w),
            value=value,
            grad=grad,
            numeric_grad=numeric,
            eta=self.eta,
            new_value=new_value,
            frozen=self.frozen,
            samples=self.n,
            sample=self.sample,
            description=self.describe(),
            sections=[forward, output, chain, paths_section, deltas_section, check, update, after],
            paths=paths,
            path_count=count,
            path_sum=total,
            omitted_sum=omitted,
            deltas=deltas,
            after_outputs=[list(map(float, row)) for row in after_net_trace.Y],
            after_loss=after_loss,
            loss=self.loss,
        )

    def describe(self) -> list[str]:
        net, nt, w = self.net, self.nt, self.w
        lines = [
            "network: "
            + " -> ".join(str(u) for u in net.units)
            + f" nodes (inputs first), loss {net.loss}",
        ]
        for k in range(1, net.K + 1):
            act = net.layer(k).activation
            derivative = DERIVATIVE_FORMULAS[act.name].format(
                **{key: fmt(v) for key, v in act.params.items()}
            )
            if not act.elementwise:
                derivative = "not element-wise (the output delta is Y - T, see below)"
            lines.append(
                f"layer {k}: {net.units[k]} node{'s' if net.units[k] != 1 else ''}, "
                f"{nt.phi(k)} = {act.describe()}, {nt.phi(k)}'(H) = {derivative}"
                f"{', with bias' if net.layer(k).bias else ''}"
            )
        target = nt.H(w.k, w.j)
        source = "the bias node (O_0 = 1)" if w.is_bias else nt.out(w.k - 1, w.i)
        lines.append(
            f"weight: {self.names.alias(w)} = {w.canonical}, from {source} "
            f"into {target} (layer {w.k - 1} -> {w.k})"
        )
        if self.sample is not None:
            lines.append(f"data: training sample {self.sample} alone")
        elif self.n > 1:
            lines.append(
                f"data: the mean over the {self.n} training samples, as training uses "
                "(values are listed per sample)"
            )
        else:
            lines.append("data: the one training sample")
        return lines

    def forward_section(self, key: str, title: str, trace: Trace, layers: range) -> Section:
        net, nt, w = self.net, self.nt, self.w
        section = Section(key, title)
        if key == "forward":
            for i in self.shown_nodes(0, [w.i] if w.k == 1 and w.i else [])[0]:
                section.steps.append(self.step(nt.out(0, i), "", "", trace.A[0][:, i - 1]))
        for k in layers:
            act = net.layer(k).activation
            must = [w.j] if k == w.k else []
            if k == w.k - 1 and w.i:
                must = [w.i]
            shown, hidden = self.shown_nodes(k, must)
            for j in shown:
                section.steps.append(self.pre_activation(trace, k, j))
                h = trace.H[k][:, j - 1]
                numbers = ""
                if act.name == "linear":
                    slope = act.params.get("slope", 1.0)
                    numbers = _p(h[0]) if slope == 1.0 else f"{fmt(slope)} * {_p(h[0])}"
                elif act.elementwise:
                    numbers = f"{act.name}({fmt(h[0])})"
                formula = f"{nt.phi(k)}({nt.H(k, j)})"
                if not act.elementwise:
                    formula = f"softmax(Y_in)_{j}"
                A = trace.A[k][:, j - 1]
                section.steps.append(self.step(nt.out(k, j), formula, numbers, A))
            if hidden:
                section.notes.append(f"layer {k}: {hidden} more nodes not listed")
        section.steps += self.targets_and_loss(trace, new=key == "after")
        return section

    def pre_activation(self, trace: Trace, k: int, j: int) -> Step:
        nt = self.nt
        sources = range(1, self.net.units[k - 1] + 1)
        bias = k in self.net.b
        if len(sources) > MAX_TERMS:
            formula = f"sum_i O_i({k - 1}) * w_i{j}({k - 1},{k})" + (" + bias" if bias else "")
            numbers = ""
        else:
            terms = [f"{nt.out(k - 1, i)} * {self.alias(k, i, j)}" for i in sources]
            nums = [f"{_p(trace.A[k - 1][0, i - 1])} * {_p(self.weight(k, i, j))}" for i in sources]
            if bias:
                terms.append(self.alias(k, 0, j))
                nums.append(_p(self.weight(k, 0, j)))
            formula, numbers = " + ".join(terms), " + ".join(nums)
        return self.step(nt.H(k, j), formula, numbers, trace.H[k][:, j - 1])

    def targets_and_loss(self, trace: Trace, new: bool) -> list[Step]:
        nt, K, m = self.nt, self.nt.K, self.net.units[self.nt.K]
        Y, T = trace.Y, self.T
        steps: list[Step] = []
        outputs = range(1, m + 1) if m <= MAX_NODES else range(1, MAX_NODES + 1)
        if not new:
            steps += [self.step(nt.T(j), "", "", T[:, j - 1]) for j in outputs]
        for j in outputs:
            y, t = Y[:, j - 1], T[:, j - 1]
            steps.append(
                self.step(f"{nt.out(K, j)} - {nt.T(j)}", "", f"{_p(y[0])} - {_p(t[0])}", y - t)
            )
        loss = self.net.loss_value(Y, T)
        formula, numbers = self.loss_formula(Y, T)
        if self.n > 1:
            formula, numbers = f"mean over the {self.n} samples of {formula}", ""
        steps.append(Step("L_new" if new else "L", formula, numbers, loss))
        if new:
            steps.append(Step("L_new - L", "", f"{_p(loss)} - {_p(self.loss)}", loss - self.loss))
        return steps

    def loss_formula(self, Y: Array, T: Array) -> tuple[str, str]:
        nt, m, loss = self.nt, Y.shape[1], self.net.loss
        pairs = [(nt.out(nt.K, j), nt.T(j)) for j in range(1, m + 1)]
        if loss == "sse" and m == 1:
            return "1/2 * (Y - T)^2", f"1/2 * ({_p(Y[0, 0])} - {_p(T[0, 0])})^2"
        if loss == "sse" and m <= MAX_TERMS:
            formula = "1/2 * [" + " + ".join(f"({y} - {t})^2" for y, t in pairs) + "]"
            numbers = (
                "1/2 * [" + " + ".join(f"({_p(Y[0, j])} - {_p(T[0, j])})^2" for j in range(m)) + "]"
            )
            return formula, numbers
        general = {
            "sse": "1/2 * sum_j (Y_j - T_j)^2",
            "mse": "mean_j (Y_j - T_j)^2",
            "cross_entropy": "-sum_j T_j * log(Y_j)",
            "bce": "-mean_j [T_j * log(Y_j) + (1 - T_j) * log(1 - Y_j)]",
        }
        return general.get(loss, loss), ""

    # dL/dy (or, with the shortcut, dL/dY_in) for output j: (symbol, formula, numbers)
    def head(self, j: int) -> tuple[str, str, str, Array]:
        nt, K, m = self.nt, self.nt.K, self.net.units[self.nt.K]
        Y, T = self.trace.Y[:, j - 1], self.T[:, j - 1]
        yn, tn, y, t = nt.out(K, j), nt.T(j), _p(Y[0]), _p(T[0])
        if self.shortcut:
            values = self.net.output_delta(self.trace, self.T)[:, j - 1]
            # The shortcut is (Y - T) / scale: read the scale off the table, not a copy of it.
            unit = OUTPUT_DELTA_SHORTCUT[self.net.loss](np.ones((1, m)), np.zeros((1, m)))
            if float(unit[0, 0]) == 1.0:
                return f"dL/d{nt.H(K, j)}", f"{yn} - {tn}", f"{y} - {t}", values
            return f"dL/d{nt.H(K, j)}", f"({yn} - {tn}) / {m}", f"({y} - {t}) / {m}", values
        values = LOSSES[self.net.loss][1](self.trace.Y, self.T)[:, j - 1]
        per = "" if m == 1 else f" / {m}"
        formulas = {
            "sse": (f"{yn} - {tn}", f"{y} - {t}"),
            "mse": (f"2 * ({yn} - {tn}){per}", f"2 * ({y} - {t}){per}"),
            "cross_entropy": (f"-{tn} / {yn}", f"-{t} / {y}"),
            "bce": (
                f"({yn} - {tn}) / ({yn} * (1 - {yn})){per}",
                f"({y} - {t}) / ({y} * (1 - {y})){per}",
            ),
        }
        formula, numbers = formulas.get(self.net.loss, ("", ""))
        return f"dL/d{nt.d(K, j)}", formula, numbers, values

    def output_section(self) -> Section:
        section = Section("output", "Derivative of the loss")
        K, m = self.nt.K, self.net.units[self.nt.K]
        for j in range(1, min(m, MAX_NODES) + 1):
            symbol, formula, numbers, values = self.head(j)
            section.steps.append(self.step(symbol, formula, numbers, values))
        if self.shortcut:
            act = self.net.layer(K).activation.name
            section.notes.append(
                f"{act} + {self.net.loss}: the loss's derivative through the {act} output "
                f"simplifies to dL/dY_in = Y - T{' (scaled)' if self.net.loss == 'bce' else ''}, "
                "so the chain starts at Y_in and the output layer has no phi' factor."
            )
        if self.n > 1:
            section.notes.append("Per sample; the gradient is the mean over the samples.")
        return section

    # One factor of a path: from node a of layer q-1 to node b of layer q.
    def factor(self, q: int, a: int, b: int) -> tuple[Step, Array]:
        nt, K = self.nt, self.nt.K
        wv = self.weight(q, a, b)
        name = self.alias(q, a, b)
        if self.shortcut and q == K:
            values = np.full(self.n, wv)
            return self.step(f"d{nt.H(K, b)}/d{nt.out(q - 1, a)}", name, fmt(wv), values), values
        dphi = self.net.layer(q).activation.phi_prime(self.trace.H[q][:, b - 1])
        values = dphi * wv
        step = self.step(
            f"d{nt.d(q, b)}/d{nt.out(q - 1, a)}",
            f"{nt.phi(q)}'({nt.H(q, b)}) * {name}",
            f"{_p(dphi[0])} * {_p(wv)}",
            values,
        )
        return step, values

    # The weight's own factor: d(node j of layer k)/dw.
    def tail(self) -> tuple[Step, Array]:
        nt, K = self.nt, self.nt.K
        k, i, j = self.w.k, self.w.i, self.w.j
        Ov = self.out_values(self.trace, k - 1, i)
        source = nt.out(k - 1, i)
        name = self.alias(k, i, j)
        if self.shortcut and k == K:
            return self.step(f"d{nt.H(K, j)}/d{name}", source, _p(Ov[0]), Ov), Ov
        dphi = self.net.layer(k).activation.phi_prime(self.trace.H[k][:, j - 1])
        values = dphi * Ov
        step = self.step(
            f"d{nt.d(k, j)}/d{name}",
            f"{nt.phi(k)}'({nt.H(k, j)}) * {source}",
            f"{_p(dphi[0])} * {_p(Ov[0])}",
            values,
        )
        return step, values

    def chain_sections(
        self,
    ) -> tuple[Section, Section, list[Path], int, float | None, float | None]:
        net, nt, w = self.net, self.nt, self.w
        K, k = nt.K, w.k
        alias = self.names.alias(w)
        widths = [net.units[q] for q in range(k + 1, K + 1)]
        count = int(np.prod(widths)) if widths else 1
        chain = Section("chain", f"Chain rule: every path from {alias} to the output")
        paths_section = Section("paths", "Paths and their sum")
        tail_step, tail_values = self.tail()
        if count * self.n > MAX_PATH_CELLS:
            chain.notes.append(
                f"{count} paths: too many to multiply out; the delta form below carries "
                "the derivation."
            )
            return chain, paths_section, [], count, None, None
        # P[s, j_{k+1}, ..., j_K]: each path's per-sample product, built one layer at a
        # time from the same factors the steps show (phi'(H) * w, or w past the shortcut).
        F = {q: self.factor_matrix(q) for q in range(k + 1, K + 1)}  # (n, units[q-1], units[q])
        P = tail_values[:, None] * F[k + 1][:, w.j - 1, :] if k < K else tail_values
        for q in range(k + 2, K + 1):
            ones = [1] * (P.ndim - 2)
            P = P[..., None] * F[q].reshape(self.n, *ones, net.units[q - 1], net.units[q])
        heads = np.stack([self.head(j)[3] for j in range(1, net.units[K] + 1)], -1)  # (n, m)
        if k < K:
            P = P * heads.reshape(self.n, *([1] * (P.ndim - 2)), net.units[K])
        else:
            P = P * heads[:, w.j - 1]
        products = P.reshape(self.n, -1).mean(axis=0)
        total = float(products.sum())
        order = list(range(count))
        if count > MAX_LISTED_PATHS:
            order = sorted(sorted(order, key=lambda p: -abs(products[p]))[:TOP_PATHS])
        listed = [self.path(p, widths, float(products[p])) for p in order]
        omitted = total - sum(path.product for path in listed)
        # The distinct factors, output layer first, then by node, the weight's own
        # factor last: the order in which the derivation lists them.
        keys = {
            (w.k + d, path.nodes[d - 1], path.nodes[d])
            for path in listed
            for d in range(1, len(path.nodes))
        }
        for q, a, b in sorted(keys, key=lambda key: (-key[0], key[1], key[2])):
            chain.steps.append(self.factor(q, a, b)[0])
        chain.steps.append(tail_step)
        if count > MAX_LISTED_PATHS:
            chain.notes.append(
                f"{count} paths; the factors of the {len(listed)} largest contributions are listed."
            )
        for index, path in zip(order, listed, strict=True):
            syms = " * ".join(f.symbol for f in path.factors)
            nums = " * ".join(_p(f.value) for f in path.factors) if self.n == 1 else ""
            formula = syms if self.n == 1 else f"mean over the samples of {syms}"
            paths_section.steps.append(Step(f"path {index + 1}", formula, nums, path.product))
        paths_section.steps.append(self.sum_step(listed, count, total))
        if count > MAX_LISTED_PATHS:
            paths_section.notes.append(
                f"{count} paths in all; the {len(listed)} largest are listed, the other "
                f"{count - len(listed)} add up to {fmt(omitted)}."
            )
        return chain, paths_section, listed, count, total, omitted

    def factor_matrix(self, q: int) -> Array:
        """Every factor d(node b of layer q)/d(node a of layer q-1) at once: (n, a, b)."""
        W = self.net.W[q]
        if self.shortcut and q == self.nt.K:
            return np.broadcast_to(W, (self.n, *W.shape))
        dphi = self.net.layer(q).activation.phi_prime(self.trace.H[q])
        return dphi[:, None, :] * W[None, :, :]

    def path(self, index: int, widths: list[int], product: float) -> Path:
        w = self.w
        rest = np.unravel_index(index, widths) if widths else ()
        nodes = (w.j, *(int(r) + 1 for r in rest))
        factors = [self.step(*self.head(nodes[-1]))]
        for depth in range(len(nodes) - 1, 0, -1):
            q = w.k + depth
            factors.append(self.factor(q, nodes[depth - 1], nodes[depth])[0])
        factors.append(self.tail()[0])
        return Path(nodes, tuple(factors), product)

    def sum_step(self, listed: list[Path], count: int, total: float) -> Step:
        symbol = f"dL/d{self.names.alias(self.w)}"
        if count > MAX_LISTED_PATHS:
            return Step(symbol, f"sum over all {count} paths", "", total)
        if self.n > 1:
            numbers = " + ".join(_p(p.product) for p in listed)
            return Step(symbol, "sum of the path products", numbers, total)
        groups: dict[int, list[Path]] = {}
        for path in listed:
            groups.setdefault(path.nodes[-1], []).append(path)
        formula_parts, number_parts = [], []
        for paths in groups.values():
            head = paths[0].factors[0]
            inner = [" * ".join(f.symbol for f in p.factors[1:]) for p in paths]
            inner_n = [" * ".join(_p(f.value) for f in p.factors[1:]) for p in paths]
            if len(paths) == 1:
                formula_parts.append(f"{head.symbol} * {inner[0]}")
                number_parts.append(f"{_p(head.value)} * {inner_n[0]}")
            else:
                formula_parts.append(f"{head.symbol} * [{' + '.join(inner)}]")
                number_parts.append(f"{_p(head.value)} * [{' + '.join(inner_n)}]")
        return Step(symbol, " + ".join(formula_parts), " + ".join(number_parts), total)

    def delta_section(self) -> tuple[Section, dict[int, list[Step]]]:
        nt, w = self.nt, self.w
        K = nt.K
        section = Section("deltas", "Delta recursion")
        deltas: dict[int, list[Step]] = {}
        D = self.grads.delta
        for q in range(K, w.k - 1, -1):
            shown, hidden = self.shown_nodes(q) if q != w.k else ([w.j], 0)
            steps: list[Step] = []
            for b in shown:
                steps.append(self.delta_step(q, b, D))
            if hidden:
                section.notes.append(f"layer {q}: {hidden} more deltas not listed")
            deltas[q] = steps
            section.steps += steps
        d = D[w.k][:, w.j - 1]
        Ov = self.out_values(self.trace, w.k - 1, w.i)
        grad = analytic_gradient(self.grads.dL_dW, self.grads.dL_db, w)
        symbol = f"dL/d{self.names.alias(w)}"
        formula = f"{nt.delta(w.k, w.j)} * {nt.out(w.k - 1, w.i)}"
        if self.n == 1:
            section.steps.append(Step(symbol, formula, f"{_p(d[0])} * {_p(Ov[0])}", grad))
        else:
            numbers = ""
            if self.n <= MAX_TERMS:
                pairs = zip(d, Ov, strict=True)
                numbers = "(" + " + ".join(f"{_p(a)} * {_p(b)}" for a, b in pairs)
                numbers += f") / {self.n}"
            formula = f"mean over the {self.n} samples of {formula}"
            section.steps.append(Step(symbol, formula, numbers, grad))
        return section, deltas

    def delta_step(self, q: int, b: int, D: dict[int, Array]) -> Step:
        nt, K, net = self.nt, self.nt.K, self.net
        symbol = nt.delta(q, b)
        if q == K:
            _, formula, numbers, head = self.head(b)
            if self.shortcut:
                return self.step(symbol, formula, numbers, D[q][:, b - 1])
            dphi = net.layer(q).activation.phi_prime(self.trace.H[q][:, b - 1])
            wrap = f"({formula})" if " " in formula else formula
            return self.step(
                symbol,
                f"{nt.phi(q)}'({nt.H(q, b)}) * {wrap}",
                f"{_p(dphi[0])} * {_p(head[0])}",
                D[q][:, b - 1],
            )
        dphi = net.layer(q).activation.phi_prime(self.trace.H[q][:, b - 1])
        nxt = range(1, net.units[q + 1] + 1)
        phi = f"{nt.phi(q)}'({nt.H(q, b)})"
        if len(nxt) > MAX_TERMS:
            formula = f"{phi} * sum_j w_{b}j({q},{q + 1}) * delta_j({q + 1})"
            numbers = ""
        else:
            terms = [f"{self.alias(q + 1, b, c)} * {nt.delta(q + 1, c)}" for c in nxt]
            nums = [f"{_p(self.weight(q + 1, b, c))} * {_p(D[q + 1][0, c - 1])}" for c in nxt]
            if len(terms) == 1:
                formula, numbers = f"{phi} * {terms[0]}", f"{_p(dphi[0])} * {nums[0]}"
            else:
                formula = f"{phi} * [{' + '.join(terms)}]"
                numbers = f"{_p(dphi[0])} * [{' + '.join(nums)}]"
        return self.step(symbol, formula, numbers, D[q][:, b - 1])

    def check_section(self, grad: float, numeric: float) -> Section:
        alias = self.names.alias(self.w)
        section = Section("check", "Finite-difference check")
        section.steps.append(
            Step(
                f"dL/d{alias} (numeric)",
                f"(L({alias} + eps) - L({alias} - eps)) / (2 * eps)",
                f"(L({alias} + {fmt(EPS)}) - L({alias} - {fmt(EPS)})) / (2 * {fmt(EPS)})",
                numeric,
            )
        )
        error = relative_error(grad, numeric)
        # Below 1e-8 the difference is rounding noise that varies by machine: not printed.
        section.notes.append(
            "agrees with the delta form to better than 1e-8 (relative)"
            if error < 1e-8
            else f"relative difference from the delta form: {error:.1e}"
        )
        return section

    def update_section(self, value: float, grad: float, new_value: float) -> Section:
        alias = self.names.alias(self.w)
        section = Section("update", "Update")
        section.steps.append(
            Step(
                f"{alias}_new",
                f"{alias} - eta * dL/d{alias}",
                f"{_p(value)} - {_p(self.eta)} * {_p(grad)}",
                new_value,
            )
        )
        if self.frozen:
            section.notes.append(
                f"{alias} is frozen in this config (training.freeze): training leaves it at "
                f"{fmt(value)}; this is the step it would take if trained."
            )
        if self.optimizer != "sgd":
            section.notes.append(
                f"training uses the {self.optimizer} optimizer; this is the plain "
                "gradient-descent step of the derivation."
            )
        return section

    def after_section(self, new_value: float) -> tuple[Section, Trace, float]:
        net = self.net.copy()
        array, index = locate(net, self.w)
        array[index] = new_value
        saved = self.net
        trace = net.forward(self.X)
        # Write the new pass with the updated weight's value in the formulas.
        self.net = net
        try:
            section = self.forward_section(
                "after",
                f"Forward pass with {self.names.alias(self.w)} = {fmt(new_value)} alone updated",
                trace,
                range(self.w.k, self.nt.K + 1),
            )
        finally:
            self.net = saved
        return section, trace, net.loss_value(trace.Y, self.T)
