"""Option values converted without building a pydantic TypeAdapter per option.

Typer 0.29 converts every option value (defaults included) through a pydantic
`TypeAdapter` it builds when the command is parsed: about a millisecond per
option, and `bp train` has ten. For the plain values bp's options take (a
path, a whole number, a decimal number, text, a list of text, a choice) the
conversion is done here instead, and only when its result is certain to be the
one Typer's adapter would give: anything else (a value out of range, ``1_000``,
`` 5``, ``inf``) is handed to Typer's own conversion, which makes its own error
message. So every message stays Typer's, word for word.

This relies on Typer's internals (`typer._coercion.RuntimeParam` and each
parameter's ``_runtime_param``), so pyproject.toml pins Typer's minor version;
where they are missing, `install` changes nothing and Typer converts as usual
(tests/test_startup.py checks that the quick conversion is in use).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

try:
    from typer._coercion import RuntimeParam
    from typer._param_types import coerce_cli_choice, coerce_cli_path
except ImportError:  # another Typer: its own conversion for every option
    RuntimeParam = None  # type: ignore[assignment,misc]

# Only forms whose value Python and pydantic read alike: no spaces, no `_`, no
# inf/nan, at most 18 digits (pydantic also takes "1.0" as an int; Typer does that).
# (Compiled on first use: `bp --help` converts nothing.)
_INT = r"[-+]?[0-9]{1,18}"
_FLOAT = r"[-+]?(?:[0-9]{1,300}\.?[0-9]{0,300}|\.[0-9]{1,300})(?:[eE][-+]?[0-9]{1,4})?"


class DeclinedError(Exception):
    """This value is left to Typer's own conversion."""


Convert = Callable[[Any, Any, Any], Any]  # (value, parameter, context) -> value


class QuickConversion:
    """A mixin for Typer's command and group classes: their parameters, the help
    option Click adds among them, convert their values here where they can."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        install(params)
        return params


def install(params: list[Any]) -> None:
    """Give each parameter the quick conversion, where one applies (once)."""
    if RuntimeParam is None:
        return
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", "absent") is not None:
            continue
        if _converter(descriptor) is not None:
            param._runtime_param = QuickParam(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )


if RuntimeParam is not None:

    class QuickParam(RuntimeParam):
        """Typer's runtime parameter (its `coerce` handles None and repeated values)
        with the value converted here, or by Typer when `_converter`'s declines."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            convert = _converter(param.type_descriptor)
            try:
                if convert is None:
                    raise DeclinedError
                return convert(value, param, ctx)
            except DeclinedError:
                param._runtime_param = None  # Typer builds its own, as without this module
                return param.get_runtime_param()._coerce_value(value, param=param, ctx=ctx)


def _converter(descriptor: Any) -> Convert | None:
    """The quick conversion for a parameter's annotation, or None to leave it to Typer."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None:
        return None
    annotation = descriptor.annotation
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        leaf = _leaf(item, info)
        if leaf is None:
            return None

        def each(value: Any, param: Any, ctx: Any) -> list[Any]:
            if not isinstance(value, (list, tuple)):
                raise DeclinedError
            return [leaf(v, param, ctx) for v in value]

        return each
    return _leaf(annotation, info)


def _leaf(annotation: Any, info: Any) -> Convert | None:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choice(tuple(annotation), info.case_sensitive)
    if annotation is int or annotation is float:
        return _number(annotation, info)
    if annotation is str or annotation is bool:
        return _same(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Path) and not info.allow_dash:
        path_type = info.path_type or annotation
        if isinstance(path_type, type) and issubclass(path_type, Path):
            return _path(path_type, info)
    return None


def _same(kind: type) -> Convert:
    """Text as text, a flag's True/False as itself (a flag's text from the environment: Typer)."""

    def same(value: Any, param: Any, ctx: Any) -> Any:
        if type(value) is not kind:
            raise DeclinedError
        return value

    return same


def _number(kind: type, info: Any) -> Convert | None:
    if info.clamp:
        return None
    pattern = _INT if kind is int else _FLOAT
    low, high = info.min, info.max

    def number(value: Any, param: Any, ctx: Any) -> Any:
        if type(value) is kind:
            result = value
        elif type(value) is str and re.fullmatch(pattern, value):
            result = kind(value)
        else:
            raise DeclinedError
        if (low is not None and result < low) or (high is not None and result > high):
            raise DeclinedError  # Typer says what the bound is
        return result

    return number


def _choice(choices: tuple[Any, ...], case_sensitive: bool) -> Convert:
    def choice(value: Any, param: Any, ctx: Any) -> Any:
        try:
            return coerce_cli_choice(value, choices=choices, case_sensitive=case_sensitive, ctx=ctx)
        except ValueError:
            raise DeclinedError from None

    return choice


def _path(path_type: type[Path], info: Any) -> Convert:
    def path(value: Any, param: Any, ctx: Any) -> Path:
        # Typer makes the text a Path (with pydantic: path_type(text)) and checks that
        # (exists, is a file, ...): the same when the text is already the Path's own
        # spelling ("" is ".", "a/" is "a": Typer's).
        if type(value) is not str or str(path_type(value)) != value:
            raise DeclinedError
        checked = coerce_cli_path(value, info, path_type=None, param=param, ctx=ctx)
        return checked if isinstance(checked, path_type) else path_type(checked)

    return path
