"""`bp export --to onnx`: the trained network as an ONNX graph for inference.

One input ``X`` (raw inputs, in the model's precision), one output ``Y`` equal
to `bp predict`'s ``outputs``: the input standardization as the first nodes
(Sub, Div; in float64 as bp scales, between Casts for a float32 model), then
per layer a Gemm (MatMul without a bias) and the activation's nodes
(from its record, `operators.onnx_nodes`). The loss, class names and config name ride along as
metadata, so `bp import` restores them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core import __version__
from backprop_core.atomic import write_bytes
from backprop_core.export.extras import require
from backprop_core.export.operators import BP_DOMAIN, onnx_function, onnx_nodes
from backprop_core.run.predict import Model

OPSET = 17  # ONNX's default opset in onnx 1.12 and later; onnxruntime runs it everywhere


class OnnxGraph:
    """Nodes and constant tensors of one graph, in one element type."""

    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.functions: set[str] = set()  # bp's local functions the graph calls
        self._count = 0

    def node(
        self, op: str, inputs: list[str], *, domain: str = "", output: str = "", **attrs: Any
    ) -> str:
        helper = require("onnx").helper
        self._count += 1
        output = output or f"{op.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attrs))
        if domain == BP_DOMAIN:
            self.functions.add(op)
        return output

    def constant(self, name: str, value: NDArray[Any] | float) -> str:
        numpy_helper = require("onnx").numpy_helper
        array = np.asarray(value, dtype=self.dtype)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def scalar(self, value: float) -> str:
        self._count += 1
        return self.constant(f"c_{self._count}", value)


def onnx_model(model: Model) -> Any:
    """The `onnx.ModelProto` of `model`, checked with onnx.checker."""
    onnx = require("onnx")
    helper = onnx.helper
    network = model.network
    g = OnnxGraph(network.dtype)
    elem = helper.np_dtype_to_tensor_dtype(network.dtype)
    A = "X"
    if model.mean is not None and model.std is not None:
        # In float64, as bp scales raw inputs, then in the network's precision.
        scaling = OnnxGraph(np.dtype(np.float64))
        if network.dtype != np.float64:
            A = g.node("Cast", [A], output="X_double", to=onnx.TensorProto.DOUBLE)
        A = g.node("Sub", [A, scaling.constant("mean", model.mean)], output="centred")
        A = g.node("Div", [A, scaling.constant("std", model.std)], output="standardized")
        g.initializers += scaling.initializers
        if network.dtype != np.float64:
            A = g.node("Cast", [A], output="scaled", to=elem)
    for k, layer in enumerate(network.layers, start=1):
        W = g.constant(f"W{k}", network.W[k])
        if k in network.b:
            H = g.node("Gemm", [A, W, g.constant(f"b{k}", network.b[k])], output=f"H{k}")
        else:
            H = g.node("MatMul", [A, W], output=f"H{k}")
        A = onnx_nodes(g, layer.activation, H)
    g.node("Identity", [A], output="Y")
    graph = helper.make_graph(
        g.nodes,
        model.loaded.config.name or "bp",
        [helper.make_tensor_value_info("X", elem, ["rows", network.inputs])],
        [helper.make_tensor_value_info("Y", elem, ["rows", network.units[-1]])],
        g.initializers,
    )
    opsets = [helper.make_opsetid("", OPSET)]
    functions = [_function(name) for name in sorted(g.functions)]
    if functions:
        opsets.append(helper.make_opsetid(BP_DOMAIN, 1))
    onnx_model = helper.make_model(
        graph,
        opset_imports=opsets,
        functions=functions,
        producer_name="bp",
        producer_version=__version__,
        doc_string=f"{model.loaded.config.name or 'bp'}: exported by bp {__version__}",
    )
    metadata = {"bp.loss": network.loss, "bp.name": model.loaded.config.name or ""}
    if model.classes is not None:
        metadata["bp.classes"] = json.dumps(model.classes)
    helper.set_model_props(onnx_model, metadata)
    onnx.checker.check_model(onnx_model, full_check=True)
    return onnx_model


def _function(name: str) -> Any:
    """One of bp's local functions (an activation record's onnx_body), for any float type."""
    helper = require("onnx").helper
    inputs, rows = onnx_function(name)
    nodes = [
        helper.make_node("Constant", [], ["zero_f"], value_float=0.0),
        helper.make_node("CastLike", ["zero_f", "H"], ["zero"]),
        helper.make_node("Constant", [], ["one_f"], value_float=1.0),
        helper.make_node("CastLike", ["one_f", "H"], ["one"]),
    ]
    nodes += [helper.make_node(op, list(ins), [out]) for op, ins, out in rows]
    return helper.make_function(
        BP_DOMAIN, name, inputs, ["Y"], nodes, [helper.make_opsetid("", OPSET)]
    )


def export_onnx(model: Model, path: Path) -> list[Path]:
    write_bytes(path, onnx_model(model).SerializeToString())
    return [path]
