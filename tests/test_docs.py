"""Every command shown in README.md and docs/*.md runs as written, on shipped files.

A ```console block holds ``$ command`` lines, each followed by the output it shows
(stdout and stderr, as a terminal would interleave them). Shown output must match,
except that a line ``...`` stands for any number of lines and the time a run took
(and the BLAS threads it used) is not compared. With nothing shown, only the exit
code is checked: 0, or the N of a trailing ``# exits N`` comment. The blocks of one
file run in order in one folder that holds a copy of the checkout's configs/ and
docs/, so a walk-through can create the files its later commands use.

A block that needs an optional component says so in its info string, e.g.
```` ```console requires=matplotlib ````; it runs where the component is present.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from installed import env_with_bp, installed_bp
from typer.testing import CliRunner

from cli.app import app

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A block may be indented (inside a list item); its closing fence is indented alike.
BLOCK = re.compile(r"^( *)```console([^\n]*)\n(.*?)^\1```", re.S | re.M)
EXITS = re.compile(r"\s+#\s*exits\s+(\d+)\s*$")
# A plain `bp ...` line runs in this process (the same app the script calls, without a
# second of start-up per command on a busy machine); pipes and redirections run in sh.
PLAIN_BP = re.compile(r"^bp(?: [-\w.,=/\[\]]+)*$")
# The time a run took and the BLAS threads it used depend on the machine.
TIME = re.compile(r"\bin [0-9.]+(?:e-?\d+)? (?:s|ms)\b(?: \((?:\d+ BLAS threads?|scalar path)\))?")


def _module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


REQUIREMENTS = {
    "matplotlib": lambda: _module("matplotlib"),
    "torch": lambda: _module("torch"),
    "onnx": lambda: _module("onnx") and _module("onnxruntime"),
    "pdflatex": lambda: shutil.which("pdflatex") is not None,
    "chromium": lambda: (
        any(shutil.which(n) for n in ("chromium", "chromium-browser")) or _module("playwright")
    ),
    "graphviz": lambda: shutil.which("dot") is not None,
    # About ten minutes: run by hand (BP_FULL_BENCHMARK=1), never in the suite.
    "full-benchmark": lambda: os.environ.get("BP_FULL_BENCHMARK") == "1",
}


@dataclass
class Command:
    line: str
    shown: list[str]
    exit_code: int


@dataclass
class Block:
    requires: list[str]
    commands: list[Command]


def blocks(text: str) -> list[Block]:
    found = []
    for indent, info, body in BLOCK.findall(text):
        requires = [
            r
            for word in info.split()
            if word.startswith("requires=")
            for r in word.removeprefix("requires=").split(",")
        ]
        commands: list[Command] = []
        for line in body.splitlines():
            line = line.removeprefix(indent)
            if line.startswith("$ "):
                command = line[2:]
                match = EXITS.search(command)
                code = int(match.group(1)) if match else 0
                commands.append(Command(command, [], code))
            elif commands:
                commands[-1].shown.append(line)
        found.append(Block(requires, commands))
    return found


def normalize(line: str) -> str:
    return TIME.sub("in <time>", line.rstrip())


def matches(shown: list[str], actual: list[str]) -> bool:
    """Line by line; a shown ``...`` line matches any run of lines."""
    if not shown:
        return not actual
    if shown[0] == "...":
        return any(matches(shown[1:], actual[i:]) for i in range(len(actual) + 1))
    return (
        bool(actual)
        and normalize(shown[0]) == normalize(actual[0])
        and matches(shown[1:], actual[1:])
    )


def test_every_doc_has_runnable_blocks_and_known_requirements() -> None:
    readme = blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert sum(len(b.commands) for b in readme) >= 7
    for path in DOCS:
        for block in blocks(path.read_text(encoding="utf-8")):
            assert block.commands, f"{path.name}: a console block without a $ command"
            unknown = set(block.requires) - set(REQUIREMENTS)
            assert not unknown, f"{path.name}: unknown requirement {unknown}"


def run(line: str, folder: Path, env: dict[str, str]) -> tuple[int, str]:
    """(exit code, stdout and stderr interleaved) of one shown command, run in `folder`."""
    if PLAIN_BP.match(line):
        result = CliRunner().invoke(app, shlex.split(line)[1:], env=env)
        return result.exit_code, result.output
    done = subprocess.run(
        ["sh", "-c", line],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stdout


@pytest.mark.skipif(installed_bp() is None, reason="needs the installed bp")
@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_shown_commands_run_as_written(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copytree(ROOT / "benchmarks", tmp_path / "benchmarks")
    env = env_with_bp(NO_COLOR="1", COLUMNS="100", PYTHONUNBUFFERED="1", TERM="dumb")
    env.pop("FORCE_COLOR", None)
    for block in blocks(path.read_text(encoding="utf-8")):
        if not all(REQUIREMENTS[r]() for r in block.requires):
            continue
        for command in block.commands:
            line = EXITS.sub("", command.line)
            code, output = run(line, tmp_path, env)
            where = f"{path.name}: $ {command.line}\n{output}"
            assert code == command.exit_code, where
            if command.shown:
                assert matches(command.shown, output.splitlines()), where


def test_install_lines_use_the_distribution_name() -> None:
    """`pip install bp` installs an unrelated package: every install line names ours."""
    for path in [*DOCS, ROOT / "docs" / "github-actions.yml"]:
        for line in path.read_text(encoding="utf-8").splitlines():
            for match in re.finditer(r"pip install ([^`|&#\n]+)", line):
                target = match.group(1).split()[-1].strip("'\"")
                assert target.startswith(("backprop-explained", ".", "-e")) or target in (
                    ".",
                    '".[test]"',
                ), f"{path.name}: {line}"


def test_docs_name_only_files_in_the_repo() -> None:
    """No SPEC or other file outside the repo; every repo path in backticks exists."""
    tops = ("configs/", "docs/", "tests/", "benchmarks/", "backprop_core/", "cli/", ".ci/")
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        assert "SPEC" not in text, path.name
        for name in re.findall(r"`([\w./-]+\.\w+)`", text):
            if name.startswith(tops):
                assert (ROOT / name).exists(), f"{path.name}: {name}"
