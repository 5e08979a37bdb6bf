"""Data sources (CSV, .npz, generators), the split, standardization and data errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from typer.testing import CliRunner

from backprop_core.config.load import load_config
from backprop_core.data.description import DataDescription
from backprop_core.data.load import load_data
from backprop_core.errors import DataError
from cli.app import app

runner = CliRunner()

# Lines: data.file is line 12, its path line 13, its targets line 14.
TEMPLATE = """\
name: t
seed: 0
network:
  inputs: {inputs}
  layers:
    - units: 3
      activation: tanh
    - units: {outputs}
      activation: {act}
loss: {loss}
data:
{data}
"""


def write_config(
    folder: Path,
    data: str,
    *,
    inputs: int = 2,
    outputs: int = 1,
    act: str = "linear",
    loss: str = "mse",
) -> Path:
    path = folder / "run.yaml"
    path.write_text(
        TEMPLATE.format(inputs=inputs, outputs=outputs, act=act, loss=loss, data=data),
        encoding="utf-8",
    )
    return path


def csv_data(name: str = "t.csv", targets: str = "[y]", more: str = "") -> str:
    return f"  file:\n    path: {name}\n    targets: {targets}\n{more}"


def load(path: Path) -> object:
    return load_data(load_config(path))


# --- what loads ------------------------------------------------------------------


def test_csv_columns_by_name_comments_blank_lines_and_quotes(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        '\ufeff# a citation line\n# another\n\na , b,y\n1,2,3\n\n 4.5 ,"-6",7e-1\n',
        encoding="utf-8",
    )
    data = load(write_config(tmp_path, csv_data()))
    assert_array_equal(data.X, [[1.0, 2.0], [4.5, -6.0]])
    assert_array_equal(data.T, [[3.0], [0.7]])
    assert data.input_names == ["a", "b"] and data.target_names == ["y"]
    assert data.classes is None


def test_targets_default_to_the_last_column_and_inputs_can_be_chosen(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b,c,y\n1,2,3,4\n5,6,7,8\n", encoding="utf-8")
    data = load(write_config(tmp_path, "  file: {path: t.csv, inputs: [c, a]}"))
    assert_array_equal(data.X, [[3.0, 1.0], [7.0, 5.0]])
    assert_array_equal(data.T, [[4.0], [8.0]])


def test_label_column_is_one_hot_with_sorted_class_names(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        "a,b,kind\n0,0,pear\n1,0,apple\n0,1,fig\n1,1,apple\n", encoding="utf-8"
    )
    path = write_config(
        tmp_path, csv_data(targets="kind"), outputs=3, act="softmax", loss="cross_entropy"
    )
    data = load(path)
    assert data.classes == ["apple", "fig", "pear"]
    assert_array_equal(data.T, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])


def test_numeric_labels_sort_by_value(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b,k\n0,0,10\n1,0,2\n0,1,1\n", encoding="utf-8")
    path = write_config(
        tmp_path, csv_data(targets="k"), outputs=3, act="softmax", loss="cross_entropy"
    )
    assert load(path).classes == ["1", "2", "10"]


def test_two_named_classes_with_one_sigmoid_output(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b,y\n0,0,no\n1,0,yes\n0,1,yes\n", encoding="utf-8")
    data = load(write_config(tmp_path, csv_data(), act="sigmoid", loss="bce"))
    assert data.classes == ["no", "yes"]
    assert_array_equal(data.T, [[0.0], [1.0], [1.0]])


def test_npz_with_numbers_and_with_labels(tmp_path: Path) -> None:
    X = np.array([[0.5, 1.0], [2.0, -1.0], [3.0, 0.0]])
    np.savez(tmp_path / "t.npz", X=X, T=np.array([1.0, 2.0, 3.0]))
    data = load(write_config(tmp_path, "  file: {path: t.npz}"))
    assert_array_equal(data.X, X)
    assert_array_equal(data.T, [[1.0], [2.0], [3.0]])
    np.savez(tmp_path / "t.npz", X=X, T=np.array(["b", "a", "c"]))
    path = write_config(
        tmp_path, "  file: {path: t.npz}", outputs=3, act="softmax", loss="cross_entropy"
    )
    data = load(path)
    assert data.classes == ["a", "b", "c"]
    assert_array_equal(data.T, [[0, 1, 0], [1, 0, 0], [0, 0, 1]])


def test_generated_classes_become_a_01_column_or_one_hot(tmp_path: Path) -> None:
    block = "  generate: {name: xor, samples: 8, noise: 0.0}"
    xor = load(write_config(tmp_path, block, act="sigmoid", loss="bce"))
    assert set(xor.T[:, 0].tolist()) == {0.0, 1.0}
    assert_array_equal(xor.T[:, 0], np.logical_xor(xor.X[:, 0] > 0.5, xor.X[:, 1] > 0.5))
    spiral = load(
        write_config(
            tmp_path,
            "  generate: {name: spiral, samples: 30, classes: 3}",
            outputs=3,
            act="softmax",
            loss="cross_entropy",
        )
    )
    assert spiral.classes == ["0", "1", "2"]
    assert_array_equal(spiral.T.sum(axis=0), [10, 10, 10])


def test_validation_split_is_seeded_stratified_and_disjoint(tmp_path: Path) -> None:
    labels = ["a"] * 10 + ["b"] * 20 + ["c"] * 30
    rows = "".join(f"{i},{i * 2},{label}\n" for i, label in enumerate(labels))
    (tmp_path / "t.csv").write_text("a,b,k\n" + rows, encoding="utf-8")
    path = write_config(
        tmp_path,
        csv_data(targets="k", more="  validation: 0.2\n"),
        outputs=3,
        act="softmax",
        loss="cross_entropy",
    )
    first, again = load(path), load(path)
    assert first.X_val is not None and first.T_val is not None
    assert_array_equal(first.T_val.sum(axis=0), [2, 4, 6])  # 20% of each class
    assert_array_equal(first.X_val, again.X_val)
    held = set(first.X_val[:, 0].tolist())
    trained = set(first.X[:, 0].tolist())
    assert held.isdisjoint(trained) and held | trained == set(map(float, range(60)))


def test_standardization_uses_training_rows_only(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i * i},{i % 2}\n" for i in range(20))
    (tmp_path / "t.csv").write_text("a,b,y\n" + rows, encoding="utf-8")
    plain = load(write_config(tmp_path, csv_data(more="  validation: 0.25\n")))
    data = load(write_config(tmp_path, csv_data(more="  validation: 0.25\n  standardize: true\n")))
    assert data.mean is not None and data.std is not None
    assert_allclose(data.mean, plain.X.mean(axis=0), rtol=1e-15, atol=0)
    assert_allclose(data.std, plain.X.std(axis=0), rtol=1e-15, atol=0)
    assert_allclose(data.X.mean(axis=0), 0.0, atol=1e-14)
    assert_allclose(data.X.std(axis=0), 1.0, rtol=1e-14)
    assert plain.X_val is not None and data.X_val is not None
    assert_allclose(data.X_val, (plain.X_val - data.mean) / data.std, rtol=1e-15, atol=0)


def test_a_constant_column_keeps_std_one(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b,y\n1,5,0\n2,5,1\n3,5,0\n", encoding="utf-8")
    data = load(write_config(tmp_path, csv_data(more="  standardize: true\n")))
    assert data.std is not None
    assert_array_equal(data.std[1], 1.0)
    assert_array_equal(data.X[:, 1], 0.0)


# --- what is refused, and how it is said ------------------------------------------

IRIS_LIKE = "a,b,y\n1,2,3\n4,5,6\n"


def npz_bytes(**arrays: object) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


CLASSIFIER = {"outputs": 2, "act": "softmax", "loss": "cross_entropy"}

# (id, files, data block, config options, expected stderr after "error: ")
BAD_DATA = [
    (
        "non-numeric cell",
        {"t.csv": "a,b,y\n1,2,3\n4,abc,6\n"},
        csv_data(),
        {},
        "t.csv:3: column 'b': expected a number, got 'abc'",
    ),
    (
        "empty cell",
        {"t.csv": "a,b,y\n1,,3\n"},
        csv_data(),
        {},
        "t.csv:2: column 'b': expected a number, got an empty cell",
    ),
    (
        "nan",
        {"t.csv": "a,b,y\n1,2,3\nnan,2,3\n"},
        csv_data(),
        {},
        "t.csv:3: column 'a': expected a finite number, got 'nan'",
    ),
    (
        "infinite target",
        {"t.csv": "a,b,y\n1,2,-inf\n"},
        csv_data(),
        {},
        "t.csv:2: column 'y': expected a finite number, got '-inf'",
    ),
    (
        "ragged row",
        {"t.csv": "# note\na,b,y\n1,2,3\n4,5\n"},
        csv_data(),
        {},
        "t.csv:4: expected 3 values (one per header column), got 2",
    ),
    (
        "empty file",
        {"t.csv": ""},
        csv_data(),
        {},
        "t.csv: empty file; expected a header row naming the columns",
    ),
    ("header only", {"t.csv": "a,b,y\n"}, csv_data(), {}, "t.csv: no data rows after the header"),
    (
        "duplicate header",
        {"t.csv": "a,a,y\n1,2,3\n"},
        csv_data(),
        {},
        "t.csv:1: column 'a' appears twice in the header",
    ),
    (
        "unnamed header column",
        {"t.csv": "a,,y\n1,2,3\n"},
        csv_data(),
        {},
        "t.csv:1: header column 2 has no name",
    ),
    (
        "missing target column",
        {"t.csv": IRIS_LIKE},
        csv_data(targets="[z]"),
        {},
        "run.yaml:14: data.file.targets[0]: no column 'z' in t.csv; its columns: a, b, y",
    ),
    (
        "misspelt input column",
        {"t.csv": IRIS_LIKE},
        csv_data(more="    inputs: [a, bb]\n"),
        {},
        "run.yaml:15: data.file.inputs[1]: no column 'bb' in t.csv (did you mean 'b'?); "
        "its columns: a, b, y",
    ),
    (
        "input is also target",
        {"t.csv": IRIS_LIKE},
        csv_data(more="    inputs: [a, y]\n"),
        {},
        "run.yaml:15: data.file.inputs[1]: column 'y' is both an input and a target",
    ),
    (
        "too many input columns",
        {"t.csv": "a,b,c,y\n1,2,3,4\n"},
        csv_data(),
        {},
        "run.yaml:12: data.file: t.csv has 3 input column(s) (a, b, c), but network.inputs is 2",
    ),
    (
        "too many target columns",
        {"t.csv": "a,b,y,z\n1,2,3,4\n"},
        csv_data(targets="[y, z]"),
        {},
        "run.yaml:12: data.file: expected 1 target value(s) per row (the output layer's "
        "units), got 2 (y, z)",
    ),
    ("missing file", {}, csv_data(name="nothere.csv"), {}, "nothere.csv: no such file"),
    (
        "not UTF-8",
        {"t.csv": b"a,b,y\n1,2,\xff\n"},
        csv_data(),
        {},
        "t.csv:2: not UTF-8 text (byte 10)",
    ),
    (
        "unknown suffix",
        {"t.xlsx": "x"},
        csv_data(name="t.xlsx"),
        {},
        "run.yaml:13: data.file.path: expected a .csv or .npz file, got 't.xlsx'",
    ),
    (
        "empty label",
        {"t.csv": "a,b,y\n1,2,u\n1,2,\n"},
        csv_data(),
        CLASSIFIER,
        "t.csv:3: column 'y': expected a class label, got an empty cell",
    ),
    (
        "more classes than outputs",
        {"t.csv": "a,b,y\n1,2,u\n1,2,v\n3,4,w\n"},
        csv_data(),
        CLASSIFIER,
        "t.csv: column 'y': found 3 classes (u, v, w), but the output layer has 2 "
        "unit(s), which means 2 classes",
    ),
    (
        "unknown class for a trained model",
        {"t.csv": "a,b,y\n1,2,u\n1,2,w\n"},
        csv_data(more="network_classes"),
        CLASSIFIER,
        "t.csv:3: column 'y': unknown class 'w'; expected one of u, v",
    ),
    (
        "npz without T",
        {"t.npz": npz_bytes(X=np.ones((2, 2)), Y=np.ones(2))},
        "  file: {path: t.npz}",
        {},
        "t.npz: missing array 'T' (X: inputs, T: targets); the file holds X, Y",
    ),
    (
        "npz NaN",
        {"t.npz": npz_bytes(X=np.array([[1, 2], [3, np.nan]]), T=np.ones(2))},
        "  file: {path: t.npz}",
        {},
        "t.npz: X[1, 1]: expected a finite number, got nan",
    ),
    (
        "npz infinite target",
        {"t.npz": npz_bytes(X=np.ones((2, 2)), T=np.array([1, np.inf]))},
        "  file: {path: t.npz}",
        {},
        "t.npz: T[1, 0]: expected a finite number, got inf",
    ),
    (
        "npz rows differ",
        {"t.npz": npz_bytes(X=np.ones((3, 2)), T=np.ones(2))},
        "  file: {path: t.npz}",
        {},
        "run.yaml:12: data.file: expected 3 target rows (one per input row), got 2",
    ),
    (
        "npz wrong width",
        {"t.npz": npz_bytes(X=np.ones((3, 4)), T=np.ones(3))},
        "  file: {path: t.npz}",
        {},
        "run.yaml:12: data.file: t.npz has 4 input column(s), but network.inputs is 2",
    ),
    (
        "npz columns by name",
        {"t.npz": npz_bytes(X=np.ones((3, 2)), T=np.ones(3))},
        "  file: {path: t.npz, targets: [y]}",
        {},
        "run.yaml:12: data.file.targets: choosing columns by name works for CSV files only",
    ),
    (
        "npz text inputs",
        {"t.npz": npz_bytes(X=np.array([["a", "b"]]), T=np.ones(1))},
        "  file: {path: t.npz}",
        {},
        "t.npz: array X holds <U1, expected numbers",
    ),
    (
        "generator width",
        {},
        "  generate: {name: sine}",
        {},
        "run.yaml:12: data.generate.name: generator 'sine' makes 1 input(s) per row, "
        "but network.inputs is 2",
    ),
    (
        "generator classes",
        {},
        "  generate: {name: spiral, classes: 4}",
        CLASSIFIER,
        "run.yaml:12: data.generate.classes: generator 'spiral' makes 4 classes, but the "
        "output layer has 2 units (use 4 softmax outputs)",
    ),
    (
        "too many samples",
        {},
        "  generate: {name: moons, samples: 100000000}",
        {},
        "run.yaml:12: data.generate.samples: expected at most 1,000,000 samples",
    ),
    (
        "huge class count fails fast",
        {},
        "  generate: {name: spiral, classes: 1000000000}",
        CLASSIFIER,
        "run.yaml:12: data.generate.classes: generator 'spiral' makes 1000000000 "
        "classes, but the output layer has 2 units (use 1000000000 softmax outputs)",
    ),
    (
        "file name too long",
        {},
        csv_data(name="a" * 300 + ".csv"),
        {},
        "a" * 300 + ".csv: cannot read: File name too long",
    ),
    (
        "inline ragged",
        {},
        "  inputs: [[1, 2], [3]]\n  targets: [1, 2]",
        {},
        "run.yaml:12: data.inputs[1]: ragged rows: expected 2 values, got 1",
    ),
    (
        "inline label in regression",
        {},
        "  inputs: [[1, 2], [3, 4]]\n  targets: [1, x]",
        {},
        "run.yaml:13: data.targets[1][0]: expected a number, got 'x'",
    ),
    (
        "bce target outside [0, 1]",
        {"t.csv": "a,b,y\n1,2,0\n4,5,2\n"},
        csv_data(),
        {"act": "sigmoid", "loss": "bce"},
        "t.csv:3: column 'y': bce targets must lie in [0, 1], got 2",
    ),
    (
        "cross_entropy row that is not a distribution",
        {},
        "  inputs: [[1, 2], [3, 4]]\n  targets: [[1, 0], [1, 1]]",
        CLASSIFIER,
        "run.yaml:13: data.targets[1]: cross_entropy targets must sum to 1 in each row, got 2",
    ),
    (
        "negative cross_entropy target",
        {},
        "  inputs: [[1, 2], [3, 4]]\n  targets: [[1, 0], [-0.5, 1.5]]",
        CLASSIFIER,
        "run.yaml:13: data.targets[1][0]: cross_entropy targets must not be negative, got -0.5",
    ),
    (
        "inline unknown class",
        {},
        "  inputs: [[1, 2], [3, 4]]\n  targets: [u, w]\nnetwork_classes",
        CLASSIFIER,
        "run.yaml:14: data.targets[1][0]: unknown class 'w'; expected one of u, v",
    ),
]


@pytest.mark.parametrize(
    ("files", "data", "options", "expected"),
    [case[1:] for case in BAD_DATA],
    ids=[case[0] for case in BAD_DATA],
)
def test_bad_data_is_one_located_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str | bytes],
    data: str,
    options: dict[str, object],
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        target = tmp_path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    data = data.replace("network_classes", "")
    path = write_config(tmp_path, data, **options)  # type: ignore[arg-type]
    if "unknown class" in expected:
        # A trained model knows its classes: appended to the network section.
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("loss:", "  classes: [u, v]\nloss:"), encoding="utf-8")
    result = runner.invoke(app, ["train", "run.yaml", "--epochs", "1"])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {expected}\n"
    assert result.stdout == ""


def test_the_table_has_at_least_30_cases() -> None:
    assert len(BAD_DATA) >= 30


def test_data_errors_are_data_errors_with_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b,y\n1,2,3\n1,2,three\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load(write_config(tmp_path, csv_data()))
    assert caught.value.line == 3
    assert caught.value.key == "column 'y'"
    assert caught.value.file == str(tmp_path / "t.csv")


def test_stored_class_names_must_name_each_output(tmp_path: Path) -> None:
    block = "  inputs: [[1, 2]]\n  targets: [u]"
    path = write_config(tmp_path, block, **CLASSIFIER)  # type: ignore[arg-type]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("loss:", "  classes: [u, u]\nloss:"), encoding="utf-8")
    result = runner.invoke(app, ["train", str(path), "--epochs", "1"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: {path}:10: network.classes: expected 2 distinct class names "
        "(the output layer has 2 unit(s)), got 2 with repeats\n"
    )


def test_a_description_scales_new_rows_as_the_training_rows_were() -> None:
    X = np.array([[1.0, 10.0], [3.0, 30.0]])
    assert DataDescription().scale(X) is X  # not standardized: rows pass as they are
    described = DataDescription(mean=np.array([2.0, 20.0]), std=np.array([1.0, 10.0]))
    assert_array_equal(described.scale(X), [[-1.0, -1.0], [1.0, 1.0]])
