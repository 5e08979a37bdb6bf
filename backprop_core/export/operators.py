"""Activations and losses in PyTorch and ONNX, read from the engine's records.

Each `ActivationRecord` says how export writes it (`torch`, `onnx_op`,
`onnx_body`) and each `LossRecord` its batch sum in PyTorch (`torch_sum`); this
module turns those fields into script text and graph nodes, so a new activation
is exported by filling in its record.
"""

from __future__ import annotations

from typing import Any, Protocol

from backprop_core.engine.activations import ACTIVATIONS, Activation
from backprop_core.engine.losses import LOSSES

BP_DOMAIN = "ai.bp"  # the domain of bp's local ONNX functions


def torch_expression(activation: Activation, H: str) -> str:
    """phi(H) in PyTorch, the parameters written exactly (repr of a float)."""
    params = {k: repr(float(v)) for k, v in activation.params.items()}
    return activation.record.torch.format(H=H, **params)


def torch_loss_sum(loss: str) -> str:
    return LOSSES[loss].torch_sum


class Graph(Protocol):
    """What building an activation's nodes needs of the graph (see `onnx_export`)."""

    def node(self, op: str, inputs: list[str], *, domain: str = "", **attrs: Any) -> str: ...

    def scalar(self, value: float) -> str: ...


def onnx_nodes(g: Graph, activation: Activation, H: str) -> str:
    """Add phi(H) to the graph: the record's operator, its parameters as constant inputs.

    Returns the name of the output. Where the record has an `onnx_body`, the
    operator is bp's local function of that name (see `onnx_function_body`).
    """
    record = activation.record
    constants = [g.scalar(float(activation.params[p])) for p in record.parameters]
    domain = BP_DOMAIN if record.onnx_body else ""
    return g.node(record.onnx_op, [H, *constants], domain=domain)


def onnx_function(op: str) -> tuple[list[str], tuple[tuple[str, tuple[str, ...], str], ...]]:
    """(inputs, body rows) of bp's local function `op`: H, then the parameters."""
    for record in ACTIVATIONS.values():
        if record.onnx_op == op and record.onnx_body:
            return ["H", *record.parameters], record.onnx_body
    raise KeyError(op)


def activation_of_onnx_op(op: str) -> str | None:
    """The activation an ONNX operator computes (bp's own, or ONNX's of the same name)."""
    for record in ACTIVATIONS.values():
        if record.onnx_op == op:
            return record.name
    return None
