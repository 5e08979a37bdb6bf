"""`bp import`: an ONNX network of dense layers as a bp config, so bp can explain it.

Accepted: one input, one output, an optional standardization (Sub then Div by
constants), then per layer a Gemm (or a MatMul, optionally followed by an Add
of a bias) whose weights are constants, then one of bp's activations as its
record's `onnx_op` (none: linear). Identity and Cast nodes are skipped. The
first node outside that pattern is named, by its position in the graph, in a
one-line error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.engine.activations import ACTIVATIONS, Activation
from backprop_core.engine.network import Layer, Network
from backprop_core.errors import ConfigError
from backprop_core.export.extras import require
from backprop_core.export.operators import BP_DOMAIN, activation_of_onnx_op

LAYER_OPS = ("Gemm", "MatMul")
# Nodes that leave the numbers as they are (for bp: a Cast changes only the precision).
PASS_THROUGH = ("Identity", "Cast")
# The loss a network without bp's metadata gets, by its output activation.
DEFAULT_LOSS = {"softmax": "cross_entropy", "sigmoid": "bce"}


@dataclass
class Imported:
    """A network read from ONNX, with what bp's config needs besides the weights."""

    network: Network
    precision: str
    mean: NDArray[np.float64] | None = None
    std: NDArray[np.float64] | None = None
    name: str = ""
    classes: list[str] | None = None


class _Walk:
    """The graph as a chain: follow the one consumer of each value from the input on."""

    def __init__(self, model: Any, label: str) -> None:
        numpy_helper = require("onnx").numpy_helper
        graph = model.graph
        self.label = label
        self.constants: dict[str, NDArray[Any]] = {
            t.name: numpy_helper.to_array(t) for t in graph.initializer
        }
        # Positions count every node of the graph, as a viewer such as Netron lists them.
        self.position: dict[int, int] = {}
        self.nodes = []
        for position, node in enumerate(graph.node, start=1):
            if node.op_type == "Constant" and not node.domain and node.attribute:
                value = node.attribute[0]
                if value.name == "value":
                    self.constants[node.output[0]] = numpy_helper.to_array(value.t)
                    continue
                if value.name in ("value_float", "value_int"):
                    self.constants[node.output[0]] = np.array(value.f or value.i)
                    continue
            self.nodes.append(node)
            self.position[id(node)] = position
        inputs = [v for v in graph.input if v.name not in self.constants]
        if len(inputs) != 1 or len(graph.output) != 1:
            raise self.error(
                f"expected one input and one output, got {len(inputs)} and {len(graph.output)}"
            )
        self.input, self.output = inputs[0], graph.output[0].name
        self.value = self.input.name

    def error(self, message: str) -> ConfigError:
        return ConfigError(message, file=self.label)

    def next(self) -> Any | None:
        """The node that reads the current value (None at the graph's output)."""
        readers = [n for n in self.nodes if self.value in n.input]
        if not readers and self.value == self.output:
            return None
        if len(readers) != 1:
            raise self.error(
                f"value {self.value!r} is read by {len(readers)} nodes; "
                "bp imports a chain of layers"
            )
        if readers[0].op_type in PASS_THROUGH and not readers[0].domain:
            self.advance(readers[0])
            return self.next()
        return readers[0]

    def unsupported(self, node: Any) -> ConfigError:
        domain = f"{node.domain}." if node.domain else ""
        name = f" ({node.name})" if node.name else ""
        return self.error(
            f"node {self.position[id(node)]} {domain}{node.op_type}{name} is not supported: "
            "bp imports Gemm or MatMul+Add layers, each followed by one of "
            f"{', '.join(r.onnx_op for r in ACTIVATIONS.values())} or nothing"
        )

    def constant_of(self, node: Any) -> NDArray[Any] | None:
        """The constant operand of a two-input node whose other operand is the chain's value."""
        if len(node.input) != 2 or node.input[0] != self.value:
            return None
        return self.constants.get(node.input[1])

    def advance(self, node: Any) -> None:
        self.value = node.output[0]


def read_file(path: Path) -> bytes:
    if not path.is_file():
        raise ConfigError("no such file" if not path.exists() else "not a file", file=str(path))
    return path.read_bytes()


def read_onnx(data: bytes, label: str, name: str) -> Imported:
    """The network of an ONNX model's bytes; `label` names it in errors, `name` if it has none."""
    onnx = require("onnx")
    try:
        model = onnx.load_from_string(data)
        onnx.checker.check_model(model)
    except Exception as e:  # onnx raises several types for a damaged file
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"not a valid ONNX model: {first}", file=label) from None
    walk = _Walk(model, label)
    elem = walk.input.type.tensor_type.elem_type
    precision = {onnx.TensorProto.DOUBLE: "float64", onnx.TensorProto.FLOAT: "float32"}.get(elem)
    if precision is None:
        raise walk.error(f"input {walk.input.name!r} is not float or double")
    metadata = {p.key: p.value for p in model.metadata_props}
    mean, std = _standardization(walk)
    layers: list[Layer] = []
    W: dict[int, NDArray[Any]] = {}
    b: dict[int, NDArray[Any]] = {}
    node = walk.next()
    while node is not None:
        k = len(layers) + 1
        W[k], bias = _dense(walk, node, W[k - 1].shape[1] if k > 1 else None)
        if bias is not None:
            b[k] = bias
        activation = _activation(walk)
        layers.append(Layer(W[k].shape[1], activation, bias is not None))
        node = walk.next()
    if not layers:
        raise walk.error("no layers: the input goes straight to the output")
    out = layers[-1].activation.name
    loss = metadata.get("bp.loss") or DEFAULT_LOSS.get(out, "sse")
    inputs = W[1].shape[0]
    classes = json.loads(metadata["bp.classes"]) if "bp.classes" in metadata else None
    return Imported(
        Network(inputs, tuple(layers), loss, W, b),
        precision,
        mean,
        std,
        metadata.get("bp.name", name),
        classes,
    )


def _standardization(walk: _Walk) -> tuple[NDArray[Any] | None, NDArray[Any] | None]:
    first = walk.next()
    if first is None or first.op_type != "Sub" or first.domain:
        return None, None
    mean = walk.constant_of(first)
    if mean is None:
        raise walk.unsupported(first)
    walk.advance(first)
    second = walk.next()
    std = walk.constant_of(second) if second is not None and second.op_type == "Div" else None
    if second is None or std is None:
        raise walk.unsupported(second if second is not None else first)
    walk.advance(second)
    return np.ravel(mean).astype(np.float64), np.ravel(std).astype(np.float64)


def _attrs(node: Any) -> dict[str, Any]:
    helper = require("onnx").helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _dense(
    walk: _Walk, node: Any, fan_in: int | None
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """(W, b) of a Gemm, or of a MatMul and the Add after it, that reads the chain's value."""
    if node.domain or node.op_type not in LAYER_OPS:
        raise walk.unsupported(node)
    a = _attrs(node)
    ok = node.input[0] == walk.value and node.input[1] in walk.constants
    if node.op_type == "Gemm":
        ok = ok and a.get("transA", 0) == 0 and a.get("alpha", 1.0) == 1.0
        ok = ok and (len(node.input) < 3 or node.input[2] in walk.constants)
    if not ok:
        raise walk.unsupported(node)
    W = np.asarray(walk.constants[node.input[1]], dtype=np.float64)
    if node.op_type == "Gemm" and a.get("transB", 0):
        W = W.T
    bias = None
    if node.op_type == "Gemm" and len(node.input) > 2 and node.input[2]:
        bias = np.asarray(walk.constants[node.input[2]], dtype=np.float64) * a.get("beta", 1.0)
    walk.advance(node)
    if node.op_type == "MatMul":
        after = walk.next()
        if after is not None and after.op_type == "Add" and not after.domain:
            bias = walk.constant_of(after)
            if bias is None:
                raise walk.unsupported(after)
            walk.advance(after)
    if W.ndim != 2 or (fan_in is not None and W.shape[0] != fan_in):
        raise walk.unsupported(node)
    if bias is not None:
        bias = np.broadcast_to(np.ravel(bias), (W.shape[1],)).astype(np.float64)
    return W, bias


def _activation(walk: _Walk) -> Activation:
    """The activation after a layer (none: linear), its parameters from constant inputs.

    ONNX's own operators of the same name (LeakyRelu with an alpha attribute,
    Softplus) are read too, as other tools write them.
    """
    node = walk.next()
    if node is None or (node.op_type in LAYER_OPS and not node.domain):
        return Activation("linear")
    name = activation_of_onnx_op(node.op_type) if node.domain in ("", BP_DOMAIN) else None
    if name is None or node.input[0] != walk.value:
        raise walk.unsupported(node)
    record = ACTIVATIONS[name]
    operands = list(node.input[1:])
    if len(operands) > len(record.parameters):
        raise walk.unsupported(node)
    attrs = _attrs(node)
    params: dict[str, float] = {}
    for i, param in enumerate(record.parameters):
        if i < len(operands):
            value = walk.constants.get(operands[i])
            if value is None or value.size != 1:
                raise walk.unsupported(node)
            params[param] = float(np.ravel(value)[0])
        else:
            params[param] = float(attrs.get(param, record.parameters[param]))
    if name == "softmax" and attrs.get("axis", -1) not in (-1, 1):
        raise walk.unsupported(node)
    walk.advance(node)
    return Activation(name, params)


def config_document(imported: Imported) -> dict[str, Any]:
    """A bp config of the imported network: its weights inline, one placeholder data row."""
    network = imported.network
    layers = []
    for k, layer in enumerate(network.layers, start=1):
        act = layer.activation
        entry: dict[str, Any] = {
            "units": layer.units,
            "activation": {"name": act.name, **act.params} if act.params else act.name,
            "bias": layer.bias,
            "weights": network.W[k].tolist(),
        }
        if layer.bias:
            entry["biases"] = network.b[k].tolist()
        layers.append(entry)
    net: dict[str, Any] = {"inputs": network.inputs, "layers": layers}
    if imported.mean is not None and imported.std is not None:
        net["standardization"] = {"mean": imported.mean.tolist(), "std": imported.std.tolist()}
    if imported.classes is not None:
        net["classes"] = imported.classes
    X = np.zeros((1, network.inputs))
    if imported.mean is not None:
        X = imported.mean[None, :].copy()
    scaled = X if imported.mean is None else (X - imported.mean) / imported.std
    with np.errstate(all="ignore"):
        Y = network.forward(scaled).Y
    return {
        **({"name": imported.name} if imported.name else {}),
        "seed": 0,
        "network": net,
        "loss": network.loss,
        # bp needs data to explain or train: one row (the mean input) and the
        # model's own output as its target. Replace them with your rows.
        "data": {"inputs": X.tolist(), "targets": Y.tolist()},
        "training": {"precision": imported.precision},
    }


def onnx_to_config(data: bytes, label: str, name: str) -> str:
    """An ONNX model's bytes as bp config YAML; `label` names the model in errors and in
    the header, `name` becomes the config's name where the model carries none."""
    import yaml

    doc = config_document(read_onnx(data, label, name))
    header = (
        f"# Imported by `bp import` from {label}. data: one placeholder row (the model's\n"
        "# own output as its target); replace it with your training rows.\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, default_flow_style=None)
