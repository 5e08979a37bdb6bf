"""Each activation in PyTorch and in ONNX, and each loss in PyTorch, written once.

`TORCH` gives the expression a generated script evaluates for ``phi(H)``, chosen
so autograd's derivative is bp's ``phi'`` (``relu'(0) = 0``,
``leaky_relu'(0) = alpha``). `ONNX` adds the nodes that compute ``phi(H)`` to a
graph; softplus, which onnxruntime lacks in double precision, is a local
function of supported operators (`ONNX_FUNCTIONS`), and so is leaky_relu,
whose alpha ONNX's LeakyRelu would round to 32 bits. `LOSS_SUMS` is each
loss summed over a batch's rows, evaluated from ``H(K)`` on the canonical
output pairs as `engine.losses.LOSS_FROM_H` does. Tests check that every
activation and loss of the engine has an entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

Params = Mapping[str, float]


def _slope_expression(p: Params, H: str) -> str:
    return f"{H} * {float(p['slope'])!r}"


TORCH: dict[str, Callable[[Params, str], str]] = {
    "linear": _slope_expression,
    "sigmoid": lambda p, H: f"torch.sigmoid({H})",
    "tanh": lambda p, H: f"torch.tanh({H})",
    "relu": lambda p, H: f"torch.relu({H})",
    "leaky_relu": lambda p, H: f"torch.where({H} > 0, {H}, {float(p['alpha'])!r} * {H})",
    "softplus": lambda p, H: f"torch.logaddexp(torch.zeros_like({H}), {H})",
    "softmax": lambda p, H: f"torch.softmax({H}, dim=1)",
}


class Graph(Protocol):
    """What an ONNX construction needs of the graph being built (see `onnx_export`)."""

    def node(self, op: str, inputs: list[str], *, domain: str = "", **attrs: float) -> str: ...

    def scalar(self, value: float) -> str: ...


BP_DOMAIN = "ai.bp"  # the domain of bp's local ONNX functions


def _linear_nodes(g: Graph, p: Params, H: str) -> str:
    slope = float(p["slope"])
    return H if slope == 1.0 else g.node("Mul", [H, g.scalar(slope)])


ONNX: dict[str, Callable[[Graph, Params, str], str]] = {
    "linear": _linear_nodes,
    "sigmoid": lambda g, p, H: g.node("Sigmoid", [H]),
    "tanh": lambda g, p, H: g.node("Tanh", [H]),
    "relu": lambda g, p, H: g.node("Relu", [H]),
    # ONNX's own LeakyRelu takes alpha as a 32-bit attribute; bp's is a float64.
    "leaky_relu": lambda g, p, H: g.node(
        "LeakyRelu", [H, g.scalar(float(p["alpha"]))], domain=BP_DOMAIN
    ),
    "softplus": lambda g, p, H: g.node("Softplus", [H], domain=BP_DOMAIN),
    "softmax": lambda g, p, H: g.node("Softmax", [H], axis=-1),
}

# Local functions of domain BP_DOMAIN: (inputs, (op, inputs, output) rows), each
# also given the constants `zero` and `one` in H's element type; the output is Y.
# leaky_relu(H) = H where H > 0, else alpha * H (as numpy's where).
LEAKY_RELU_FUNCTION: list[tuple[str, list[str], str]] = [
    ("Greater", ["H", "zero"], "positive"),
    ("Mul", ["alpha", "H"], "scaled"),
    ("Where", ["positive", "H", "scaled"], "Y"),
]

# softplus(H) = max(H, 0) + log1p(exp(-|H|)), as numpy's logaddexp(0, H); ONNX has
# no Log1p, so log1p(x) = x where 1 + x rounds to 1, else log(1 + x) * x / ((1 + x) - 1)
# (Goldberg 1991: exact to a few ulps, unlike log(1 + x)). (op, inputs, output) rows.
SOFTPLUS_FUNCTION: list[tuple[str, list[str], str]] = [
    ("Max", ["H", "zero"], "positive"),
    ("Abs", ["H"], "magnitude"),
    ("Neg", ["magnitude"], "negative"),
    ("Exp", ["negative"], "x"),
    ("Add", ["one", "x"], "u"),
    ("Sub", ["u", "one"], "u_minus_1"),
    ("Log", ["u"], "log_u"),
    ("Mul", ["log_u", "x"], "log_u_x"),
    ("Div", ["log_u_x", "u_minus_1"], "corrected"),
    ("Equal", ["u_minus_1", "zero"], "rounds_to_1"),
    ("Where", ["rounds_to_1", "x", "corrected"], "log1p"),
    ("Add", ["positive", "log1p"], "Y"),
]

ONNX_FUNCTIONS: dict[str, tuple[list[str], list[tuple[str, list[str], str]]]] = {
    "LeakyRelu": (["H", "alpha"], LEAKY_RELU_FUNCTION),
    "Softplus": (["H"], SOFTPLUS_FUNCTION),
}

# The loss of a batch summed over its rows (bp averages over the batch afterwards).
# (expression, the output activation it is evaluated from H(K) for, or None).
LOSS_SUMS: dict[str, tuple[str, str | None]] = {
    "sse": ("0.5 * ((Y - T) ** 2).sum()", None),
    "mse": ("((Y - T) ** 2).sum() / T.shape[1]", None),
    "cross_entropy": ("(T * (torch.logsumexp(H, dim=1, keepdim=True) - H)).sum()", "softmax"),
    "bce": ("(torch.logaddexp(torch.zeros_like(H), H) - T * H).sum() / T.shape[1]", "sigmoid"),
}
