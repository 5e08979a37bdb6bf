"""The CI example (docs/ci-example.sh, docs/github-actions.yml, shown in docs/ci.md) runs
as written, on every matrix entry."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from installed import env_with_bp, installed_bp

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "ci-example.sh"

pytestmark = pytest.mark.skipif(installed_bp() is None, reason="needs the installed bp")


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The script with `args`, in `folder`."""
    return run_sh(folder, str(SCRIPT), *args)


def run_sh(folder: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", *argv],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env_with_bp(NO_COLOR="1"),
    )


def test_example_passes_on_the_xor_template(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "xor.yaml: ok (network 2-2-1, 9 weights, loss bce, 4 training rows)" in lines
    assert re.fullmatch(r"gradients ok: max relative error \d\.\de-\d\d", lines[-2]), lines
    assert re.fullmatch(r"training completed after 500 epochs, final loss 0\.\d+", lines[-1])
    run_doc = json.loads((tmp_path / "run.json").read_text())
    assert run_doc["final_loss"] <= 0.01
    assert json.loads((tmp_path / "gradcheck.json").read_text())["ok"] is True
    assert (tmp_path / "trained.yaml").exists()


def test_example_stops_with_exit_1_when_training_diverges(tmp_path: Path) -> None:
    shutil.copy(ROOT / "configs" / "tiny-all.yaml", tmp_path / "run.yaml")
    result = run(tmp_path, "run.yaml")
    assert result.returncode == 1
    assert "error: training diverged at epoch" in result.stderr
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "diverged"
    assert "gradients ok" not in result.stdout  # the summary never ran


def test_example_stops_with_exit_2_on_a_bad_config(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "network: {inputs: 0, layers: [{units: 1}]}\ndata: {inputs: [1], targets: [1]}\n"
    )
    result = run(tmp_path, "bad.yaml")
    assert result.returncode == 2
    assert result.stderr == (
        "error: bad.yaml:1: network.inputs: expected a positive integer, got 0\n"
    )
    assert not (tmp_path / "gradcheck.json").exists()


def test_docs_show_the_script_and_the_workflow_verbatim() -> None:
    doc = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    assert SCRIPT.read_text() in re.findall(r"```sh\n(.*?)```", doc, flags=re.S)
    assert WORKFLOW.read_text() in re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)


WORKFLOW = ROOT / "docs" / "github-actions.yml"


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _matrix() -> list[dict[str, str]]:
    return list(_workflow()["jobs"]["gate"]["strategy"]["matrix"]["include"])


def _run_line(entry: dict[str, str]) -> str:
    """The workflow's `sh docs/ci-example.sh ...` step with this entry's values filled in."""
    steps = _workflow()["jobs"]["gate"]["steps"]
    line = next(s["run"] for s in steps if s.get("run", "").startswith("sh docs/ci-example.sh"))
    return re.sub(r"\$\{\{ matrix\.(\w+) \}\}", lambda m: entry[m.group(1)], line)


def test_github_actions_installs_from_the_checkout() -> None:
    runs = [s.get("run", "") for s in _workflow()["jobs"]["gate"]["steps"]]
    install = next(r for r in runs if "pip install" in r)
    assert install.split("#")[0].split() == ["python", "-m", "pip", "install", "."]
    assert len(_matrix()) >= 2


@pytest.mark.parametrize("entry", _matrix(), ids=lambda e: e["config"])
def test_github_actions_matrix_entry_passes(tmp_path: Path, entry: dict[str, str]) -> None:
    # A checkout: the script and the configs with their data, at the same paths.
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("pictures"))
    result = run_sh(tmp_path, "-c", _run_line(entry))
    assert result.returncode == 0, result.stdout + result.stderr
    run_doc = json.loads((tmp_path / "run.json").read_text())
    assert run_doc["final_loss"] <= float(entry["max_loss"])
    assert (tmp_path / "trained.yaml").exists()
