"""`bp export --to onnx` and `bp import`: onnxruntime's outputs are `bp predict`'s.

Every shipped config and seeded random networks (every activation, with and
without biases and standardization), in float64 (to 1e-12) and float32 (1e-6);
export -> import -> export gives the same model; graphs bp cannot read are
refused with one line naming the first node it cannot.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from numpy.testing import assert_allclose
from typer.testing import CliRunner, Result

from backprop_core import DISTRIBUTION
from backprop_core.config.load import load_config
from backprop_core.engine.activations import ACTIVATIONS
from backprop_core.export.onnx_export import onnx_model
from backprop_core.run.predict import load_model, predict
from cli.app import app

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
helper = onnx.helper

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
SHIPPED = sorted(CONFIGS.glob("*.yaml"))
TOLERANCE = {"float64": 1e-12, "float32": 1e-6}
runner = CliRunner()


def bp(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "160", "NO_COLOR": "1"})


def run_onnx(path_or_proto: Path | object, X: np.ndarray) -> np.ndarray:
    data = (
        path_or_proto.read_bytes()
        if isinstance(path_or_proto, Path)
        else path_or_proto.SerializeToString()
    )
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})[0]


def inputs(width: int, seed: int = 0) -> np.ndarray:
    """Rows across several scales, zeros included (relu's kink, softplus's middle)."""
    X = np.random.default_rng(seed).normal(size=(40, width)) * np.geomspace(0.1, 30, 40)[:, None]
    X[0] = 0.0
    return X


def random_config(seed: int, precision: str) -> dict:
    """A random network: 1-3 hidden layers of random activations, random weights."""
    rng = np.random.default_rng(seed)
    units = [int(u) for u in rng.integers(1, 6, size=rng.integers(2, 5))]
    hidden = [a for a in ACTIVATIONS if a != "softmax"]
    layers = []
    for k in range(1, len(units)):
        name = str(rng.choice(hidden)) if k < len(units) - 1 else str(rng.choice([*hidden, "x"]))
        activation: dict = {"name": name}
        if name == "linear":
            activation["slope"] = float(rng.choice([1.0, rng.normal()]))
        if name == "leaky_relu":
            activation["alpha"] = float(rng.uniform(0, 0.5))
        bias = bool(rng.integers(2))
        layer = {"units": units[k], "activation": activation, "bias": bias}
        layer["weights"] = rng.normal(size=(units[k - 1], units[k])).tolist()
        if bias:
            layer["biases"] = rng.normal(size=units[k]).tolist()
        layers.append(layer)
    loss = "sse"
    if layers[-1]["activation"]["name"] == "x":  # a softmax classifier
        layers[-1]["activation"] = {"name": "softmax"}
        loss = "cross_entropy"
    network: dict = {"inputs": units[0], "layers": layers}
    if rng.integers(2):
        network["standardization"] = {
            "mean": rng.normal(size=units[0]).tolist(),
            "std": rng.uniform(0.5, 2, size=units[0]).tolist(),
        }
    outputs = units[-1]
    target = [1.0 / outputs] * outputs
    return {
        "network": network,
        "loss": loss,
        "data": {"inputs": [[0.0] * units[0]], "targets": [target]},
        "training": {"precision": precision},
    }


def write_config(folder: Path, name: str, doc: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("config", SHIPPED, ids=lambda p: p.stem)
def test_shipped_configs_run_in_onnxruntime_as_bp_predicts(config: Path, precision: str) -> None:
    model = load_model(load_config(config, [f"training.precision={precision}"]))
    X = inputs(model.network.inputs).astype(model.network.dtype)  # the inputs both see
    expected = predict(model, X).Y
    got = run_onnx(onnx_model(model), X)
    assert got.dtype == model.network.dtype
    tol = TOLERANCE[precision]
    assert_allclose(got, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_random_networks_run_in_onnxruntime_as_bp_predicts(tmp_path: Path, precision: str) -> None:
    seen = set()
    for seed in range(20):
        config = write_config(tmp_path, f"r{seed}.yaml", random_config(seed, precision))
        model = load_model(load_config(config))
        seen.update(layer.activation.name for layer in model.network.layers)
        X = inputs(model.network.inputs, seed)
        X = X.astype(model.network.dtype)  # the inputs both see
        got = run_onnx(onnx_model(model), X)
        tol = TOLERANCE[precision]
        assert_allclose(got, predict(model, X).Y, rtol=tol, atol=tol, err_msg=f"seed {seed}")
    assert seen == set(ACTIVATIONS)  # the seeds cover every activation


def test_bp_export_then_bp_predict_equal_onnxruntime(tmp_path: Path) -> None:
    trained = tmp_path / "iris.yaml"
    result = bp("train", str(CONFIGS / "iris.yaml"), "--epochs", "30", "--save", str(trained))
    assert result.exit_code == 0, result.output
    out = tmp_path / "iris.onnx"
    result = bp("export", str(trained), "--to", "onnx", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == f"wrote {out}"
    rows = ["5.1,3.5,1.4,0.2", "6.7,3.0,5.2,2.3", "5.9,3.0,4.2,1.5"]
    result = bp("predict", str(trained), *(a for r in rows for a in ("--input", r)), "--json")
    assert result.exit_code == 0, result.output
    outputs = [row["outputs"] for row in json.loads(result.stdout)["predictions"]]
    X = np.array([[float(v) for v in r.split(",")] for r in rows])
    assert_allclose(run_onnx(out, X), outputs, rtol=1e-12, atol=1e-12)
    model = onnx.load(str(out))
    assert [o.version for o in model.opset_import if o.domain == ""] == [17]
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    props = {p.key: p.value for p in model.metadata_props}
    assert props["bp.loss"] == "cross_entropy"
    assert json.loads(props["bp.classes"]) == ["setosa", "versicolor", "virginica"]
    assert [n.op_type for n in model.graph.node] == [
        "Sub", "Div", "Gemm", "Tanh", "Gemm", "Softmax", "Identity"
    ]  # fmt: skip


def export_import_export(tmp_path: Path, config: Path) -> tuple[bytes, bytes]:
    first = onnx_model(load_model(load_config(config)))
    path = tmp_path / "m.onnx"
    path.write_bytes(first.SerializeToString())
    result = bp("import", str(path), "-o", str(tmp_path / "imported.yaml"))
    assert result.exit_code == 0, result.output
    second = onnx_model(load_model(load_config(tmp_path / "imported.yaml")))
    return first.SerializeToString(), second.SerializeToString()


@pytest.mark.parametrize("config", SHIPPED, ids=lambda p: p.stem)
def test_export_import_export_is_the_same_model(tmp_path: Path, config: Path) -> None:
    first, second = export_import_export(tmp_path, config)
    assert first == second


def test_export_import_export_of_random_networks(tmp_path: Path) -> None:
    for seed in range(12):
        precision = ("float64", "float32")[seed % 2]
        config = write_config(tmp_path, "r.yaml", random_config(seed, precision))
        first, second = export_import_export(tmp_path, config)
        assert first == second, f"seed {seed}"


def test_imported_config_explains_and_keeps_the_outputs(tmp_path: Path) -> None:
    export_import_export(tmp_path, CONFIGS / "xor.yaml")
    imported = tmp_path / "imported.yaml"
    doc = yaml.safe_load(imported.read_text())
    assert doc["loss"] == "bce" and doc["network"]["classes"] == ["0", "1"]
    assert doc["data"] == {"inputs": [[0.0, 0.0]], "targets": [[0.5]]}  # zero weights' bias: 0.5
    result = bp("explain", str(imported), "--weight", "w1_1_1")
    assert result.exit_code == 0, result.output


def foreign_model(nodes: list, initializers: list, width: int = 3, outputs: int = 2) -> object:
    """A float32 model as another tool writes one (opset 17)."""
    graph = helper.make_graph(
        nodes,
        "foreign",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["n", width])],
        [helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["n", outputs])],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def constant(name: str, shape: tuple[int, ...], seed: int) -> object:
    array = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    return onnx.numpy_helper.from_array(array, name)


def test_a_foreign_model_imports_with_its_outputs(tmp_path: Path) -> None:
    """Gemm with transB (torch.nn.Linear's layout), MatMul + Add, native Softplus, Relu."""
    model = foreign_model(
        [
            helper.make_node("Gemm", ["input", "w0", "b0"], ["h0"], transB=1, name="fc1"),
            helper.make_node("Relu", ["h0"], ["a0"]),
            helper.make_node("MatMul", ["a0", "w1"], ["m1"]),
            helper.make_node("Add", ["m1", "b1"], ["h1"]),
            helper.make_node("Softplus", ["h1"], ["a1"]),
            helper.make_node("MatMul", ["a1", "w2"], ["output"]),
        ],
        [
            constant("w0", (4, 3), 1),  # (out, in): transposed
            constant("b0", (4,), 2),
            constant("w1", (4, 5), 3),
            constant("b1", (5,), 4),
            constant("w2", (5, 2), 5),
        ],
    )
    path = tmp_path / "foreign.onnx"
    onnx.save(model, str(path))
    result = bp("import", str(path), "-o", str(tmp_path / "f.yaml"))
    assert result.exit_code == 0, result.output
    imported = load_model(load_config(tmp_path / "f.yaml"))
    layers = imported.network.layers
    assert [(ly.units, ly.activation.name, ly.bias) for ly in layers] == [
        (4, "relu", True),
        (5, "softplus", True),
        (2, "linear", False),
    ]
    assert imported.network.dtype == np.float32 and imported.network.loss == "sse"
    X = inputs(3).astype(np.float32)
    assert_allclose(predict(imported, X).Y, run_onnx(path, X), rtol=1e-5, atol=1e-5)


REFUSED = {
    "a Conv first": (
        [helper.make_node("Conv", ["input", "w0"], ["output"], name="conv1")],
        "node 1 Conv (conv1) is not supported",
    ),
    "an Erf after a layer": (
        [
            helper.make_node("MatMul", ["input", "w0"], ["h0"]),
            helper.make_node("Erf", ["h0"], ["output"]),
        ],
        "node 2 Erf is not supported",
    ),
    "an Erf after a layer whose weights are a Constant node (counted)": (
        [
            helper.make_node("Constant", [], ["c"], value=constant("c", (3, 2), 1)),
            helper.make_node("MatMul", ["input", "c"], ["h0"]),
            helper.make_node("Erf", ["h0"], ["output"], name="erf"),
        ],
        "node 3 Erf (erf) is not supported",
    ),
    "weights that are not constants": (
        [helper.make_node("MatMul", ["input", "input"], ["output"])],
        "node 1 MatMul is not supported",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_unsupported_graphs_are_refused_naming_the_first_node(tmp_path: Path, case: str) -> None:
    nodes, where = REFUSED[case]
    path = tmp_path / "bad.onnx"
    onnx.save(foreign_model(nodes, [constant("w0", (3, 2), 0)]), str(path))
    result = bp("import", str(path), "-o", str(tmp_path / "out.yaml"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}: {where}: bp imports Gemm or MatMul+Add layers, each followed by "
        "one of Mul, Sigmoid, Tanh, Relu, LeakyRelu, Softplus, Softmax or nothing\n"
    )
    assert not (tmp_path / "out.yaml").exists()


def test_a_file_that_is_not_onnx_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "x.onnx"
    path.write_text("not a model")
    result = bp("import", str(path), "-o", str(tmp_path / "out.yaml"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: not a valid ONNX model: ")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args", [["export", "--to", "onnx", "-o", "m.onnx"], ["import", "m.onnx", "-o", "c.yaml"]]
)
def test_without_the_onnx_extra_one_line_names_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str]
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    monkeypatch.chdir(tmp_path)
    result = bp(*args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: onnx is not installed; install it with: pip install '{DISTRIBUTION}[onnx]'\n"
    )


def test_install_hints_name_the_distribution_and_extras_of_pyproject() -> None:
    """One constant names the distribution (a rename changes it once) and the extras exist."""
    from backprop_core.export.extras import EXTRAS

    pyproject = (CONFIGS.parent / "pyproject.toml").read_text()
    assert re.search(r'^name = "(.+)"$', pyproject, re.M)[1] == DISTRIBUTION  # type: ignore[index]
    extras = re.search(r"^\[project.optional-dependencies\]\n(.*?)\n\[", pyproject, re.M | re.S)
    assert extras is not None
    declared = set(re.findall(r"^(\w+) = \[", extras[1], re.M))
    assert {*EXTRAS.values(), "plot"} <= declared


def test_every_activation_record_has_one_onnx_operator_of_its_own() -> None:
    from backprop_core.export.operators import activation_of_onnx_op

    for name, record in ACTIVATIONS.items():
        assert activation_of_onnx_op(record.onnx_op) == name


@pytest.mark.parametrize("to", ["pytorch", "onnx"])
def test_an_output_in_a_missing_folder_is_one_line(tmp_path: Path, to: str) -> None:
    out = tmp_path / "missing" / "out"
    result = bp("export", "--to", to, "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr == f"error: {out}: cannot write: the folder does not exist\n"


def test_dash_is_stdout_for_export_and_stdin_for_import(tmp_path: Path) -> None:
    exported = runner.invoke(app, ["export", str(CONFIGS / "xor.yaml"), "--to", "onnx", "-o", "-"])
    assert exported.exit_code == 0 and exported.stderr == ""
    model = onnx.load_from_string(exported.stdout_bytes)
    assert model.graph.output[0].name == "Y"
    imported = runner.invoke(app, ["import", "-", "-o", "-"], input=exported.stdout_bytes)
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("# Imported by `bp import` from <stdin>.")
    assert yaml.safe_load(imported.stdout)["name"] == "xor"
    script = runner.invoke(app, ["export", "--to", "pytorch", "-o", "-"])
    assert script.exit_code == 0
    assert script.stdout.startswith('"""Train "tiny" with PyTorch exactly as bp trains it.')
    csv = bp("export", str(CONFIGS / "csv.yaml"), "--to", "pytorch", "-o", "-")
    path = (CONFIGS / "data" / "regression.csv").resolve()  # where stdout goes is unknown
    assert f"DATA_FILE = Path({str(path)!r})\n" in csv.stdout
    beside = bp("export", str(CONFIGS / "spiral.yaml"), "--to", "pytorch", "-o", "-")
    assert beside.exit_code == 2
    assert beside.stderr == (
        "error: -o -: this script reads its data from a file written beside it "
        "(train_bp.data.npz); give a file name\n"
    )
