"""pydantic's ValidationError as one-line messages: ``file:line: key.path: expected ..., got ...``.

`schema_errors` lists every problem in file order, one per key path (a value
that fails each member of a union is one problem, not several); `first_error`
is the first of them, the one `load_config` raises. Unknown keys and bad names get a "did you
mean" hint from the model's own field names and allowed values.

This module knows pydantic and the YAML source, never the config's models:
the root model is passed in, so `config` imports this one and not the reverse.
"""

from __future__ import annotations

import math
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from backprop_core.config.yaml_source import YAML11_BOOLEANS, Key, Source
from backprop_core.errors import ConfigError, close_matches, did_you_mean

Group = tuple[Key, list[dict[str, Any]]]  # a key path and pydantic's errors for it


def not_a_mapping(source: Source) -> ConfigError:
    """A config whose top level is not a mapping (an empty file, a list, a number)."""
    got = "an empty file" if source.data is None else type(source.data).__name__
    return ConfigError(f"expected a mapping of config keys, got {got}", file=source.label, line=1)


def schema_errors(
    error: ValidationError, source: Source, root: type[BaseModel]
) -> list[ConfigError]:
    """Every problem in `error`, in file order, one per key path; `root` is the model validated."""
    return [_report(group, source, root) for group in _ranked(error, source, root)]


def first_error(error: ValidationError, source: Source, root: type[BaseModel]) -> ConfigError:
    """The problem written first in the file."""
    return _report(_ranked(error, source, root)[0], source, root)


def _ranked(error: ValidationError, source: Source, root: type[BaseModel]) -> list[Group]:
    """pydantic's errors grouped by key path (a union gives several), in file order."""
    groups: dict[Key, list[dict[str, Any]]] = {}
    for item in error.errors(include_url=False):
        groups.setdefault(_data_key(tuple(item["loc"]), source.data), []).append(item)
    # A misspelt key is both unknown and missing; its "did you mean" says it all.
    for key in [k for k, items in groups.items() if items[0]["type"] == "extra_forbidden"]:
        match = close_matches(str(key[-1]), _fields_at(root, key[:-1]))
        missing = (*key[:-1], match[0]) if match else None
        if missing in groups and {i["type"] for i in groups[missing]} == {"missing"}:
            del groups[missing]
    ranked = []
    for key, items in groups.items():
        _, line = source.locate(key)
        # At the same line, an unknown key comes before the "missing" it usually
        # causes (a misspelt key is both), and the deepest key is the most precise.
        kinds = {item["type"] for item in items}
        rank = 0 if "extra_forbidden" in kinds else 2 if kinds == {"missing"} else 1
        ranked.append(((line or 0, rank, -len(key)), key, items))
    ranked.sort(key=lambda r: r[0])
    return [(key, items) for _, key, items in ranked]


def _report(group: Group, source: Source, root: type[BaseModel]) -> ConfigError:
    key, items = group
    if {item["type"] for item in items} == {"missing"}:
        # Point at the mapping that lacks the key: that is where it belongs.
        return source.error(key[:-1], _expected(items[0], key, root))
    return source.error(key, _merged(items, key, root))


def _merged(items: list[dict[str, Any]], key: Key, root: type[BaseModel]) -> str:
    """A value that failed every member of a union: ``expected a number or a string, got {}``."""
    if len(items) == 1:
        return _expected(items[0], key, root)
    wants: list[str] = []
    for item in items:
        text = _expected(item, key, root).split(", got ")[0].removeprefix("expected ")
        if text not in wants:
            wants.append(text)
    return f"expected {' or '.join(wants)}, got {_show(items[0].get('input'))}"


def _data_key(loc: tuple[Any, ...], data: Any) -> Key:
    """Drop pydantic's union-member tags from `loc`, keeping the path into the data."""
    key: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
            key.append(part)
        elif (
            isinstance(node, dict)
            and isinstance(part, str)
            and not part.startswith(("literal[", "function-", "int", "str", "float", "list["))
        ):
            key.append(part)  # a missing or unknown key
            node = None
    return tuple(key)


# pydantic error type -> what the user should have written
_EXPECTED = {
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected a whole number",
    "int_parsing_size": "expected an integer of reasonable size",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "finite_number": "expected a finite number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "string_unicode": "expected a string",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "none_required": "expected null",
}


def _expected(item: dict[str, Any], key: Key, root: type[BaseModel]) -> str:
    kind = item["type"]
    ctx = item.get("ctx") or {}
    value = item.get("input")
    if kind == "extra_forbidden":
        name = str(key[-1]) if key else ""
        return f"unknown key {name!r}{_unknown_key_hint(name, _fields_at(root, key[:-1]))}"
    if kind == "missing":
        return f"missing required key {str(key[-1])!r}" if key else "missing required key"
    if kind == "literal_error":
        text = f"expected one of {ctx.get('expected', '')}"
        hint = did_you_mean(str(value), _literal_options(ctx))
        return f"{text}, got {_show(value)}{hint}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{_bound_text(kind, ctx, value, key)}, got {_show(value)}"
    if kind == "too_short":
        n = ctx.get("min_length")
        return f"expected at least {n} item{'s' if n != 1 else ''}, got {_show(value)}"
    if kind == "too_long":
        n = ctx.get("max_length")
        return f"expected at most {n} item{'s' if n != 1 else ''}, got {_show(value)}"
    if kind in ("value_error", "assertion_error"):
        # Our own validators write complete "expected ..." sentences.
        return (
            str(item.get("msg", ""))
            .removeprefix("Value error, ")
            .removeprefix("Assertion failed, ")
        )
    if kind.startswith("bool_") and isinstance(value, str) and value.lower() in YAML11_BOOLEANS:
        meant = YAML11_BOOLEANS[value.lower()]
        return (
            f"expected true or false, got {_show(value)}: bp reads YAML 1.2, where "
            f"{value} is text, not a boolean; write {meant}"
        )
    if kind in ("model_type", "dict_type") and key and key[-1] in _SHORTHAND:
        return f"expected {_SHORTHAND[str(key[-1])]}, got {_show(value)}"
    base = _EXPECTED.get(kind) or f"expected a valid value ({item.get('msg', kind)})"
    return f"{base}, got {_show(value)}"


# Keys that take a bare name as shorthand for {name: ...}.
_SHORTHAND = {
    "activation": "an activation name or a mapping such as {name: linear, slope: 2}",
    "optimizer": "an optimizer name or a mapping such as {name: momentum, momentum: 0.9}",
}
# Fields holding counts (the others with bounds hold real numbers).
_INT_KEYS = {"units", "inputs", "epochs", "samples", "classes", "seed"}


def _bound_text(kind: str, ctx: dict[str, Any], value: Any, key: Key) -> str:
    whole = bool(key) and key[-1] in _INT_KEYS
    if whole and kind == "greater_than" and ctx.get("gt") == 0:
        return "expected a positive integer"
    if whole and kind == "greater_than_equal" and ctx.get("ge") == 0:
        return "expected a non-negative integer"
    symbol = {
        "greater_than": ">",
        "greater_than_equal": ">=",
        "less_than": "<",
        "less_than_equal": "<=",
    }[kind]
    bound = next(iter(ctx.values()), "")
    shown = f"{bound:g}" if isinstance(bound, (int, float)) else str(bound)
    return f"expected {'an integer' if whole else 'a number'} {symbol} {shown}"


def _literal_options(ctx: dict[str, Any]) -> list[str]:
    return [
        part.strip().strip("'")
        for part in str(ctx.get("expected", "")).replace(" or ", ",").split(",")
    ]


def _show(value: Any) -> str:
    """A value as the user wrote it in YAML (``.nan``, ``true``, ``'text'``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    return (
        repr(value)
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )


def _unknown_key_hint(name: str, options: list[str]) -> str:
    """The closest field name, else the list of fields the mapping takes."""
    hint = did_you_mean(name, options)
    if hint or not options:
        return hint
    return f"; expected one of {', '.join(options)}"


def _fields_at(root: type[BaseModel], key: Key) -> list[str]:
    """The field names of the model that sits at `key` below `root`."""
    model: Any = root
    for part in key:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if _is_model(model) else None
        if field is None:
            return []
        model = _inner_model(field.annotation)
    return list(model.model_fields) if _is_model(model) else []


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _inner_model(annotation: Any) -> Any:
    if _is_model(annotation):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
