"""CLI conventions (issue 16): --version, completion, `-` for stdin/stdout, one-line usage
errors, `wrote PATH` lines, --print-config (SIGTERM: tests/test_exit_codes.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from installed import installed_bp
from typer.testing import CliRunner

from backprop_core import __version__
from cli.app import app

ROOT = Path(__file__).resolve().parent.parent
XOR = ROOT / "configs" / "xor.yaml"
TINY = str(ROOT / "configs" / "tiny.yaml")


def bp(*args: str, input: str | None = None) -> object:
    runner = CliRunner()
    return runner.invoke(app, list(args), input=input, env={"COLUMNS": "160", "NO_COLOR": "1"})


def test_version() -> None:
    result = bp("--version")
    assert result.exit_code == 0
    assert result.stdout == f"bp {__version__}\n"


def test_completion_options_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    # Typer detects the shell from the parent process; the test names it instead.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    result = bp("--show-completion", "bash")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("_bp_completion() {")
    assert "--install-completion" in bp("--help").stdout


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["train", "--epochs", "0"],
            "error: bp train: invalid value for '--epochs': Input should be greater than or "
            "equal to 1 (see bp train --help)\n",
        ),
        (
            ["train", "--eta", "abc"],
            "error: bp train: invalid value for '--eta': Input should be a valid number, "
            "unable to parse string as a number (see bp train --help)\n",
        ),
        (["train", "--nope"], "error: bp train: no such option: --nope (see bp train --help)\n"),
        (["trian"], "error: bp: no such command 'trian'. Did you mean 'train'? (see bp --help)\n"),
        (
            ["explain"],
            "error: name a weight with --weight NAME (repeatable), or use --all; this network's "
            "weights: xh1 (w1_1_1), hh1 (w2_1_1), hh2 (w2_1_2), hy1 (w3_1_1), hy2 (w3_2_1)\n",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], line: str) -> None:
    result = bp(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == line


def test_explain_without_weight_on_a_large_network_lists_a_dozen() -> None:
    result = bp("explain", str(ROOT / "configs" / "spiral.yaml"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: name a weight with --weight NAME (repeatable), or use")
    assert result.stderr.count(" (w") == 12
    assert result.stderr.endswith(", ... (1239 more; bp show lists all)\n")


def test_config_from_stdin_dash() -> None:
    result = bp("check", "-", input=XOR.read_text())
    assert result.exit_code == 0, result.output
    assert result.stdout == "<stdin>: ok (network 2-2-1, 9 weights, loss bce, 4 training rows)\n"


def test_check_reads_dev_stdin_once() -> None:
    bp_exe = installed_bp()
    if bp_exe is None:
        pytest.skip("needs the installed bp")
    with XOR.open("rb") as f:
        result = subprocess.run(
            [bp_exe, "check", "/dev/stdin"], stdin=f, capture_output=True, text=True, check=False
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("/dev/stdin: ok (network 2-2-1")


def test_predict_data_from_stdin(tmp_path: Path) -> None:
    saved = tmp_path / "t.yaml"
    assert bp("train", "-q", "--save", str(saved)).exit_code == 0
    result = bp("predict", str(saved), "--data", "-", "--json", input="x1\n2\n")
    assert result.exit_code == 0, result.output
    assert '"line"' in result.stdout or "2" in result.stdout


def test_predict_refuses_stdin_data_over_the_limit_instead_of_cutting_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backprop_core.data import csv_table

    saved = tmp_path / "t.yaml"
    assert bp("train", "-q", "--save", str(saved)).exit_code == 0
    rows = "x1\n" + "2\n" * 20  # 43 bytes
    monkeypatch.setattr(csv_table, "MAX_CSV_BYTES", 43)
    assert bp("predict", str(saved), "--data", "-", "--json", input=rows).exit_code == 0
    monkeypatch.setattr(csv_table, "MAX_CSV_BYTES", 42)
    result = bp("predict", str(saved), "--data", "-", "--json", input=rows)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: <stdin>: input is larger than 42 bytes, the most a CSV file may hold "
        "(save larger data as .npz)\n"
    )


def test_schema_and_show_write_dash_to_stdout(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = bp("schema", "-o", "-")
    assert result.exit_code == 0
    assert result.stdout.startswith('{\n  "$schema"')
    assert bp("show", "-f", "mermaid", "-o", "-").stdout.startswith("flowchart LR")
    assert list(tmp_path.iterdir()) == []  # no file named '-'


def test_wrote_lines_and_their_silence(tmp_path: Path) -> None:
    saved, schema = tmp_path / "t.yaml", tmp_path / "s.json"
    result = bp("train", "--save", str(saved))
    assert result.stderr == f"wrote {saved}\n"
    for quiet in (["-q"], ["--json"]):
        assert bp("train", *quiet, "--save", str(saved)).stderr == ""
    assert bp("schema", "-o", str(schema)).stderr == f"wrote {schema}\n"
    drawing = tmp_path / "n.mmd"
    assert bp("show", "-f", "mermaid", "-o", str(drawing)).stderr == f"wrote {drawing}\n"


def test_predict_on_an_untrained_config_warns(tmp_path: Path) -> None:
    result = bp("predict", str(XOR), "-i", "0,1", "--json")
    assert result.exit_code == 0
    assert result.stderr == (
        f"warning: {XOR} was never trained (it has no trained: record), so these outputs come "
        f"from random initial weights (seed 0); train it first: bp train {XOR} --save "
        "trained.yaml\n"
    )
    import json

    assert json.loads(result.stdout)["trained"] is False
    saved = tmp_path / "t.yaml"
    assert bp("train", str(XOR), "-q", "--save", str(saved)).exit_code == 0
    trained = bp("predict", str(saved), "-i", "0,1", "--json")
    assert trained.stderr == ""
    assert json.loads(trained.stdout)["trained"] is True


def test_one_gradient_name_in_tables() -> None:
    """dL/dw in every table header (grads, train --grads, gradcheck); grad in JSON."""
    train = bp("train", "--grads", "--epochs", "1").stdout
    assert "┃ |dL/dw| ┃" in train and "┃ dL/dw ┃" in train
    assert "gradient " not in bp("gradcheck").stdout.split("\n", 1)[1]
    assert "dL/dw" in bp("gradcheck").stdout
    assert "dL/dw" in bp("grads").stdout


def test_init_csv_classifier_and_the_text_target_hint(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = bp("init", "csv-classifier")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:2] == ["wrote csv-classifier.yaml", "wrote data/fruit.csv"]
    # The regression skeleton pointed at the same labelled table says what to use instead.
    regression = (ROOT / "configs" / "csv.yaml").read_text()
    (tmp_path / "mine.yaml").write_text(
        regression.replace("data/regression.csv", "data/fruit.csv").replace("[y]", "[kind]")
    )
    check = bp("check", "mine.yaml")
    assert check.exit_code == 2
    first_text = next(
        i + 1
        for i, line in enumerate((tmp_path / "data" / "fruit.csv").read_text().splitlines())
        if line and line[0].isdigit()
    )
    label = (tmp_path / "data" / "fruit.csv").read_text().splitlines()[first_text - 1]
    assert check.stderr == (
        f"error: data/fruit.csv:{first_text}: column 'kind': expected a number, got "
        f"'{label.rsplit(',', 1)[1]}'; a text label: a classifier needs loss cross_entropy and "
        "a softmax output layer with one unit per class (bp init csv-classifier writes one "
        "to start from)\n"
    )


@pytest.mark.parametrize(
    "command",
    ["train", "explain", "grads", "show", "check", "gradcheck", "predict", "sheet", "quiz"],
)
def test_print_config_after_set_on_every_command_that_reads_one(command: str) -> None:
    weight = ["-w", "xh1"] if command in ("sheet", "quiz") else []
    result = bp(command, TINY, *weight, "--print-config", "--set", "training.eta=0.5")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    original = Path(TINY).read_text()
    assert result.stdout == original.replace("  eta: 0.03\n", "  eta: 0.5\n")


def test_print_config_includes_train_shortcuts() -> None:
    result = bp("train", "--print-config", "--epochs", "3", "--seed", "7")
    assert "\n  epochs: 3\n" in result.stdout and "\nseed: 7\n" in result.stdout


def test_a_config_data_file_dash_reads_stdin(tmp_path: Path) -> None:
    template = (ROOT / "configs" / "csv-classifier.yaml").read_text()
    config = tmp_path / "c.yaml"
    config.write_text(template.replace("path: data/fruit.csv ", 'path: "-"  '))
    table = (ROOT / "configs" / "data" / "fruit.csv").read_text()
    result = bp("check", str(config), input=table)
    assert result.exit_code == 0, result.output
    assert "96 training rows, 24 validation" in result.stdout
    both = bp("check", "-", input=config.read_text())
    assert both.exit_code == 2
    assert both.stderr.endswith(
        "data.file.path: the config itself was read from standard input; name the data file\n"
    )


def test_bare_bp_shows_the_help_without_an_error_line() -> None:
    result = bp()
    assert result.exit_code == 2
    assert "Usage: bp [OPTIONS] COMMAND [ARGS]..." in result.stdout
    assert result.stderr == ""


def test_sigterm_while_its_handler_is_installed_exits_143_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by the forked fuzz: SIGTERM right as the handler went in raised
    # Terminated outside main's try, a traceback instead of exit 143.
    import cli.errors
    from cli.app import main

    def lands_at_once() -> None:
        raise cli.errors.Terminated

    monkeypatch.setattr(cli.errors, "handle_sigterm", lands_at_once)
    monkeypatch.setattr("cli.entry.reported", False)  # an earlier test's error line
    monkeypatch.setattr("sys.argv", ["bp", "check"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 143
    assert capsys.readouterr().err == "error: terminated\n"
