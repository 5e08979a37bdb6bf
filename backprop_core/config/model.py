"""The config model (SPEC §3): frozen pydantic models, names read from the tables.

Each key is checked on its own here; `semantics` checks the rules that span
keys on a `LoadedConfig`, and `load` reads, validates and checks a file.

No ``from __future__ import annotations`` here: pydantic would evaluate every
field's annotation from its text when the classes are made, about a fifth of
this module's import time, which every `bp check` and `bp train` pays.
"""

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
    create_model,
    model_validator,
)
from pydantic import Strict as StrictMode

from backprop_core.config.yaml_source import Key, Source
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
    # defer_build: only the validator of the model actually validated (Config) is
    # built, on first use, with the nested models inside it; building one for
    # every model class at import cost more than a whole `bp check`.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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
    def _params_belong(self) -> "_ActivationSpec":
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
    # Defaults are constructed, not validated, so defining them builds no validator.
    activation: ActivationSpec = ActivationSpec.model_construct(name="sigmoid")
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
    def _exactly_one_source(self) -> "DataSpec":
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
    def _params_belong(self) -> "OptimizerSpec":
        # A momentum given to plain sgd would be silently ignored: say so instead.
        allowed = OPTIMIZERS[self.name].takes
        for param in sorted(self.model_fields_set - {"name", *allowed}):
            what = f"takes {', '.join(allowed)}" if allowed else "takes no parameters"
            raise ValueError(f"optimizer {self.name} {what}, not {param}")
        return self

    def settings(self) -> dict[str, float]:
        """Every setting but the name, for `make_optimizer` (read directly: `model_dump`
        would build this model's serializer, a noticeable part of a `bp train` start)."""
        return {key: getattr(self, key) for key in type(self).model_fields if key != "name"}


class TrainingSpec(Strict):
    eta: PositiveFloat = 0.1
    epochs: PositiveInt = 100
    batch_size: Annotated[int | str, BeforeValidator(_batch_size)] = "full"
    shuffle: StrictBool = True
    optimizer: OptimizerSpec = OptimizerSpec.model_construct()
    freeze: list[str] = []
    stop_at_loss: NonNegativeFloat | None = None
    precision: Literal["float64", "float32"] = "float64"
    # BLAS threads for the matrix products; None: run/threads.py's default_threads.
    threads: PositiveInt | None = None
    # auto: the scalar path (engine/scalar_path.py) when the network takes it.
    engine: Literal["auto", "vector", "scalar"] = "auto"


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
    training: TrainingSpec = TrainingSpec.model_construct()
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
