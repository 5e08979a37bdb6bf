"""bp's quick option-value conversion (cli/coercion.py) gives exactly what Typer's would.

Where the quick conversion takes a value, its result (value and type) must be
the one Typer's pydantic adapter gives; where it declines, Typer converts, so
every error message is Typer's own. The values tried are every option of every
command with text a user might type.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer._click import Context
from typer._coercion import build_runtime_param

import cli.app
from cli import coercion

REPO = Path(__file__).resolve().parent.parent


def _commands() -> dict[str, Any]:
    group = cli.app.typer.main.get_command(cli.app.app)
    return {name: group.get_command(None, name) for name in cli.app.COMMANDS} | {"bp": group}


COMMANDS = _commands()
PARAMS = [
    (name, param)
    for name, command in COMMANDS.items()
    for param in command.get_params(Context(command))
]


def _outcome(convert: Any, value: Any, param: Any, ctx: Context) -> tuple[str, str]:
    try:
        result = convert(value, param, ctx)
    except coercion.DeclinedError:
        return ("declined", "")
    except Exception as e:  # Typer's message, word for word
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        return (type(e).__name__, message)
    return (type(result).__name__, repr(result))


def _typers(param: Any) -> Any:
    runtime = build_runtime_param(param.type_descriptor)
    return lambda value, param, ctx: runtime._coerce_value(value, param=param, ctx=ctx)


def _same_as_typer(param: Any, value: Any) -> bool:
    """True when the quick conversion took the value (and gave Typer's result)."""
    command = next(c for n, c in COMMANDS.items() if param in c.get_params(Context(c)))
    ctx = Context(command)
    quick = coercion._converter(param.type_descriptor)
    assert quick is not None, param.name
    ours = _outcome(quick, value, param, ctx)
    if ours[0] == "declined":
        return False
    assert ours == _outcome(_typers(param), value, param, ctx), (param.name, value)
    return True


def test_every_option_of_every_command_converts_quickly() -> None:
    # A new kind of option (a tuple, a datetime, a custom parser) would go back to
    # building a pydantic adapter at every start: add it to cli/coercion.py.
    for name, param in PARAMS:
        assert coercion._converter(param.type_descriptor) is not None, (name, param.name)


@pytest.mark.parametrize("command", ["check", "train", "bp"])
def test_the_commands_parameters_get_the_quick_conversion(command: str) -> None:
    # Fails when Typer's internals change under cli/coercion.py (pinned in pyproject.toml).
    group = COMMANDS[command]
    params = group.get_params(Context(group))
    assert params and all(isinstance(p._runtime_param, coercion.QuickParam) for p in params)


NUMBER_TEXT = [
    "5", "-3", "0", "+7", "007", "-0", " 5", "5 ", "1_000", "1.0", "1.5", "1e3", "x", "",
    "123456789012345678", "1234567890123456789012", "٣", "0.1", "1e-3", ".5", "5.", "-.5e+2",
    "1E5", "inf", "-inf", "nan", "1e400", "1e-400", "0x10", "1,5", "--1", "+", "e5",
]  # fmt: skip


@pytest.mark.parametrize("text", NUMBER_TEXT)
def test_numbers_convert_as_typer_converts_them(text: str) -> None:
    taken = [
        _same_as_typer(param, text)
        for _, param in PARAMS
        if param.type_descriptor.annotation in (int, float)
    ]
    assert taken


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="0123456789+-.eE_ x", max_size=10))
def test_any_number_text_converts_as_typer_converts_it(text: str) -> None:
    for name in ("train", "gradcheck", "grade"):
        for param in COMMANDS[name].params:
            if param.type_descriptor.annotation in (int, float):
                _same_as_typer(param, text)


def test_plain_numbers_are_taken_quickly() -> None:
    epochs = next(p for p in COMMANDS["train"].params if p.name == "epochs")
    eta = next(p for p in COMMANDS["train"].params if p.name == "eta")
    assert _same_as_typer(epochs, "100") and _same_as_typer(eta, "0.01")
    assert not _same_as_typer(epochs, "0")  # below its minimum: Typer says so


@pytest.mark.parametrize(
    "text",
    [
        "configs/tiny.yaml", "configs", "no/such/file.yaml", "a//b/", "./x.yaml", "x.yaml/",
        "", "-", "/", "configs/tiny.yaml/", "\udcff.yaml", "~/x.yaml",
    ],
)  # fmt: skip
def test_paths_convert_as_typer_converts_them(text: str) -> None:
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        for _, param in PARAMS:
            if param.type_descriptor.is_path:
                _same_as_typer(param, text)
    finally:
        os.chdir(cwd)


def test_an_unreadable_path_is_typers_message(tmp_path: Path) -> None:
    locked = tmp_path / "locked.yaml"
    locked.write_text("x: 1\n")
    locked.chmod(0)
    save = next(p for p in COMMANDS["train"].params if p.name == "save")
    try:
        _same_as_typer(save, str(locked))
    finally:
        locked.chmod(0o600)


@pytest.mark.parametrize("text", ["source", "SOURCE", "standard", "Standard", "bad", ""])
def test_choices_convert_as_typer_converts_them(text: str) -> None:
    for _, param in PARAMS:
        if param.type_descriptor.is_choice:
            _same_as_typer(param, text)


@pytest.mark.parametrize(
    "value", [("a=1", "b=2"), [], ("",), ("\udcff",), "one", True, False, None, 3, 2.5]
)
def test_other_values_convert_as_typer_converts_them(value: Any) -> None:
    for _, param in PARAMS:
        _same_as_typer(param, value)
