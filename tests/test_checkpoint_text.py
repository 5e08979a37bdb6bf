"""`--save` keeps the user's file: comments, key order, block style; data paths relative
to the checkpoint (issue 16)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from backprop_core.config.load import load_config
from cli.app import app

ROOT = Path(__file__).resolve().parent.parent


def bp(*args: str) -> object:
    return CliRunner().invoke(app, list(args), env={"NO_COLOR": "1"})


def comments(text: str) -> list[str]:
    return [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]


def keys(text: str) -> list[str]:
    return [line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha()]


def test_save_keeps_comments_key_order_and_block_style(tmp_path: Path) -> None:
    original = (ROOT / "configs" / "csv.yaml").read_text()
    saved = tmp_path / "trained.yaml"
    result = bp("train", str(ROOT / "configs" / "csv.yaml"), "-q", "--save", str(saved))
    assert result.exit_code == 0, result.output
    text = saved.read_text()
    assert text.startswith("# Saved by bp ")
    kept = comments(text)
    # Every comment survives except the one on data.standardize (the key is replaced by
    # the saved statistics).
    lost = [c for c in comments(original) if c not in kept]
    assert len(lost) == 1 and "scale inputs" in lost[0], lost
    assert keys(text) == [*keys(original), "trained"]
    assert "  file:\n    path: " in text  # a block stays a block, not {path: ..., ...}
    assert "\n    - units: 16\n      activation: tanh\n" in text
    assert "\n  standardization:\n    mean: [" in text


def test_flow_weights_stay_flow_and_a_second_save_keeps_one_header(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert bp("train", "-q", "--save", str(first)).exit_code == 0
    assert "      weights: [[0.40000152587890625]]        # xh1\n" in first.read_text()
    assert bp("train", str(first), "-q", "--save", str(second)).exit_code == 0
    text = second.read_text()
    assert text.count("# Saved by bp ") == 1
    assert "  epochs: 20\n" in text  # the trained: record adds up


def test_data_path_relative_to_the_checkpoint(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    shutil.copy(ROOT / "configs" / "iris.yaml", project / "iris.yaml")
    shutil.copy(ROOT / "configs" / "data" / "iris.csv", project / "data" / "iris.csv")
    (project / "runs").mkdir()
    saved = project / "runs" / "iris.yaml"
    result = bp("train", str(project / "iris.yaml"), "-q", "--save", str(saved))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "    path: ../data/iris.csv " in saved.read_text()
    # The folder moves as a whole and still trains.
    shutil.move(project, tmp_path / "moved")
    assert load_config(tmp_path / "moved" / "runs" / "iris.yaml").config.trained is not None
    again = bp("check", str(tmp_path / "moved" / "runs" / "iris.yaml"))
    assert again.exit_code == 0, again.output


def test_an_absolute_data_path_stays_absolute(tmp_path: Path) -> None:
    csv = ROOT / "configs" / "data" / "regression.csv"
    config = tmp_path / "c.yaml"
    config.write_text(
        (ROOT / "configs" / "csv.yaml").read_text().replace("data/regression.csv", str(csv))
    )
    saved = tmp_path / "out" / "t.yaml"
    saved.parent.mkdir()
    result = bp("train", str(config), "-q", "--save", str(saved))
    assert result.exit_code == 0 and result.stderr == ""
    assert f"    path: {csv} " in saved.read_text()


def test_a_path_that_cannot_travel_is_said_in_one_line() -> None:
    from backprop_core.run.checkpoint import _relocated_for

    loaded = load_config(ROOT / "configs" / "csv.yaml")
    csv = str(ROOT / "configs" / "data" / "regression.csv")
    doc = {"data": {"file": {"path": csv}}}
    root = Path(ROOT.anchor)
    elsewhere = root / "nowhere-in-common" / "t.yaml"
    assert ROOT.parts[1] != "nowhere-in-common"
    notes: list[str] = []
    _relocated_for(doc, loaded, elsewhere, notes)
    assert doc["data"]["file"]["path"] == csv
    assert notes == [
        f"{elsewhere}: data.file.path saved as the absolute {csv} (no folder in common with "
        "the checkpoint, so a relative path would not travel with it)"
    ]
