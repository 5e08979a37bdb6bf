"""Fuzz every command: generated configs, data files, command lines, paths and environments.

Whatever the input, every command (check, train, explain in each format, grads, show,
gradcheck, predict, init, schema, sheet, grade, quiz, exercise, export, import)
answers with an exit code in {0, 1, 2, 130, 143}, never a traceback, at most one
error line (`check` lists every problem it finds, each on its own ``error:``
line), and leaves no file behind
but the ones it was asked to write. Most cases run in-process through the CLI runner;
`test_streams_signals_and_environments` forks a real process per case to give bp a
closed, full or vanished stdout, a signal, a hostile environment and a memory limit.

CI runs 2,130 cases; set BP_FUZZ_EXAMPLES=N to run N per test instead (new ones).
"""

from __future__ import annotations

import io
import os
import resource
import signal
import stat
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer.testing
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import time_bound
from test_fuzz import paths as paths_of

from cli.app import app

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
BASES = {name: (CONFIGS / f"{name}.yaml").read_text() for name in ("tiny", "tiny-all", "xor")}
BASES["iris"] = (CONFIGS / "iris.yaml").read_text()
BASES["csv"] = (CONFIGS / "csv.yaml").read_text()
DATA_FILES = {p.name: p.read_bytes() for p in (CONFIGS / "data").glob("*.csv")}
EXIT_CODES = {0, 1, 2, 130, 143}
LIMIT_SECONDS = 30  # a hang fails the case instead of stalling the suite
MEMORY_LIMIT = 2 << 30  # bytes of address space a forked case may add

EXTRA = int(os.environ.get("BP_FUZZ_EXAMPLES", "0"))


def examples(ci: int) -> settings:
    return settings(
        max_examples=EXTRA or ci,
        deadline=None,
        derandomize=not EXTRA,  # CI sees the same cases every run; more means new ones
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# Typer rebuilds its Click command on every invoke (~50 ms of introspection); the
# fuzz builds it once so its thousands of cases measure bp, not Typer.
_COMMAND = typer.main.get_command(app)
runner = typer.testing.CliRunner()


@contextmanager
def fast_invoke() -> Iterator[None]:
    original = typer.testing._get_command
    typer.testing._get_command = lambda _: _COMMAND  # type: ignore[assignment]
    try:
        yield
    finally:
        typer.testing._get_command = original


# ---- what a case is made of --------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 400),
    st.sampled_from([0, 1, 2, -1, 10**9, 2**63, 1e308, -1e-320]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.sampled_from(
        [
            "full", "sigmoid", "relu", "softmax", "tanh", "linear", "sse", "bce",
            "cross_entropy", "adam", "sgd", "xh1", "1e-3", ".nan", "~", "[/red]",
            "\x1b[2J", "Größe", "é\u0301", "\u202e", "a" * 300,
        ]
    ),
)  # fmt: skip
keys = st.one_of(
    st.sampled_from(
        [
            "name", "seed", "network", "inputs", "layers", "units", "activation", "bias",
            "weights", "biases", "loss", "data", "targets", "file", "path", "generate",
            "training", "eta", "epochs", "batch_size", "optimizer", "freeze", "validation",
            "init", "standardize", "trained", "weights_file", "precision", "classes",
        ]
    ),
    st.text(max_size=6),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=12,
)
SET_KEYS = [
    "name", "seed", "loss", "network.inputs", "network.layers[0].units",
    "network.layers[0].activation", "network.layers[1].bias", "network.layers[0].weights",
    "network.weights_file", "data.targets", "data.inputs", "data.file.path", "data.validation",
    "data.standardize", "training.eta", "training.optimizer", "training.batch_size",
    "training.freeze", "training.precision", "network.init", "network.classes",
]  # fmt: skip
WEIGHTS = ["xh1", "hh1", "hy2", "w1_1_1", "w2_1_2", "w3_2_1", "b1_1", "xh11", "hy", "w9_9_9", ""]
TEMPLATES = ["tiny", "tiny-all", "xor", "spiral", "iris", "sine", "csv", "nope", ""]


@dataclass
class Case:
    """One command line and the folder it runs in; `asked` are the outputs it may leave."""

    folder: Path
    args: list[str] = field(default_factory=list)
    asked: set[str] = field(default_factory=set)


def _dump(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def config_text(data: st.DataObject) -> str:
    """A shipped config, valid or mutated (values, keys, structure, raw characters)."""
    base = data.draw(st.sampled_from(sorted(BASES)), label="base")
    kind = data.draw(st.sampled_from(["valid", "valid", "edit", "edit", "bytes", "random"]))
    text = BASES[base]
    if kind == "random":
        return _dump(data.draw(documents, label="document"))
    if kind == "bytes":
        position = data.draw(st.integers(0, len(text)), label="at")
        junk = data.draw(st.text(alphabet="{}[]:,-&*!|>'\"#%@\t\n \\a0.\x00\x1b", max_size=6))
        cut = data.draw(st.integers(0, 4), label="cut")
        return text[:position] + junk + text[position + cut :]
    doc = yaml.safe_load(text)
    if kind == "edit":
        for _ in range(data.draw(st.integers(1, 3), label="edits")):
            where = data.draw(st.sampled_from(paths_of(doc)[1:]), label="path")
            parent = doc
            for part in where[:-1]:
                parent = parent[part]
            action = data.draw(st.sampled_from(["replace", "delete", "wrap", "rename"]))
            last = where[-1]
            if action == "replace":
                parent[last] = data.draw(documents, label="value")
            elif action == "delete":
                del parent[last]
            elif action == "wrap":
                parent[last] = [parent[last]]
            elif isinstance(parent, dict):
                parent[data.draw(keys, label="new key")] = parent.pop(last)
    doc.setdefault("training", {}) if isinstance(doc, dict) else None
    if isinstance(doc, dict) and isinstance(doc["training"], dict):
        doc["training"]["epochs"] = data.draw(st.integers(1, 12), label="epochs")
    return _dump(doc)


def data_files(data: st.DataObject, folder: Path) -> None:
    """The shipped CSV files, some mutated, and an .npz (valid or damaged bytes)."""
    (folder / "data").mkdir()
    for name, content in DATA_FILES.items():
        if data.draw(st.integers(0, 5), label="mutate csv") == 0:
            at = data.draw(st.integers(0, len(content)), label="csv at")
            junk = data.draw(st.binary(max_size=8), label="csv junk")
            content = content[:at] + junk + content[at + data.draw(st.integers(0, 40)) :]
        (folder / "data" / name).write_bytes(content)
    buffer = io.BytesIO()
    rows = data.draw(st.integers(1, 6), label="npz rows")
    np.savez(buffer, X=np.linspace(0, 1, rows * 2).reshape(rows, 2), T=np.arange(rows) % 2)
    raw = buffer.getvalue()
    damage = data.draw(st.sampled_from(["none", "cut", "flip", "npy"]), label="npz damage")
    if damage == "cut":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    elif damage == "flip":
        at = data.draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1 :]
    elif damage == "npy":
        one = io.BytesIO()
        np.save(one, np.zeros((rows, 2)))
        raw = one.getvalue()
    (folder / "data" / "set.npz").write_bytes(raw)


def special_path(data: st.DataObject, folder: Path, suffix: str, label: str) -> tuple[str, bool]:
    """(a path to write or read, whether it is an ordinary new file in `folder`)."""
    kind = data.draw(
        st.sampled_from(["plain", "plain", "plain", "long", "bytes", "fifo", "device", "missing",
                         "folder", "hidden"]),
        label=label,
    )  # fmt: skip
    if kind == "long":
        return str(folder / ("x" * 300 + suffix)), False
    if kind == "bytes":
        return os.fsdecode(bytes(folder) + b"/\xff\xfe" + suffix.encode()), True
    if kind == "fifo":
        path = folder / f"fifo{suffix}"
        if not path.exists():
            os.mkfifo(path)
        return str(path), False
    if kind == "device":
        path = folder / f"null{suffix}"
        if not path.exists():
            try:
                os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
            except OSError:  # not root: a FIFO is the special file at hand
                os.mkfifo(path)
        return str(path), False
    if kind == "missing":
        return str(folder / "no" / f"such{suffix}"), False
    if kind == "folder":
        return str(folder / "data"), False
    if kind == "hidden":
        return str(folder / f".out{suffix}"), True
    return str(folder / f"out{suffix}"), True


def sets(data: st.DataObject) -> list[str]:
    out = []
    for _ in range(data.draw(st.integers(0, 2), label="sets")):
        key = data.draw(st.one_of(st.sampled_from(SET_KEYS), st.text(max_size=8)), label="key")
        value = data.draw(
            st.one_of(scalars.map(lambda v: yaml.safe_dump(v, default_flow_style=True).strip()),
                      st.text(max_size=12)),
            label="value",
        )  # fmt: skip
        out += ["--set", f"{key}={value}"]
    return out


def write_config(data: st.DataObject, case: Case) -> str | None:
    """The CONFIG argument: a generated file, a special path, or none (the built-in)."""
    kind = data.draw(st.sampled_from(["file"] * 8 + ["none", "special"]), label="config kind")
    if kind == "none":
        return None
    if kind == "special":
        return special_path(data, case.folder, ".yaml", "config path")[0]
    path = case.folder / "run.yaml"
    path.write_text(config_text(data), encoding="utf-8", errors="surrogatepass")
    return str(path)


def output(data: st.DataObject, case: Case, suffix: str, label: str) -> str:
    path, ordinary = special_path(data, case.folder, suffix, label)
    if ordinary:
        case.asked.add(os.path.basename(path))
    return path


def with_config(case: Case, config: str | None, rest: list[str]) -> list[str]:
    return ([config] if config is not None else []) + rest


def cmd_check(data: st.DataObject, case: Case) -> list[str]:
    config = write_config(data, case)
    extra = ["--json"] if data.draw(st.booleans()) else []
    return ["check", *with_config(case, config, sets(data) + extra)]


def cmd_train(data: st.DataObject, case: Case) -> list[str]:
    config = write_config(data, case)
    rest = [*sets(data), "--epochs", str(data.draw(st.integers(1, 12), label="epochs"))]
    for flag in data.draw(
        st.lists(st.sampled_from(["--json", "--quiet", "--grads", "--every", "--save", "--plot",
                                  "--fail-above", "--seed", "--eta"]), max_size=3, unique=True)
    ):  # fmt: skip
        if flag == "--every":
            rest += [flag, str(data.draw(st.integers(1, 5)))]
        elif flag == "--save":
            save = output(data, case, ".yaml", "save path")
            if os.path.basename(save) in case.asked:
                case.asked.add(Path(save).stem + ".weights-*.npz")
            rest += [flag, save]
        elif flag == "--plot":
            # Drawing a picture costs ~0.3 s: most plot cases fail before drawing.
            suffix = data.draw(st.sampled_from([".svg", ".txt", ".png"]))
            rest += [flag, output(data, case, suffix, "plot path")]
        elif flag == "--fail-above":
            rest += [flag, data.draw(st.sampled_from(["0", "1e9", "nan", "-1", "x"]))]
        elif flag == "--seed":
            rest += [flag, str(data.draw(st.integers(-1, 2**64)))]
        elif flag == "--eta":
            rest += [flag, data.draw(st.sampled_from(["0.1", "1e300", "-1", "nan", "0"]))]
        else:
            rest.append(flag)
    return ["train", *with_config(case, config, rest)]


def cmd_explain(data: st.DataObject, case: Case) -> list[str]:
    config = write_config(data, case)
    rest = ["--weight", data.draw(st.one_of(st.sampled_from(WEIGHTS), st.text(max_size=6)))]
    if data.draw(st.booleans()):
        rest += ["--sample", str(data.draw(st.integers(-1, 200)))]
    formats = ["text", "markdown", "latex", "html", "json", "json-flag", "bad"]
    fmt = data.draw(st.sampled_from(formats))
    rest += {"json-flag": ["--json"], "bad": ["--format", "pdf"]}.get(fmt, ["--format", fmt])
    if fmt in ("markdown", "latex", "html") and data.draw(st.booleans()):
        path = output(data, case, {"latex": ".tex", "markdown": ".md"}.get(fmt, ".html"), "doc")
        case.asked.add(Path(path).stem + "*.svg")  # markdown's drawings beside it
        rest += ["-o", path]
    return ["explain", *with_config(case, config, rest + sets(data))]


def cmd_grads(data: st.DataObject, case: Case) -> list[str]:
    config = write_config(data, case)
    rest = sets(data)
    for _ in range(data.draw(st.integers(0, 2))):
        rest += ["--weight", data.draw(st.one_of(st.sampled_from(WEIGHTS), st.text(max_size=5)))]
    if data.draw(st.booleans()):
        rest.append("--json")
    return ["grads", *with_config(case, config, rest)]


def cmd_show(data: st.DataObject, case: Case) -> list[str]:
    config = write_config(data, case)
    fmt = data.draw(st.sampled_from(["table", "json", "mermaid", "dot", "svg", "png", "html"]))
    rest = ["--format", fmt, *sets(data)]
    if fmt in ("mermaid", "dot", "html") and data.draw(st.booleans()):
        rest += ["-o", output(data, case, f".{fmt}", "show output")]
    elif fmt in ("svg", "png"):
        if data.draw(st.integers(0, 3)) == 0:  # drawing is slow: mostly bad paths
            rest += ["-o", output(data, case, f".{fmt}", "show picture")]
        else:
            rest += ["-o", special_path(data, case.folder, ".txt", "bad picture")[0]]
    if data.draw(st.booleans()):
        rest += ["--weight", data.draw(st.sampled_from(WEIGHTS))]
    return ["show", *with_config(case, config, rest)]


def cmd_gradcheck(data: st.DataObject, case: Case) -> list[str]:
    config = write_config(data, case)
    rest = sets(data)
    if data.draw(st.booleans()):
        rest += ["--eps", data.draw(st.sampled_from(["1e-6", "0", "-1", "1e300", "nan"]))]
    if data.draw(st.booleans()):
        rest += ["--max-weights", str(data.draw(st.integers(0, 50)))]
    for flag in ("--json", "--failures"):
        if data.draw(st.booleans()):
            rest.append(flag)
    return ["gradcheck", *with_config(case, config, rest)]


def cmd_predict(data: st.DataObject, case: Case) -> list[str]:
    config = write_config(data, case)
    rest = sets(data)
    for _ in range(data.draw(st.integers(0, 2))):
        row = data.draw(
            st.lists(st.sampled_from(["0.5", "1", "-2", "nan", "x", "", "1e400"]), max_size=5)
        )
        rest += ["--input", ",".join(row)]
    if data.draw(st.booleans()):
        source = data.draw(
            st.sampled_from(["data/iris.csv", "data/regression.csv", "data/set.npz"])
        )
        rest += ["--data", str(case.folder / source)]
    if data.draw(st.booleans()):
        rest.append("--json")
    return ["predict", *with_config(case, config, rest)]


def cmd_init(data: st.DataObject, case: Case) -> list[str]:
    template = data.draw(st.one_of(st.sampled_from(TEMPLATES), st.text(max_size=5)))
    rest = ["init", template] if template else ["init"]
    if data.draw(st.booleans()):
        path, ordinary = special_path(data, case.folder, ".yaml", "init path")
        rest.append(path)
        if ordinary:
            case.asked.add(os.path.basename(path))
    else:
        case.asked.add(f"{template}.yaml")
    case.asked.add("data")  # a template's data folder, and what it holds
    if data.draw(st.booleans()):
        rest.append("--force")
    return rest


def cmd_schema(data: st.DataObject, case: Case) -> list[str]:
    if data.draw(st.booleans()):
        return ["schema"]
    return ["schema", "-o", output(data, case, ".json", "schema output")]


def cmd_sheet(data: st.DataObject, case: Case) -> list[str]:
    config = write_config(data, case)
    rest = ["--weight", data.draw(st.one_of(st.sampled_from(WEIGHTS), st.text(max_size=5)))]
    rest += ["--format", data.draw(st.sampled_from(["yaml", "markdown", "latex", "pdf"]))]
    if data.draw(st.booleans()):
        rest.append("--key")
    if data.draw(st.booleans()):
        rest += ["-o", output(data, case, ".yaml", "sheet output")]
    return ["sheet", *with_config(case, config, rest + sets(data))]


def cmd_grade(data: st.DataObject, case: Case) -> list[str]:
    config = write_config(data, case)
    answers = case.folder / "answers.yaml"
    kind = data.draw(st.sampled_from(["key", "random", "special"]), label="answers")
    if kind == "key":  # bp's own key for tiny, some values edited
        lines = [
            "weights: [xh1]",
            "answers:",
            *(f"  {q}: {data.draw(st.sampled_from(['40', '0.8', 'x', '', '1e999', '[1]']))}"
              for q in ("dL/dY", "dL/dxh1", "xh1_new")),
        ]  # fmt: skip
        answers.write_text("\n".join(lines) + "\n")
        where = str(answers)
    elif kind == "random":
        answers.write_text(_dump(data.draw(documents, label="sheet")), errors="surrogatepass")
        where = str(answers)
    else:
        where = special_path(data, case.folder, ".yaml", "answers path")[0]
    rest = [where]
    if data.draw(st.booleans()):
        rest += ["--digits", str(data.draw(st.integers(0, 16)))]
    if data.draw(st.booleans()):
        rest.append("--json")
    return ["grade", *with_config(case, config, rest)]


def cmd_quiz(data: st.DataObject, case: Case) -> list[str]:
    config = write_config(data, case)
    rest = ["--weight", data.draw(st.one_of(st.sampled_from(WEIGHTS), st.text(max_size=5)))]
    return ["quiz", *with_config(case, config, rest + sets(data))]


def cmd_exercise(data: st.DataObject, case: Case) -> list[str]:
    rest = ["exercise", "--seed", str(data.draw(st.integers(-1, 2**64)))]
    folder, _ = special_path(data, case.folder, "", "exercise folder")
    rest += ["-o", folder]
    # The folder is made with its parents (`no/such` too): all of it was asked for.
    case.asked.add(
        os.fsdecode(os.fsencode(folder)[len(os.fsencode(case.folder)) + 1 :]).split("/")[0]
    )
    shape = data.draw(st.sampled_from(["1-1-2-1", "2-2-1", "2-2-2", "3-3"]))
    rest += ["--shape", shape, "--activation", data.draw(st.sampled_from(["linear", "relu", "x"]))]
    if data.draw(st.booleans()):
        rest += ["--key", output(data, case, ".yaml", "key path")]
    return rest


def cmd_export(data: st.DataObject, case: Case) -> list[str]:
    config = write_config(data, case)
    to = data.draw(st.sampled_from(["pytorch", "onnx", "tf"]), label="to")
    suffix = {"pytorch": ".py", "onnx": ".onnx"}.get(to, ".txt")
    where = "-" if data.draw(st.integers(0, 4)) == 0 else output(data, case, suffix, "export")
    return ["export", *with_config(case, config, ["--to", to, "-o", where, *sets(data)])]


def cmd_import(data: st.DataObject, case: Case) -> list[str]:
    model = case.folder / "model.onnx"
    kind = data.draw(st.sampled_from(["bytes", "special"]), label="model")
    if kind == "bytes":  # not a model, or a cut one: bp's own export is in test_export
        model.write_bytes(data.draw(st.binary(max_size=200), label="model bytes"))
        where = str(model)
    else:
        where = special_path(data, case.folder, ".onnx", "model path")[0]
    return ["import", where, "-o", output(data, case, ".yaml", "import output")]


COMMANDS: dict[str, Callable[[st.DataObject, Case], list[str]]] = {
    "check": cmd_check,
    "train": cmd_train,
    "explain": cmd_explain,
    "grads": cmd_grads,
    "show": cmd_show,
    "gradcheck": cmd_gradcheck,
    "predict": cmd_predict,
    "init": cmd_init,
    "schema": cmd_schema,
    # The commands of issues 13-15, fuzzed the same way.
    "sheet": cmd_sheet,
    "grade": cmd_grade,
    "quiz": cmd_quiz,
    "exercise": cmd_exercise,
    "export": cmd_export,
    "import": cmd_import,
}


# ---- what every answer must look like ------------------------------------------------


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).parts[0] for p in folder.rglob("*")}


def check_answer(case: Case, before: set[str], code: int, stderr: str, output: str) -> None:
    context = f"bp {' '.join(case.args)}\nexit {code}\nstderr: {stderr}\nstdout: {output[-400:]}"
    assert code in EXIT_CODES, context
    assert "Traceback" not in stderr and "Traceback" not in output, context
    lines = stderr.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    if case.args[0] == "check":
        assert all(line.startswith(("error: ", "warning: ")) for line in lines), context
    else:  # Click's usage errors too: one `error:` line since issue 16
        assert len(errors) <= 1, context
        if code == 2:
            assert errors, context
    left = files_in(case.folder) - before
    unexpected = {
        name
        for name in left
        if name not in case.asked
        and not any(Path(name).match(pattern) for pattern in case.asked if "*" in pattern)
    }
    assert not unexpected, f"{context}\nleft behind: {unexpected}"


def fuzz_in_process(data: st.DataObject, command: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        case = Case(Path(tmp))
        data_files(data, case.folder)
        case.args = COMMANDS[command](data, case)
        before = files_in(case.folder)
        env = data.draw(st.sampled_from([{}, {"COLUMNS": "1"}, {"COLUMNS": "40", "TERM": "dumb"},
                                         {"NO_COLOR": "1"}]))  # fmt: skip
        cwd = os.getcwd()
        os.chdir(case.folder)  # init's default path, relative outputs
        try:
            with fast_invoke(), time_bound(LIMIT_SECONDS):
                result = runner.invoke(app, case.args, env=env)
        finally:
            os.chdir(cwd)
        exception = result.exception
        assert exception is None or isinstance(exception, SystemExit), (
            f"bp {' '.join(case.args)}\n" + "".join(traceback.format_exception(exception))  # type: ignore[arg-type]
        )
        check_answer(case, before, result.exit_code, result.stderr, result.stdout)


# Cases per command in CI (in-process), 1,980 in all; the forked test adds 150.
CI_CASES = {
    "check": 260,
    "train": 260,
    "explain": 200,
    "grads": 140,
    "show": 160,
    "gradcheck": 140,
    "predict": 160,
    "init": 120,
    "schema": 60,
    "sheet": 120,
    "grade": 120,
    "quiz": 80,
    "exercise": 80,
    "export": 40,
    "import": 40,
}


@pytest.mark.parametrize("command", sorted(CI_CASES))
def test_every_command_in_process(command: str) -> None:
    @examples(CI_CASES[command])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        fuzz_in_process(data, command)

    run()


# ---- real processes: streams, signals, environments, memory ---------------------------


STDOUTS = ["pipe", "pipe", "full", "closed", "gone"]
ENVIRONMENTS = [
    {},
    {"LC_ALL": "C"},
    {"PYTHONIOENCODING": "ascii"},
    {"PYTHONIOENCODING": "latin-1"},
    {"COLUMNS": "1"},
    {"TERM": "dumb", "COLUMNS": "20"},
]


def run_forked(
    case: Case, stdout: str, env: dict[str, str], signal_after: tuple[int, float] | None
) -> tuple[int, str, str]:
    """Run `bp case.args` in a forked child with real file descriptors; (code, stderr, stdout).

    The child sets up its streams as Python would from the environment (an encoding
    that cannot hold every character, a closed fd 1) and a memory limit, then calls
    bp's `main`. A code < 0 means the child was killed by that signal.
    """
    err_path = case.folder.parent / f"{case.folder.name}.stderr"
    out_path = case.folder.parent / f"{case.folder.name}.stdout"
    read_end, write_end = os.pipe() if stdout == "gone" else (-1, -1)
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.chdir(case.folder)
            os.setpgid(0, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(LIMIT_SECONDS)
            _limit_memory()
            err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(err, 2)
            if stdout == "pipe":
                os.dup2(os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
            elif stdout == "full":
                os.dup2(os.open("/dev/full", os.O_WRONLY), 1)
            elif stdout == "gone":
                os.close(read_end)  # `| head -0`: nobody will ever read
                os.dup2(write_end, 1)
            else:
                os.close(1)
            os.environ.update(env)
            encoding = env.get("PYTHONIOENCODING", "utf-8")
            if encoding == "utf-8" and env.get("LC_ALL") == "C":
                encoding = "utf-8"  # Python 3.7+ coerces the C locale to UTF-8
            sys.stdout = (
                None  # type: ignore[assignment]
                if stdout == "closed"
                else io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding, "strict")
            )
            sys.stderr = io.TextIOWrapper(
                io.FileIO(2, "w", closefd=False), encoding, "backslashreplace", line_buffering=True
            )
            from cli.entry import interrupted_at_startup

            signal.signal(signal.SIGINT, interrupted_at_startup)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            sys.argv = ["bp", *case.args]
            from cli.app import main

            try:
                main()
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            with open(err_path, "a") as f:
                f.write(traceback.format_exc())
        finally:
            os._exit(code)
    if stdout == "gone":
        os.close(read_end)
        os.close(write_end)
    done, status = 0, 0
    if signal_after is not None:
        number, delay = signal_after
        deadline = time.monotonic() + delay
        while not done and time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            time.sleep(0.005)
        if not done:
            os.kill(pid, number)
    if not done:
        _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    stderr = err_path.read_text(errors="replace") if err_path.exists() else ""
    output = out_path.read_text(errors="replace") if out_path.exists() else ""
    return code, stderr, output


def _limit_memory() -> None:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[0])
    in_use = pages * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (in_use + MEMORY_LIMIT, in_use + MEMORY_LIMIT))


@examples(150)
@given(data=st.data())
def test_streams_signals_and_environments(data: st.DataObject) -> None:
    # export and import load torch/onnx: too heavy to fork under a memory limit.
    forked = sorted(set(COMMANDS) - {"export", "import"})
    command = data.draw(st.sampled_from(forked), label="command")
    stdout = data.draw(st.sampled_from(STDOUTS), label="stdout")
    env = data.draw(st.sampled_from(ENVIRONMENTS), label="environment")
    interrupt = data.draw(st.sampled_from([None, None, None, signal.SIGINT, signal.SIGTERM]))
    signal_after = (interrupt, data.draw(st.floats(0, 0.3))) if interrupt else None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case = Case(root / "case")
        case.folder.mkdir()
        data_files(data, case.folder)
        case.args = COMMANDS[command](data, case)
        before = files_in(case.folder)
        code, stderr, output = run_forked(case, stdout, env, signal_after)
        if code == -signal.SIGTERM and interrupt == signal.SIGTERM:
            code = 143  # the default action for SIGTERM: what a shell reports as 143
        assert code != 70, f"bp {' '.join(case.args)}: the child failed:\n{stderr}"
        check_answer(case, before, code, stderr, output)
        if stdout == "gone":  # a reader that went away is not an error to report
            assert "standard output" not in stderr, stderr
        if stdout in ("full", "closed") and code == 1 and "standard output" in stderr:
            assert stderr.splitlines()[-1].startswith("error: cannot write to standard output")
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 3 << 20  # KB: 3 GB
