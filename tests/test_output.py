"""Output discipline (issue 5 item 7): results on stdout, the rest on stderr, no escape
codes when piped or with NO_COLOR, one JSON document under --json, narrow terminals."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from installed import installed_bp
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
TINY = str(ROOT / "configs" / "tiny.yaml")
ESCAPE = re.compile(r"\x1b")


def bp_command() -> list[str]:
    installed = installed_bp()
    return [installed] if installed else [sys.executable, "-m", "cli"]


def run_bp(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    if "NO_COLOR" not in env:
        full_env.pop("NO_COLOR", None)
    return subprocess.run(
        [*bp_command(), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def test_installed_bp_piped_has_no_escape_codes() -> None:
    result = run_bp("train", TERM="xterm-256color")
    assert result.returncode == 0, result.stderr
    assert "final loss" in result.stdout
    assert not ESCAPE.search(result.stdout + result.stderr)


def test_installed_bp_with_no_color_has_no_escape_codes() -> None:
    result = run_bp("train", "configs/tiny-all.yaml", NO_COLOR="1", FORCE_COLOR="")
    assert result.returncode == 1
    assert not ESCAPE.search(result.stdout + result.stderr)
    assert result.stderr.startswith("error: training diverged at epoch")


def test_no_color_on_a_terminal_has_no_escape_codes() -> None:
    pty = pytest.importorskip("pty")
    main, child = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "NO_COLOR": "1", "COLUMNS": "100"}
    proc = subprocess.Popen([*bp_command(), "train"], stdout=child, stderr=child, env=env)
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    assert b"final loss" in out
    assert b"\x1b" not in out


JSON_COMMANDS = [
    ["train", "--json"],
    ["train", "configs/tiny-all.yaml", "--json"],  # diverges: still one document, exit 1
    ["grads", "--json"],
    ["show", "--json"],
    ["check", "--json"],
    ["gradcheck", "--json"],
    ["predict", TINY, "--input", "2", "--json"],
    ["explain", "--weight", "xh1", "--json"],
    ["explain", "--weight", "xh1", "--format", "json"],
    ["schema"],
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=" ".join)
def test_json_stdout_is_exactly_one_document(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)  # raises on anything else on stdout
    assert isinstance(doc, dict)
    assert result.stdout.strip().startswith("{") and result.stdout.strip().endswith("}")
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout


def test_json_errors_are_one_stderr_line_and_nothing_on_stdout() -> None:
    for args in (
        ["train", "--json", "--set", "training.eta=-1"],
        ["grads", "--json", "--set", "loss=l2"],
        ["gradcheck", "--json", "--set", "network.inputs=0"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")


def test_check_json_lists_problems_on_stdout_and_errors_on_stderr() -> None:
    result = runner.invoke(
        app, ["check", "--json", "--set", "training.eta=0", "--set", "training.epochs=0"]
    )
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["summary"] is None
    assert [p["key"] for p in doc["problems"]] == ["training.eta", "training.epochs"]
    assert doc["problems"][0] == {
        "message": "--set training.eta=0: training.eta: expected a number > 0, got 0",
        "file": "--set training.eta=0",
        "line": None,
        "key": "training.eta",
        "detail": "expected a number > 0, got 0",
    }
    assert result.stderr.splitlines() == [f"error: {p['message']}" for p in doc["problems"]]


def test_check_json_summary() -> None:
    result = runner.invoke(app, ["check", "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and doc["problems"] == [] and doc["warnings"] == []
    s = doc["summary"]
    assert [(x["units"], x["activation"], x["bias"]) for x in s["layers"]] == [
        (1, "linear(slope=2)", False),
        (2, "linear(slope=2)", False),
        (1, "linear(slope=2)", False),
    ]
    assert (s["inputs"], s["parameters"], s["rows"], s["validation_rows"], s["frozen"]) == (
        1,
        5,
        1,
        0,
        4,
    )


def test_check_warns_on_stderr_when_batch_is_larger_than_the_data() -> None:
    result = runner.invoke(app, ["check", "--set", "training.batch_size=8"])
    assert result.exit_code == 0
    assert result.stdout == (
        "built-in tiny.yaml: ok (network 1-1-2-1, 5 weights, loss sse, 1 training row)\n"
    )
    assert result.stderr == (
        "warning: batch_size 8 is larger than the 1 training rows; "
        "training will use the full batch\n"
    )


def test_quiet_train_prints_nothing_on_success() -> None:
    result = runner.invoke(app, ["train", "--quiet"])
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""


def readable_at_40(text: str) -> bool:
    return max(len(line) for line in text.splitlines()) <= 40 and "…" not in text


NARROW_OK = [
    ["gradcheck"],
    ["explain", "--weight", "xh1"],
    ["train"],
    ["train", "--grads"],
    ["grads"],
    ["show"],
    ["predict", "configs/iris.yaml", "--input", "5,3,1,0.2"],
]


@pytest.mark.parametrize("args", NARROW_OK, ids=" ".join)
def test_tables_are_readable_at_40_columns(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, args, env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.output
    assert readable_at_40(result.stdout), result.stdout


def documented_keys() -> dict[str, set[str]]:
    """Top-level keys per command from the tables of docs/json-output.md."""
    text = (ROOT / "docs" / "json-output.md").read_text(encoding="utf-8")
    out: dict[str, set[str]] = {}
    for section in text.split("\n## ")[1:]:
        command = section.split("`")[1].split()[1]
        keys = out.setdefault(command, set())
        for line in section.splitlines():
            if line.startswith("| `"):
                keys |= set(re.findall(r"`(\w+)`", line.split("|")[1]))
    return out


DOCUMENTED_RUNS = [
    ("train", ["train", "--json"]),
    ("train", ["train", "configs/tiny-all.yaml", "--json"]),
    ("train", ["train", "configs/iris.yaml", "--epochs", "2", "--json"]),
    ("grads", ["grads", "--json"]),
    ("show", ["show", "--json"]),
    ("check", ["check", "--json"]),
    ("gradcheck", ["gradcheck", "--json"]),
    ("predict", ["predict", "configs/iris.yaml", "--input", "5,3,1,0.2", "--json"]),
    ("predict", ["predict", "configs/iris.yaml", "--data", "configs/data/iris.csv", "--json"]),
    ("explain", ["explain", "--weight", "xh1", "--json"]),
    (
        "explain",
        ["explain", "tests/data/handouts/softmax.yaml", "-w", "hy11", "--jacobian", "--json"],
    ),
    ("grade", ["grade", "docs/grading-answers.yaml", "--json"]),
]


@pytest.mark.parametrize(
    ("command", "args"), DOCUMENTED_RUNS, ids=[" ".join(a) for _, a in DOCUMENTED_RUNS]
)
def test_json_keys_are_documented(
    command: str, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    keys = set(json.loads(result.stdout))
    documented = documented_keys()[command]
    assert keys <= documented, f"undocumented keys: {sorted(keys - documented)}"
    always = {
        "train": {"status", "epochs_run", "losses", "final_loss", "weights"},
        "gradcheck": {"ok", "max_abs_error", "max_rel_error", "weights"},
        "grads": {"loss", "weights"},
    }.get(command, set())
    assert always <= keys


def test_docs_list_no_key_the_documents_lack(monkeypatch: pytest.MonkeyPatch) -> None:
    """Between them the documented runs produce every key docs/json-output.md lists
    (cli/render/json_documents.py builds them all)."""
    monkeypatch.chdir(ROOT)
    produced: dict[str, set[str]] = {}
    for command, args in DOCUMENTED_RUNS:
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), result.output
        produced.setdefault(command, set()).update(json.loads(result.stdout))
    # `bp schema` prints the config's JSON Schema, not a document with keys
    documented = {command: keys for command, keys in documented_keys().items() if keys}
    assert documented == produced
