"""`bp predict` on trained checkpoints and `bp init` templates, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from typer.testing import CliRunner

from backprop_core.config.load import load_config
from backprop_core.config.templates import TEMPLATES
from backprop_core.run.experiment import load_experiment
from backprop_core.run.predict import load_model
from cli.app import app

runner = CliRunner()
CONFIGS = Path(__file__).resolve().parent.parent / "configs"
IRIS_CSV = CONFIGS / "data" / "iris.csv"
SPECIES = ["setosa", "versicolor", "virginica"]


def bp(*args: str) -> object:
    return runner.invoke(app, list(args), env={"COLUMNS": "160", "NO_COLOR": "1"})


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """iris, xor and sine trained briefly and saved (accuracy is not the point here)."""
    folder = tmp_path_factory.mktemp("trained")
    out = {}
    for name, epochs in (("iris", "60"), ("xor", "500"), ("sine", "50")):
        path = folder / f"{name}.yaml"
        result = bp(
            "train",
            str(CONFIGS / f"{name}.yaml"),
            "--epochs",
            epochs,
            "--save",
            str(path),
            "--quiet",
        )
        assert result.exit_code == 0, result.output
        out[name] = path
    return out


def forward(saved: Path, X: np.ndarray) -> np.ndarray:
    """The saved model's outputs computed by hand from its stored statistics."""
    experiment = load_experiment(saved)
    scaling = experiment.config.network.standardization
    if scaling is not None:
        X = (X - np.array(scaling.mean)) / np.array(scaling.std)
    return experiment.network.predict(X)


def test_classifier_gives_class_and_probabilities(trained: dict[str, Path]) -> None:
    rows = [[5.1, 3.5, 1.4, 0.2], [6.5, 3.0, 5.5, 1.8]]
    result = bp(
        "predict",
        str(trained["iris"]),
        "--input",
        "5.1,3.5,1.4,0.2",
        "-i",
        " 6.5, 3.0 ,5.5,1.8",
        "--json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    Y = forward(trained["iris"], np.array(rows))
    assert doc["inputs"] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert doc["classes"] == SPECIES
    assert [p["row"] for p in doc["predictions"]] == [1, 2]
    assert [p["inputs"] for p in doc["predictions"]] == rows
    assert_allclose([p["outputs"] for p in doc["predictions"]], Y, rtol=1e-15, atol=0)
    assert [p["class"] for p in doc["predictions"]] == [SPECIES[i] for i in Y.argmax(axis=1)]
    assert [p["class"] for p in doc["predictions"]] == ["setosa", "virginica"]
    for p, y in zip(doc["predictions"], Y, strict=True):
        assert p["probabilities"] == dict(zip(SPECIES, y.tolist(), strict=True))
    assert "loss" not in doc


def test_predict_on_a_csv_matches_columns_by_name_and_scores_targets(
    trained: dict[str, Path],
) -> None:
    result = bp("predict", str(trained["iris"]), "--data", str(IRIS_CSV), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = doc["predictions"]
    assert len(rows) == 150
    assert rows[0]["line"] == 6 and rows[-1]["line"] == 155  # 4 comment lines, a header
    assert rows[0]["target"] == "setosa" and rows[-1]["target"] == "virginica"
    table = np.loadtxt(IRIS_CSV, delimiter=",", comments="#", skiprows=5, usecols=range(4))
    Y = forward(trained["iris"], table)
    truth = np.repeat(np.arange(3), 50)
    assert doc["accuracy"] == float(np.mean(Y.argmax(axis=1) == truth))
    expected_loss = float(-np.mean(np.log(Y[np.arange(150), truth])))
    assert doc["loss"] == pytest.approx(expected_loss, rel=1e-12)
    text = bp("predict", str(trained["iris"]), "--data", str(IRIS_CSV))
    assert text.exit_code == 0, text.output
    right = round(doc["accuracy"] * 150)
    assert text.stdout.splitlines()[-1] == (
        f"loss {doc['loss']:.8g} on 150 rows, accuracy {100 * doc['accuracy']:.1f}% ({right}/150)"
    )


def test_columns_in_another_order_and_extra_columns_are_fine(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    data = tmp_path / "new.csv"
    data.write_text(
        "id,petal_width,petal_length,sepal_width,sepal_length\n7,0.2,1.4,3.5,5.1\n",
        encoding="utf-8",
    )
    doc = json.loads(bp("predict", str(trained["iris"]), "--data", str(data), "--json").stdout)
    assert doc["predictions"][0]["inputs"] == [5.1, 3.5, 1.4, 0.2]
    assert doc["predictions"][0]["class"] == "setosa"
    assert "loss" not in doc and "target" not in doc["predictions"][0]


def test_sigmoid_classifier_and_regression_outputs(trained: dict[str, Path]) -> None:
    doc = json.loads(
        bp(
            "predict",
            str(trained["xor"]),
            "-i",
            "0,0",
            "-i",
            "0,1",
            "-i",
            "1,0",
            "-i",
            "1,1",
            "--json",
        ).stdout
    )
    assert doc["classes"] == ["0", "1"]
    assert [p["class"] for p in doc["predictions"]] == ["0", "1", "1", "0"]
    for p in doc["predictions"]:
        y = p["outputs"][0]
        assert p["probabilities"] == {"0": 1.0 - y, "1": y}
    sine = json.loads(bp("predict", str(trained["sine"]), "-i", "1.5", "-i", "-3", "--json").stdout)
    assert sine["classes"] is None and sine["outputs"] == ["y"]
    assert "class" not in sine["predictions"][0]
    assert_allclose(
        [p["outputs"] for p in sine["predictions"]],
        forward(trained["sine"], np.array([[1.5], [-3.0]])),
        rtol=1e-15,
        atol=0,
    )


def test_an_untrained_config_takes_statistics_and_classes_from_its_data() -> None:
    model = load_model(load_config(CONFIGS / "iris.yaml"))
    data = load_experiment(CONFIGS / "iris.yaml").data
    assert model.classes == SPECIES
    assert model.mean is not None and data.mean is not None
    assert_array_equal(model.mean, data.mean)


def test_positional_csv_for_a_model_without_column_names(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    good = tmp_path / "xs.csv"
    good.write_text("a,b\n0,1\n1,1\n", encoding="utf-8")
    doc = json.loads(bp("predict", str(trained["xor"]), "--data", str(good), "--json").stdout)
    assert [p["class"] for p in doc["predictions"]] == ["1", "0"]
    bad = tmp_path / "wide.csv"
    bad.write_text("# c\na,b,c\n0,1,2\n", encoding="utf-8")
    result = bp("predict", str(trained["xor"]), "--data", str(bad))
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: {bad}:2: expected 2 column(s) (network.inputs), got 3: a, b, c\n"
    )


def test_predict_errors(trained: dict[str, Path], tmp_path: Path) -> None:
    iris = str(trained["iris"])
    rose = tmp_path / "rose.csv"
    rose.write_text(
        IRIS_CSV.read_text(encoding="utf-8").replace(
            "6.4,3.2,4.5,1.5,versicolor", "6.4,3.2,4.5,1.5,rose"
        ),
        encoding="utf-8",
    )
    short = tmp_path / "short.csv"
    short.write_text("sepal_length,sepal_width,petal_lenght\n1,2,3\n", encoding="utf-8")
    cases = [
        (
            ["--input", "1,2"],
            "--input 1,2: expected 4 comma-separated value(s) (network.inputs), got 2",
        ),
        (["--input", "1,2,x,4"], "--input 1,2,x,4: value 3: expected a number, got 'x'"),
        (
            ["--input", "1,2,nan,4"],
            "--input 1,2,nan,4: value 3: expected a finite number, got 'nan'",
        ),
        (["--input", "1,2,3,4", "--data", str(rose)], "give --input or --data, not both"),
        ([], "nothing to predict: give --input X1,X2,... (repeatable) or --data FILE.csv"),
        (
            ["--data", str(rose)],
            f"{rose}:57: column 'species': unknown class 'rose'; expected one of "
            "setosa, versicolor, virginica",
        ),
        (
            ["--data", str(short)],
            f"{short}:1: no column 'petal_length' (did you mean 'petal_lenght'?); its columns: "
            "sepal_length, sepal_width, petal_lenght; the model's inputs: sepal_length, "
            "sepal_width, petal_length, petal_width",
        ),
        (["--data", str(tmp_path / "none.csv")], f"{tmp_path / 'none.csv'}: no such file"),
    ]
    for args, message in cases:
        result = bp("predict", iris, *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr == f"error: {message}\n", args
        assert result.stdout == ""


# --- bp init ------------------------------------------------------------------------


def test_init_lists_every_template() -> None:
    for args in (["init"], ["init", "--list"]):
        result = bp(*args)
        assert result.exit_code == 0, result.output
        names = [
            line.split("│")[1].strip()
            for line in result.stdout.splitlines()
            if line.startswith("│") and line.split("│")[1].strip()
        ]
        assert names == [
            "tiny",
            "tiny-all",
            "xor",
            "spiral",
            "iris",
            "sine",
            "csv",
            "csv-classifier",
        ]
    assert list(TEMPLATES) == names


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_init_writes_the_shipped_config_and_it_loads(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = bp("init", name)
    assert result.exit_code == 0, result.output
    written = tmp_path / f"{name}.yaml"
    assert written.read_bytes() == (CONFIGS / f"{name}.yaml").read_bytes()
    assert result.stdout == ""  # status notes go to stderr
    assert result.stderr.splitlines()[0] == f"wrote {name}.yaml"
    assert result.stderr.splitlines()[-1] == f"next: bp train {name}.yaml"
    experiment = load_experiment(written)  # its data file came along, where it looks
    assert experiment.data.n > 0


def test_init_writes_data_beside_the_config(tmp_path: Path) -> None:
    result = bp("init", "iris", str(tmp_path))  # a folder: iris.yaml inside it
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "iris.csv").read_bytes() == IRIS_CSV.read_bytes()
    assert result.stderr.splitlines()[:2] == [
        f"wrote {tmp_path / 'iris.yaml'}",
        f"wrote {tmp_path / 'data' / 'iris.csv'}",
    ]


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    target.write_text("precious\n", encoding="utf-8")
    result = bp("init", "xor", str(target))
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {target}: already exists; use --force to overwrite it\n"
    assert target.read_text(encoding="utf-8") == "precious\n"
    forced = bp("init", "xor", str(target), "--force")
    assert forced.exit_code == 0, forced.output
    assert target.read_bytes() == (CONFIGS / "xor.yaml").read_bytes()


def test_init_refuses_before_writing_anything(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "iris.csv").write_text("mine\n", encoding="utf-8")
    result = bp("init", "iris", str(tmp_path / "iris.yaml"))
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: {tmp_path / 'data' / 'iris.csv'}: already exists; use --force to overwrite it\n"
    )
    assert not (tmp_path / "iris.yaml").exists()
    assert (tmp_path / "data" / "iris.csv").read_text(encoding="utf-8") == "mine\n"


def test_init_unknown_template_and_missing_folder(tmp_path: Path) -> None:
    result = bp("init", "spiarl")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "error: unknown template 'spiarl' (did you mean 'spiral'?); "
        "templates: tiny, tiny-all, xor, spiral, iris, sine, csv, csv-classifier\n"
    )
    missing = tmp_path / "no" / "x.yaml"
    result = bp("init", "tiny", str(missing))
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {missing}: cannot write: the folder does not exist\n"
