"""Reading a config: YAML with ``--set`` applied, validated key by key, then as a whole.

`load_config` reads YAML (a file, or the built-in reference example), applies
``--set`` overrides, validates it against the `model`, checks the rules that
span keys (`semantics`), and turns the first problem into a one-line
`ConfigError` that names the file, line, key path and what was expected
(`errors` writes that line).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from backprop_core.config.errors import first_error, not_a_mapping, schema_errors
from backprop_core.config.model import Config, LoadedConfig
from backprop_core.config.semantics import check_semantics
from backprop_core.config.yaml_source import Source, apply_override, read_file
from backprop_core.errors import ConfigError


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
    return validate(read_source(path, overrides))


def schema_problems(source: Source) -> list[ConfigError]:
    """Every schema problem of a config, in file order, one per key (`bp check` lists them).

    Reading errors (missing file, bad YAML, a bad ``--set``) raise ConfigError as
    in `load_config`; an empty list means the schema is satisfied (semantic
    checks and the data come after, in `load_config` and `load_experiment`).
    """
    if not isinstance(source.data, dict):
        return [not_a_mapping(source)]
    try:
        Config.model_validate(source.data)
    except ValidationError as e:
        return schema_errors(e, source, Config)
    return []


def read_source(path: Path | None, overrides: list[str] | tuple[str, ...] = ()) -> Source:
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
