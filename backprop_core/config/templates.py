"""`bp init`: the shipped example configs as ready-to-edit templates.

A template's text is the shipped ``configs/<name>.yaml`` itself (one copy, so
the examples the tests train are exactly what `init` writes). A template that
reads a data file (iris, csv) also writes that file, at the same relative
path beside the new config (``data/iris.csv``), so it trains as written.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from backprop_core.atomic import check_writable, write_bytes
from backprop_core.config.load import builtin_config_path
from backprop_core.errors import ConfigError, did_you_mean

# name -> one line for `bp init --list`, in the order listed.
TEMPLATES: dict[str, str] = {
    "tiny": "the reference example: the hand derivation's 1-1-2-1 linear network",
    "tiny-all": "the same network with every weight trained (diverges at eta 0.03)",
    "xor": "XOR truth table, 2-2-1 tanh/sigmoid network, bce",
    "spiral": "three spiral arms (generated), softmax classifier",
    "iris": "Fisher's iris CSV (150 rows), 20% validation, standardized inputs",
    "sine": "regression of sin(x) from noisy samples (generated), mse",
    "csv": "a CSV regression skeleton with a small shipped table",
    "csv-classifier": "a CSV classifier skeleton: a text label column, softmax, a shipped table",
}


@dataclass(frozen=True)
class FileToWrite:
    path: Path
    content: bytes


def resolve(name: str) -> str:
    if name in TEMPLATES:
        return name
    hint = did_you_mean(name, TEMPLATES)
    raise ConfigError(f"unknown template {name!r}{hint}; templates: {', '.join(TEMPLATES)}")


def data_files(name: str) -> list[str]:
    """Relative paths of the data files the template's config reads."""
    source = builtin_config_path(name)
    doc = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    file = (doc.get("data") or {}).get("file") or {}
    path = file.get("path") if isinstance(file, dict) else None
    return [path] if isinstance(path, str) and not Path(path).is_absolute() else []


def plan(name: str, target: Path) -> list[FileToWrite]:
    """The files `init` writes for template `name` at `target` (a file or a folder)."""
    name = resolve(name)
    if target.is_dir():
        target = target / f"{name}.yaml"
    source = builtin_config_path(name)
    files = [FileToWrite(target, source.read_bytes())]
    for relative in data_files(name):
        files.append(FileToWrite(target.parent / relative, (source.parent / relative).read_bytes()))
    return files


def write_template(name: str, target: Path, *, force: bool = False) -> list[Path]:
    """Write the template's files; never overwrite a different file unless `force`.

    Every file is checked before any is written, so a refusal writes nothing.
    A data file that already holds exactly the template's bytes is left alone.
    """
    files = plan(name, target)
    todo: list[FileToWrite] = []
    for f in files:
        if f.path.is_dir():
            raise ConfigError("is a folder; expected a file to write", file=str(f.path))
        if f.path.parent.is_dir():  # a data/ folder yet to be made is checked when made
            check_writable(f.path)
        if f.path.exists() and not force:
            if f.path.read_bytes() == f.content and f is not files[0]:
                continue
            raise ConfigError("already exists; use --force to overwrite it", file=str(f.path))
        todo.append(f)
    written: list[Path] = []
    made: list[Path] = []
    try:
        for f in todo:
            if f is not files[0] and not f.path.parent.is_dir():
                # A template's data lives in a subfolder (data/) that may not exist yet.
                f.path.parent.mkdir(parents=True)
                made.append(f.path.parent)
            existed = f.path.exists()
            write_bytes(f.path, f.content)
            if not existed:
                written.append(f.path)
    except BaseException:
        # All or nothing: a full disk halfway leaves no config without its data.
        for path in written:
            path.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return [f.path for f in todo]
