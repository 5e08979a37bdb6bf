"""The config model (SPEC §3): frozen pydantic models, names read from the tables.

`load_config` reads YAML (a file, or the built-in reference example), applies
``--set`` overrides, validates, and turns the first problem into a one-line
`ConfigError` that names the file, line, key path and what was expected
(`config_errors` writes that line; `config_semantics` checks the rules that
span keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic import Strict as StrictMode

from backprop_core.config.errors import first_error, not_a_mapping, schema_errors
from backprop_core.config.semantics import MAX_PARAMETERS as MAX_PARAMETERS
from backprop_core.config.semantics import check_semantics
from backprop_core.config.yaml_source import Key, Source, apply_override, read_file
from backprop_core.engine.activations import ACTIVATIONS, Activation
from backprop_core.engine.generators import GENERATORS
from backprop_core.engine.init_schemes import INIT_SCHEMES
from backprop_core.engine.losses import LOSSES
from backprop_core.engine.optimizers import OPTIMIZERS
from backprop_core.errors import ConfigError

ActivationName = Literal[tuple(ACTIVATIONS)]  # type: ignore[valid-type]
LossName = Literal[tuple(LOSSES)]  # type: ignore[valid-type]
InitName = Literal[tuple(INIT_SCHEMES)]  # type: ignore[valid-type]
GeneratorName = Literal[tuple(GENERATORS)]  # type: ignore[valid-type]
OptimizerName = Literal[tuple(OPTIMIZERS)]  # type: ignore[valid-type]
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


# Every parameter any activation takes, in record order: each is an optional key
# of `activation` (the records say which activation takes which).
ACTIVATION_PARAMETERS = tuple(dict.fromkeys(p for a in ACTIVATIONS.values() for p in a.parameters))


class _ActivationSpec(Strict):
    name: ActivationName

    _coerce = model_validator(mode="before")(_name_or_mapping)

    @model_validator(mode="after")
    def _params_belong(self) -> _ActivationSpec:
        allowed = ACTIVATIONS[self.name].parameters
        for param in ACTIVATION_PARAMETERS:
            if getattr(self, param) is not None and param not in allowed:
                takes = f"takes {', '.join(allowed)}" if allowed else "takes no parameters"
                raise ValueError(f"{self.name} {takes}, not {param}")
        return self

    def build(self) -> Activation:
        defaults = ACTIVATIONS[self.name].parameters
        params = {
            k: float(getattr(self, k) if getattr(self, k) is not None else v)
            for k, v in defaults.items()
        }
        return Activation(self.name, params)


if TYPE_CHECKING:
    ActivationSpec = _ActivationSpec
else:  # one optional key per parameter, read from the records
    ActivationSpec = create_model(
        "ActivationSpec",
        __base__=_ActivationSpec,
        **{p: (FiniteFloat | None, None) for p in ACTIVATION_PARAMETERS},
    )


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
    name: OptimizerName = "sgd"
    momentum: Annotated[FiniteFloat, Field(ge=0, lt=1)] = 0.9
    beta1: Annotated[FiniteFloat, Field(ge=0, lt=1)] = 0.9
    beta2: Annotated[FiniteFloat, Field(ge=0, lt=1)] = 0.999
    epsilon: PositiveFloat = 1e-8

    _coerce = model_validator(mode="before")(_name_or_mapping)

    @model_validator(mode="after")
    def _params_belong(self) -> OptimizerSpec:
        # A momentum given to plain sgd would be silently ignored: say so instead.
        allowed = OPTIMIZERS[self.name].takes
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
    package = Path(__file__).resolve().parent.parent  # backprop_core/
    for folder in (package / "configs", package.parent / "configs"):
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    raise ConfigError(f"built-in config {name!r} is missing from this installation")


def load_config(
    path: Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> LoadedConfig:
    return validate(_read(path, overrides))


def schema_problems(
    path: Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> list[ConfigError]:
    """Every schema problem of a config, in file order, one per key (`bp check` lists them).

    Reading errors (missing file, bad YAML, a bad ``--set``) raise ConfigError as
    in `load_config`; an empty list means the schema is satisfied (semantic
    checks and the data come after, in `load_config` and `load_experiment`).
    """
    source = _read(path, overrides)
    if not isinstance(source.data, dict):
        return [not_a_mapping(source)]
    try:
        Config.model_validate(source.data)
    except ValidationError as e:
        return schema_errors(e, source, Config)
    return []


def _read(path: Path | None, overrides: list[str] | tuple[str, ...]) -> Source:
    """The YAML at `path` (default: the built-in reference example) with ``--set`` applied."""
    source = read_file(path if path is not None else builtin_config_path())
    for assignment in overrides:
        apply_override(source, assignment)
    return source


def validate(source: Source) -> LoadedConfig:
    if not isinstance(source.data, dict):
        raise not_a_mapping(source)
    try:
        config = Config.model_validate(source.data)
    except ValidationError as e:
        raise first_error(e, source, Config) from None
    loaded = LoadedConfig(config, source)
    check_semantics(loaded)
    return loaded
