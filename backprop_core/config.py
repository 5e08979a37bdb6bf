"""The config model (SPEC §3): frozen pydantic models, names read from the tables.

`load_config` reads YAML (a file, or the built-in reference example), applies
``--set`` overrides, validates, and turns the first problem into a one-line
`ConfigError` that names the file, line, key path and what was expected.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic import Strict as StrictMode

from backprop_core.activations import ACTIVATIONS, PARAMETERS, Activation
from backprop_core.errors import ConfigError
from backprop_core.losses import LOSSES, REQUIRED_OUTPUT
from backprop_core.network import INIT_SCHEMES
from backprop_core.yaml_source import Key, Source, apply_override, read_file

ActivationName = Literal[tuple(ACTIVATIONS)]  # type: ignore[valid-type]
LossName = Literal[tuple(LOSSES)]  # type: ignore[valid-type]
InitName = Literal[INIT_SCHEMES]  # type: ignore[valid-type]
GENERATORS = ("xor", "circles", "moons", "spiral", "sine")
GeneratorName = Literal[GENERATORS]  # type: ignore[valid-type]
# Strict scalars: YAML already gives numbers and booleans their types, so the
# string "3" or `true` where a count belongs is a mistake to report, not coerce.
# (A float field still takes an integer: `eta: 1` means 1.0.)
FiniteFloat = Annotated[float, StrictMode(), AllowInfNan(False)]
PositiveFloat = Annotated[FiniteFloat, Field(gt=0)]
NonNegativeFloat = Annotated[FiniteFloat, Field(ge=0)]
PositiveInt = Annotated[StrictInt, Field(gt=0)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _name_or_mapping(value: Any) -> Any:
    """`sigmoid` and `{name: sigmoid}` mean the same."""
    return {"name": value} if isinstance(value, str) else value


class ActivationSpec(Strict):
    name: ActivationName
    slope: FiniteFloat | None = None
    alpha: FiniteFloat | None = None

    _coerce = model_validator(mode="before")(_name_or_mapping)

    @model_validator(mode="after")
    def _params_belong(self) -> ActivationSpec:
        allowed = PARAMETERS.get(self.name, {})
        for param in ("slope", "alpha"):
            if getattr(self, param) is not None and param not in allowed:
                takes = f"takes {', '.join(allowed)}" if allowed else "takes no parameters"
                raise ValueError(f"{self.name} {takes}, not {param}")
        return self

    def build(self) -> Activation:
        defaults = PARAMETERS.get(self.name, {})
        params = {
            k: float(getattr(self, k) if getattr(self, k) is not None else v)
            for k, v in defaults.items()
        }
        return Activation(self.name, params)


class LayerSpec(Strict):
    units: PositiveInt
    activation: ActivationSpec = ActivationSpec(name="sigmoid")
    bias: StrictBool = True
    weights: list[list[FiniteFloat]] | None = None
    biases: list[FiniteFloat] | None = None


class Standardization(Strict):
    """Input scaling learned from the training split, kept with a trained model."""

    mean: list[FiniteFloat]
    std: list[PositiveFloat]


class NetworkSpec(Strict):
    inputs: PositiveInt
    init: InitName = "xavier"
    layers: list[LayerSpec] = Field(min_length=1)
    # Filled in by `--save`: where large weight sets live, how inputs were
    # scaled, and the class names in output order.
    weights_file: str | None = None
    standardization: Standardization | None = None
    classes: list[str] | None = None


def _rows(value: Any) -> Any:
    """A bare number is a row of width 1."""
    if isinstance(value, list):
        return [row if isinstance(row, list) else [row] for row in value]
    return value


Rows = Annotated[list[list[FiniteFloat]], BeforeValidator(_rows)]
LabelRows = Annotated[list[list[FiniteFloat | str]], BeforeValidator(_rows)]


class FileSource(Strict):
    path: str
    targets: list[str] | None = None
    inputs: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_target(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("targets"), str):
            return {**value, "targets": [value["targets"]]}
        return value


class GenerateSource(Strict):
    name: GeneratorName
    samples: PositiveInt = 200
    noise: NonNegativeFloat = 0.1
    classes: Annotated[StrictInt, Field(ge=2)] = 3


class DataSpec(Strict):
    inputs: Rows | None = None
    targets: LabelRows | None = None
    file: FileSource | None = None
    generate: GenerateSource | None = None
    validation: Annotated[FiniteFloat, Field(ge=0, lt=1)] = 0.0
    standardize: StrictBool = False

    @model_validator(mode="after")
    def _exactly_one_source(self) -> DataSpec:
        inline = self.inputs is not None or self.targets is not None
        count = sum([inline, self.file is not None, self.generate is not None])
        if count != 1:
            raise ValueError("expected exactly one data source: inputs+targets, file or generate")
        if inline and (self.inputs is None or self.targets is None):
            raise ValueError("inline data needs both inputs and targets")
        return self


def _batch_size(value: Any) -> Any:
    if value == "full" or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value
    raise ValueError(f"expected 'full' or a positive integer, got {value!r}")


class OptimizerSpec(Strict):
    name: Literal["sgd", "momentum", "adam"] = "sgd"
    momentum: Annotated[FiniteFloat, Field(ge=0, lt=1)] = 0.9
    beta1: Annotated[FiniteFloat, Field(ge=0, lt=1)] = 0.9
    beta2: Annotated[FiniteFloat, Field(ge=0, lt=1)] = 0.999
    epsilon: PositiveFloat = 1e-8

    _coerce = model_validator(mode="before")(_name_or_mapping)

    @model_validator(mode="after")
    def _params_belong(self) -> OptimizerSpec:
        # A momentum given to plain sgd would be silently ignored: say so instead.
        takes = {"sgd": (), "momentum": ("momentum",), "adam": ("beta1", "beta2", "epsilon")}
        allowed = takes[self.name]
        for param in sorted(self.model_fields_set - {"name", *allowed}):
            what = f"takes {', '.join(allowed)}" if allowed else "takes no parameters"
            raise ValueError(f"optimizer {self.name} {what}, not {param}")
        return self


class TrainingSpec(Strict):
    eta: PositiveFloat = 0.1
    epochs: PositiveInt = 100
    batch_size: Annotated[int | str, BeforeValidator(_batch_size)] = "full"
    shuffle: StrictBool = True
    optimizer: OptimizerSpec = OptimizerSpec()
    freeze: list[str] = []
    stop_at_loss: NonNegativeFloat | None = None
    precision: Literal["float64", "float32"] = "float64"


class TrainedRecord(Strict):
    """Written by `--save`: what produced these weights."""

    epochs: NonNegativeInt
    final_loss: float | None = None
    status: str = "completed"
    bp_version: str = ""
    note: str | None = None


class Config(Strict):
    name: str | None = None
    seed: NonNegativeInt = 0
    network: NetworkSpec
    loss: LossName = "sse"
    data: DataSpec
    training: TrainingSpec = TrainingSpec()
    trained: TrainedRecord | None = None


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config with the source it came from (for later error locations)."""

    config: Config
    source: Source

    @property
    def folder(self) -> Path:
        return self.source.folder

    def error(self, key: Key, message: str) -> ConfigError:
        return self.source.error(key, message)


def builtin_config_path(name: str = "tiny") -> Path:
    """The shipped example configs: inside the installed package, else the repo's folder."""
    here = Path(__file__).resolve().parent
    for folder in (here / "configs", here.parent / "configs"):
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    raise ConfigError(f"built-in config {name!r} is missing from this installation")


def load_config(
    path: Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> LoadedConfig:
    source = read_file(path if path is not None else builtin_config_path())
    for assignment in overrides:
        apply_override(source, assignment)
    return validate(source)


def schema_problems(
    path: Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> list[ConfigError]:
    """Every schema problem of a config, in file order, one per key (`bp check` lists them).

    Reading errors (missing file, bad YAML, a bad ``--set``) raise ConfigError as
    in `load_config`; an empty list means the schema is satisfied (semantic
    checks and the data come after, in `load_config` and `load_experiment`).
    """
    source = read_file(path if path is not None else builtin_config_path())
    for assignment in overrides:
        apply_override(source, assignment)
    if not isinstance(source.data, dict):
        return [_not_a_mapping(source)]
    try:
        Config.model_validate(source.data)
    except ValidationError as e:
        return [_report(group, source) for group in _ranked(e, source)]
    return []


def _not_a_mapping(source: Source) -> ConfigError:
    got = "an empty file" if source.data is None else type(source.data).__name__
    return ConfigError(f"expected a mapping of config keys, got {got}", file=source.label, line=1)


def validate(source: Source) -> LoadedConfig:
    if not isinstance(source.data, dict):
        got = "an empty file" if source.data is None else type(source.data).__name__
        raise ConfigError(
            f"expected a mapping of config keys, got {got}", file=source.label, line=1
        )
    try:
        config = Config.model_validate(source.data)
    except ValidationError as e:
        raise _first_error(e, source) from None
    loaded = LoadedConfig(config, source)
    check_semantics(loaded)
    return loaded


# Beyond this a network no longer fits a "small network" tool's memory budget
# (800 MB of float64 weights before gradients and optimizer state).
MAX_PARAMETERS = 100_000_000


def check_semantics(loaded: LoadedConfig) -> None:
    """Rules that span keys: layer shapes, softmax placement, loss/output pairing."""
    c = loaded.config
    layers = c.network.layers
    K = len(layers)
    units = [c.network.inputs, *(layer.units for layer in layers)]
    total = 0
    for k, layer in enumerate(layers, start=1):
        at: Key = ("network", "layers", k - 1)
        total += (units[k - 1] + layer.bias) * units[k]
        if total > MAX_PARAMETERS:
            raise loaded.error(
                (*at, "units"),
                f"the network would have more than {MAX_PARAMETERS:,} weights; bp trains "
                "small networks",
            )
        if layer.activation.name == "softmax" and k != K:
            raise loaded.error((*at, "activation"), "softmax is only allowed on the output layer")
        if layer.weights is not None:
            rows, cols = len(layer.weights), {len(r) for r in layer.weights}
            if rows != units[k - 1] or cols != {units[k]}:
                got = f"{rows} rows of {'/'.join(map(str, sorted(cols))) or 0}"
                raise loaded.error(
                    (*at, "weights"),
                    f"expected {units[k - 1]} rows (source nodes) of {units[k]} values "
                    f"(destination nodes), got {got}",
                )
        if layer.biases is not None:
            if not layer.bias:
                raise loaded.error((*at, "biases"), "biases given but the layer has bias: false")
            if len(layer.biases) != units[k]:
                raise loaded.error(
                    (*at, "biases"), f"expected {units[k]} values, got {len(layer.biases)}"
                )
    output = layers[-1].activation.name
    required = REQUIRED_OUTPUT.get(c.loss)
    if required and output != required:
        raise loaded.error(
            ("loss",), f"{c.loss} needs a {required} output layer, but the output is {output}"
        )
    if output == "softmax" and c.loss != "cross_entropy":
        raise loaded.error(
            ("network", "layers", K - 1, "activation"), "softmax output needs loss cross_entropy"
        )
    if c.network.standardization is not None:
        for field in ("mean", "std"):
            if len(getattr(c.network.standardization, field)) != units[0]:
                raise loaded.error(
                    ("network", "standardization", field), f"expected {units[0]} values"
                )


# --- turning pydantic's errors into one line ------------------------------------


def _first_error(error: ValidationError, source: Source) -> ConfigError:
    """The problem written first in the file, as ``file:line: key.path: expected ..., got ...``."""
    return _report(_ranked(error, source)[0], source)


def _ranked(error: ValidationError, source: Source) -> list[tuple[Key, list[dict[str, Any]]]]:
    """pydantic's errors grouped by key path (a union gives several), in file order."""
    groups: dict[Key, list[dict[str, Any]]] = {}
    for item in error.errors(include_url=False):
        groups.setdefault(_data_key(tuple(item["loc"]), source.data), []).append(item)
    # A misspelt key is both unknown and missing; its "did you mean" says it all.
    for key in [k for k, items in groups.items() if items[0]["type"] == "extra_forbidden"]:
        match = difflib.get_close_matches(str(key[-1]), _fields_at(key[:-1]), n=1, cutoff=0.6)
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


def _report(group: tuple[Key, list[dict[str, Any]]], source: Source) -> ConfigError:
    key, items = group
    if {item["type"] for item in items} == {"missing"}:
        # Point at the mapping that lacks the key: that is where it belongs.
        return source.error(key[:-1], _expected(items[0], key))
    return source.error(key, _merged(items, key))


def _merged(items: list[dict[str, Any]], key: Key) -> str:
    """A value that failed every member of a union: ``expected a number or a string, got {}``."""
    if len(items) == 1:
        return _expected(items[0], key)
    wants: list[str] = []
    for item in items:
        text = _expected(item, key).split(", got ")[0].removeprefix("expected ")
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


def _expected(item: dict[str, Any], key: Key) -> str:
    kind = item["type"]
    ctx = item.get("ctx") or {}
    value = item.get("input")
    if kind == "extra_forbidden":
        name = str(key[-1]) if key else ""
        return f"unknown key {name!r}{_did_you_mean(name, key[:-1])}"
    if kind == "missing":
        return f"missing required key {str(key[-1])!r}" if key else "missing required key"
    if kind == "literal_error":
        text = f"expected one of {ctx.get('expected', '')}"
        suggestion = difflib.get_close_matches(str(value), _literal_options(ctx), n=1)
        hint = f" (did you mean {suggestion[0]!r}?)" if suggestion else ""
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


def _did_you_mean(name: str, parent: Key) -> str:
    options = _fields_at(parent)
    match = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if match:
        return f" (did you mean {match[0]!r}?)"
    return f"; expected one of {', '.join(options)}" if options else ""


def _fields_at(key: Key) -> list[str]:
    """The field names of the model that sits at `key` in a Config."""
    model: Any = Config
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
