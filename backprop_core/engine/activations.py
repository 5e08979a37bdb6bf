"""Activations: one `ActivationRecord` per activation, everything bp knows about it.

Each record holds ``phi`` and ``phi_prime`` (both take the pre-activation ``H``,
any shape, and return an array of that shape; ``phi_prime`` takes ``H`` as the
derivation writes ``phi'(H21)``), its parameters with their defaults, its kinks,
how `explain` writes it, and the rules a config must follow to use it. The
config's choices, its JSON schema, `explain`, the engine and gradcheck all read
these records: adding an activation is one `register(ActivationRecord(...))`
call in this file (plus its tests). At a kink the derivative takes the
left-hand value: ``relu'(0) = 0``, ``leaky_relu'(0) = alpha``.

``softmax`` has no element-wise derivative (its Jacobian is full); it is only
allowed on the output layer with ``cross_entropy``, where the output delta is
``Y - T`` directly (see `losses.py`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]
Fn = Callable[..., Array]


@dataclass(frozen=True)
class ActivationRecord:
    """One activation, every fact about it in one place.

    Later work (export to other frameworks, a fast path, the explain formulas)
    adds fields here rather than keeping a table of its own keyed by name.
    """

    name: str
    # phi(H, **parameters, out=None) -> A, the same shape as H; written into
    # `out` when given (the engine's reused buffers, see network.Workspace).
    phi: Fn
    # phi'(H, **parameters) -> dA/dH element-wise, taking H as the derivation does.
    phi_prime: Fn
    # phi'(H) as `explain` describes it; "{slope}"-style fields are the parameters.
    derivative_formula: str
    # The parameters it takes, with their defaults (config keys of the activation).
    parameters: Mapping[str, float] = field(default_factory=dict)
    # H where phi' jumps: a finite difference within eps of one is unreliable.
    kinks: tuple[float, ...] = ()
    # phi'(H) in its cheapest form equal to phi_prime, given H and A = phi(H)
    # (which the forward pass already holds): the engine calls it per layer per
    # update. It may return a scalar (linear's slope) or a 0/1 mask (relu's
    # H > 0) that broadcasts. None: phi_prime(H).
    fast_prime: Callable[..., Array | float] | None = None
    # A = phi(H) with numbers as `explain` writes it: H as an operand (negatives
    # in parentheses), the parameters formatted. None: "name(H)".
    write: Callable[..., str] | None = None
    # False for softmax: no element-wise phi', a full Jacobian.
    elementwise: bool = True
    # Task rules: only on the output layer, and only with this loss there.
    output_only: bool = False
    loss: str | None = None
    # How `bp export` writes it (text only; the engine never imports torch or onnx).
    # torch: phi(H) as a PyTorch expression, "{H}" and the parameters as fields,
    # chosen so that autograd's derivative is phi_prime (kinks included).
    torch: str = ""
    # onnx_op: the ONNX operator computing phi(H), the parameters its constant
    # inputs after H. onnx_body: where onnxruntime lacks the operator in double
    # precision or it would round a parameter to 32 bits, the same as a local
    # function of supported operators: (op, inputs, output) rows over H, the
    # parameters and the constants `zero` and `one`, ending in Y.
    onnx_op: str = ""
    onnx_body: tuple[tuple[str, tuple[str, ...], str], ...] = ()
    # The scalar path (scalar_path.py) writes small networks as straight-line float
    # arithmetic from these. scalar_phi: A = phi(H) as a Python expression of one
    # float "{H}" and the parameters as fields; scalar_prime: phi'(H) as the engine
    # takes it (fast_prime, else phi_prime), in "{H}" and "{A}". Bare `exp`, `log`,
    # `log1p`, `tanh`, `sqrt` are math's. Both do the same operations in the same
    # order as phi and the engine's phi' (NaN kept where numpy's maximum keeps it),
    # so results agree to the last bit wherever math's functions agree with numpy's.
    # scalar_row: a row-wise phi (softmax) as (E from "{H}" and the row's "{max}",
    # A from "{E}" and the row's sum "{sum}", added up as a product with ones, as
    # softmax takes it). "": none, and a network using it keeps to the vector engine.
    scalar_phi: str = ""
    scalar_prime: str = ""
    scalar_row: tuple[str, str] | None = None


ACTIVATIONS: dict[str, ActivationRecord] = {}


def register(record: ActivationRecord) -> ActivationRecord:
    """Add an activation; the config model reads the records when it is imported."""
    ACTIVATIONS[record.name] = record
    return record


def linear(H: Array, slope: float = 1.0, out: Array | None = None) -> Array:
    return np.multiply(H, slope, out=out)  # a new array even for slope 1: A[k] never aliases H[k]


def linear_prime(H: Array, slope: float = 1.0) -> Array:
    return np.full_like(H, slope)


register(
    ActivationRecord(
        "linear",
        linear,
        linear_prime,
        derivative_formula="{slope}",
        parameters={"slope": 1.0},
        fast_prime=lambda H, A, slope=1.0: slope,
        write=lambda H, slope="1": H if slope == "1" else f"{slope} * {H}",
        torch="{H} * {slope}",
        onnx_op="Mul",
        scalar_phi="{H} * {slope}",
        scalar_prime="{slope}",
    )
)


def sigmoid(H: Array, out: Array | None = None) -> Array:
    # 1 / (1 + exp(-H)), with -H kept below exp's overflow: beyond it the result
    # is already 0 to within the dtype's smallest normal number. Computed in one
    # temporary (five passes, one allocation): the engine calls this per update.
    E = np.maximum(H, _EXP_LIMIT[H.dtype.itemsize], out=out)
    np.negative(E, out=E)
    np.exp(E, out=E)
    E += 1.0
    return np.divide(1.0, E, out=E)


# The most negative H whose exp(-H) is finite, per float size in bytes.
_EXP_LIMIT = {2: -11.0, 4: -88.0, 8: -709.0}
# sigmoid as `sigmoid` computes it, in float64 (the scalar path's only dtype):
# -max(H, -709), NaN kept, is 709 below -709 and -H otherwise.
SCALAR_SIGMOID = "1.0 / (exp(709.0 if {H} < -709.0 else -{H}) + 1.0)"
# softplus as numpy's logaddexp(0, H) computes it (x == y aside, whose log(2) is the same).
SCALAR_SOFTPLUS = "(0.0 + log1p(exp({H})) if {H} < 0.0 else {H} + log1p(exp(-{H})))"


def sigmoid_prime(H: Array) -> Array:
    S = sigmoid(H)
    return S * (1.0 - S)


# phi'(H) through the output A (the same operations on the same value as
# sigmoid_prime): a deliberate departure from "derivatives take H", for the
# engine only. Measured, it saves one transcendental pass per layer per update.
register(
    ActivationRecord(
        "sigmoid",
        sigmoid,
        sigmoid_prime,
        derivative_formula="phi(H) * (1 - phi(H))",
        fast_prime=lambda H, A: A * (1.0 - A),
        torch="torch.sigmoid({H})",
        onnx_op="Sigmoid",
        scalar_phi=SCALAR_SIGMOID,
        scalar_prime="{A} * (1.0 - {A})",
    )
)


def tanh(H: Array, out: Array | None = None) -> Array:
    return np.tanh(H, out=out)


def tanh_prime(H: Array) -> Array:
    return 1.0 - np.tanh(H) ** 2


register(
    ActivationRecord(
        "tanh",
        tanh,
        tanh_prime,
        derivative_formula="1 - tanh(H)^2",
        fast_prime=lambda H, A: 1.0 - A**2,
        torch="torch.tanh({H})",
        onnx_op="Tanh",
        scalar_phi="tanh({H})",
        scalar_prime="1.0 - {A} * {A}",
    )
)


def relu(H: Array, out: Array | None = None) -> Array:
    return np.maximum(H, 0.0, out=out)


def relu_prime(H: Array) -> Array:
    return (H > 0).astype(H.dtype)


register(
    ActivationRecord(
        "relu",
        relu,
        relu_prime,
        derivative_formula="1 if H > 0 else 0",
        kinks=(0.0,),
        # multiplying by True/False is multiplying by 1/0
        fast_prime=lambda H, A: H > 0,
        torch="torch.relu({H})",
        onnx_op="Relu",
        scalar_phi="(0.0 if {H} <= 0.0 else {H})",  # numpy's maximum: -0 to 0, NaN kept
        scalar_prime="(1.0 if {H} > 0.0 else 0.0)",
    )
)


def leaky_relu(H: Array, alpha: float = 0.01, out: Array | None = None) -> Array:
    A = np.where(H > 0, H, alpha * H)  # np.where has no out=: copied into it
    if out is None:
        return A
    np.copyto(out, A)
    return out


def leaky_relu_prime(H: Array, alpha: float = 0.01) -> Array:
    return np.where(H > 0, 1.0, alpha).astype(H.dtype)


register(
    ActivationRecord(
        "leaky_relu",
        leaky_relu,
        leaky_relu_prime,
        derivative_formula="1 if H > 0 else {alpha}",
        parameters={"alpha": 0.01},
        kinks=(0.0,),
        torch="torch.where({H} > 0, {H}, {alpha} * {H})",
        onnx_op="LeakyRelu",
        onnx_body=(
            ("Greater", ("H", "zero"), "positive"),
            ("Mul", ("alpha", "H"), "scaled"),
            ("Where", ("positive", "H", "scaled"), "Y"),
        ),
        scalar_phi="({H} if {H} > 0.0 else {alpha} * {H})",
        scalar_prime="(1.0 if {H} > 0.0 else {alpha})",
    )
)


def softplus(H: Array, out: Array | None = None) -> Array:
    return np.logaddexp(0.0, H, out=out)


def softplus_prime(H: Array) -> Array:
    return sigmoid(H)


register(
    ActivationRecord(
        "softplus",
        softplus,
        softplus_prime,
        derivative_formula="sigmoid(H)",
        torch="torch.logaddexp(torch.zeros_like({H}), {H})",
        onnx_op="Softplus",
        # max(H, 0) + log1p(exp(-|H|)), as numpy's logaddexp; ONNX has no Log1p:
        # log1p(x) = x where 1 + x rounds to 1, else log(1 + x) * x / ((1 + x) - 1)
        # (Goldberg 1991: a few ulps, where log(1 + x) loses x's low digits).
        onnx_body=(
            ("Max", ("H", "zero"), "positive"),
            ("Abs", ("H",), "magnitude"),
            ("Neg", ("magnitude",), "negative"),
            ("Exp", ("negative",), "x"),
            ("Add", ("one", "x"), "u"),
            ("Sub", ("u", "one"), "u_minus_1"),
            ("Log", ("u",), "log_u"),
            ("Mul", ("log_u", "x"), "log_u_x"),
            ("Div", ("log_u_x", "u_minus_1"), "corrected"),
            ("Equal", ("u_minus_1", "zero"), "rounds_to_1"),
            ("Where", ("rounds_to_1", "x", "corrected"), "log1p"),
            ("Add", ("positive", "log1p"), "Y"),
        ),
        scalar_phi=SCALAR_SOFTPLUS,
        scalar_prime=SCALAR_SIGMOID,
    )
)


def softmax(H: Array, out: Array | None = None) -> Array:
    # subtracting the row maximum changes nothing mathematically and keeps exp finite
    E = np.subtract(H, _row_max(H), out=out)
    np.exp(E, out=E)  # in place: E is our own temporary
    # Each row's sum as a product with ones: one BLAS call, several times faster
    # than a reduction along rows on a batch's few columns (as the engine sums
    # the bias gradient).
    E /= np.dot(E, ones(E.shape[-1], E.dtype))[..., None]
    return E


def _row_max(H: Array) -> Array:
    """The maximum of each row (of the last axis), keeping that axis.

    Read at each row's argmax: argmax's per-row loop is several times faster than
    a reduction along rows on a batch's few columns, and a maximum is exact, so
    the value is the same bits either way (NaN included: both pick it).
    """
    if H.ndim != 2:
        return np.maximum.reduce(H, axis=-1, keepdims=True)
    n, m = H.shape
    at = H.argmax(axis=1)
    at += _row_starts(n, m)
    return H.take(at)[:, None]  # take() without an axis reads H flattened in C order


_ONES: dict[tuple[int, np.dtype[Any]], Array] = {}
_STARTS: dict[tuple[int, int], NDArray[np.intp]] = {}


def _row_starts(n: int, m: int) -> NDArray[np.intp]:
    """The flat index of each row's first element in an (n, m) array, made once per shape."""
    starts = _STARTS.get((n, m))
    if starts is None:
        starts = _STARTS[n, m] = np.arange(0, n * m, m, dtype=np.intp)
    return starts


def ones(n: int, dtype: np.dtype[Any]) -> Array:
    """A vector of n ones, made once per length and dtype (softmax's row sums, and
    the bias node's outputs O_0 = 1 in the engine's bias gradients)."""
    ones = _ONES.get((n, dtype))
    if ones is None:
        ones = _ONES[n, dtype] = np.ones(n, dtype)
    return ones


def softmax_prime(H: Array) -> Array:
    raise ValueError("softmax has no element-wise derivative; use it with cross_entropy")


register(
    ActivationRecord(
        "softmax",
        softmax,
        softmax_prime,
        derivative_formula="(Jacobian)",
        elementwise=False,
        output_only=True,
        loss="cross_entropy",
        torch="torch.softmax({H}, dim=1)",
        onnx_op="Softmax",  # opset 13 and later: over the last axis
        scalar_row=("exp({H} - {max})", "{E} / {sum}"),
    )
)


@dataclass(frozen=True)
class Activation:
    """One layer's activation: a registered record bound to its parameters.

    ``phi(H)`` and ``phi_prime(H)`` are the record's pair with the parameters
    applied (``phi_into(H, out)``: phi written into a buffer, for the engine);
    ``derivative(H, A)`` is phi'(H) for the delta recursion, given also A = phi(H),
    in the record's cheapest equal form (`fast_prime`). All are bound once here
    because the engine calls them per layer per update.
    """

    name: str
    params: Mapping[str, float] = field(default_factory=dict)
    phi: Fn = field(init=False, repr=False, compare=False)
    phi_into: Fn = field(init=False, repr=False, compare=False)
    phi_prime: Fn = field(init=False, repr=False, compare=False)
    derivative: Callable[[Array, Array], Array | float] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        record = self.record
        # Every parameter present, defaults filled in: `explain` prints them all.
        object.__setattr__(self, "params", {**record.parameters, **self.params})
        phi, phi_prime = record.phi, record.phi_prime
        fast = record.fast_prime
        if self.params:
            phi, phi_prime = partial(phi, **self.params), partial(phi_prime, **self.params)
            fast = partial(fast, **self.params) if fast is not None else None
        object.__setattr__(self, "phi", phi)
        # phi_into(H, out): phi written into `out` (None: a new array) when the
        # record's phi takes `out=`, as the built-in ones do; a registered phi
        # that does not makes its own array, and the engine keeps that one.
        takes_out = "out" in inspect.signature(record.phi).parameters
        phi_into = phi if takes_out else (lambda H, out=None: phi(H))
        object.__setattr__(self, "phi_into", phi_into)
        object.__setattr__(self, "phi_prime", phi_prime)
        derivative = fast if fast is not None else (lambda H, A: phi_prime(H))
        object.__setattr__(self, "derivative", derivative)

    @property
    def record(self) -> ActivationRecord:
        return ACTIVATIONS[self.name]

    @property
    def elementwise(self) -> bool:
        return self.record.elementwise

    def describe(self) -> str:
        """``linear(slope=2)``, ``sigmoid``: how output and `explain` name it."""
        if not self.params:
            return self.name
        inner = ", ".join(f"{k}={_num(v)}" for k, v in self.params.items())
        return f"{self.name}({inner})"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
