"""Answer sheets: YAML mappings from quantity name to value, in the derivation's order.

Written as text (so each quantity carries its formula as a comment and the
same derivation always gives the same bytes); read back with line numbers, so
a bad entry is reported as ``answers.yaml:14: dL/dxh: ...``. Two keys are not
quantities: ``weights`` (whose derivations the sheet asks) and ``points`` (a
mapping from quantity name to its weight in the score, 1 by default).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from backprop_core.config.yaml_source import Source, read_file
from backprop_core.errors import ConfigError, did_you_mean
from backprop_core.explain.steps import fmt
from backprop_core.grading.quantities import Array, Derivation

WEIGHTS = "weights"
POINTS = "points"
MAX_GIVEN_WEIGHTS = 40  # past this the sheet says "see the config" instead of listing them

TITLES = {
    "forward": "Forward pass",
    "output": "Derivative of the loss",
    "chain": "Chain rule: the factors",
    "paths": "Paths",
    "deltas": "Delta recursion",
    "update": "Update",
    "after": "Forward pass after the update",
}


# --- writing ------------------------------------------------------------------------


def number_text(value: Array) -> str:
    """One value as the sheet writes it; a list for per-sample values."""
    a = np.asarray(value, np.float64)
    if a.ndim == 0:
        return fmt(float(a))
    return "[" + ", ".join(fmt(float(v)) for v in a) + "]"


def key_text(name: str) -> str:
    """A quantity name as a YAML key: plain when YAML reads it back as written."""
    try:
        if yaml.safe_load(f"{name}: 1") == {name: 1}:
            return name
    except yaml.YAMLError:
        pass
    return json.dumps(name)


def given_lines(derivation: Derivation, *, with_weights: bool = True) -> list[str]:
    """The givens, as comment lines: inputs and targets, the weights, eta."""
    givens = derivation.givens
    data = [
        f"{name} = {number_text(v if derivation.n > 1 else v[0])}"
        for name, v in givens
        if v.ndim == 1
    ]
    weights = [f"{name} = {number_text(v)}" for name, v in givens if v.ndim == 0]
    first = derivation.explanations[0].description
    lines = ["#   " + line for line in first if line.startswith(("network:", "layer "))]
    lines.append("#   " + ", ".join(data))
    if not with_weights:
        pass
    elif len(weights) > MAX_GIVEN_WEIGHTS:
        lines.append(f"#   the {len(weights)} weights: see the config")
    else:
        lines += ["#   " + ", ".join(weights[i : i + 6]) for i in range(0, len(weights), 6)]
    lines.append(f"#   eta = {fmt(derivation.eta)}")
    return lines


def batch_note(derivation: Derivation, example: str) -> list[str]:
    """How a batch's values are written (nothing for one sample)."""
    if derivation.n == 1:
        return []
    return [
        f"A value per sample is a list of {derivation.n}, e.g. {example};",
        "losses, paths and gradients are means over the samples.",
    ]


def sheet_text(derivation: Derivation, title: str, *, key: bool = False) -> str:
    """The sheet: blank, or (``key``) filled with bp's values."""
    lines = [
        f"# {title}",
        "# Write each value after its colon; leave it blank to skip it. Each comment is",
        "# the quantity's formula in names. Matching is to 3 significant digits.",
    ]
    lines += ["# " + line for line in batch_note(derivation, "[0.5, 0.25, ...]")]
    lines.append("# Given:")
    lines += given_lines(derivation)
    lines.append(f"{WEIGHTS}: [{', '.join(derivation.weights)}]")
    keys = [key_text(q.name) + ":" for q in derivation.quantities]
    width = max(len(k) for k in keys)
    values = [number_text(q.expected) if key else "" for q in derivation.quantities]
    value_width = max((len(v) for v in values), default=0)
    section = ""
    for q, k, v in zip(derivation.quantities, keys, values, strict=True):
        if q.section != section:
            section = q.section
            lines += ["", f"# {TITLES[section]}"]
        entry = f"{k} {v}" if v else k
        if q.formula:
            entry = f"{entry:<{width + value_width + 1}}  # {q.formula}"
        lines.append(entry)
    return "\n".join(lines) + "\n"


# --- reading ------------------------------------------------------------------------


@dataclass
class Answers:
    """A filled sheet: its weights, the values (None: blank) and the points per quantity."""

    source: Source
    weights: list[str]
    values: dict[str, Array | None] = field(default_factory=dict)
    points: dict[str, float] = field(default_factory=dict)


_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
# A number, or a fraction of two as written by hand (2/3).
_ANSWER = re.compile(rf"({_NUMBER})(?:\s*/\s*({_NUMBER}))?")


def number_of(text: str) -> float | None:
    """The number an answer writes (``0.667``, ``1e-3``, ``2/3``); None if it is not one."""
    match = _ANSWER.fullmatch(text.strip())
    if match is None:
        return None
    top, bottom = match.groups()
    if bottom is None:
        return float(top)
    return float(top) / float(bottom) if float(bottom) != 0 else None


def read_answers(path: Path) -> Answers:
    """The sheet at `path`, every value a number, a list of numbers or blank."""
    source = read_file(path)
    data = source.data
    if data is None:
        raise ConfigError("the sheet is empty", file=source.label)
    if not isinstance(data, dict):
        raise ConfigError(
            "expected a mapping from quantity names to values (name: value)",
            file=source.label,
            line=source.lines.get(()),
        )
    weights = data.get(WEIGHTS)
    if isinstance(weights, str):
        weights = [weights]
    if weights is not None and (
        not isinstance(weights, list) or not all(isinstance(w, str) for w in weights)
    ):
        raise source.error((WEIGHTS,), "expected a list of weight names, e.g. [xh1]")
    answers = Answers(source, list(weights or []))
    points = data.get(POINTS) or {}
    if not isinstance(points, dict):
        raise source.error((POINTS,), "expected a mapping from quantity name to points")
    for name, worth in points.items():
        if isinstance(worth, bool) or not isinstance(worth, (int, float)) or worth < 0:
            raise source.error((POINTS, name), f"expected a number of points >= 0, got {worth!r}")
        answers.points[str(name)] = float(worth)
    for name, value in data.items():
        if name in (WEIGHTS, POINTS):
            continue
        answers.values[str(name)] = _value(source, (name,), value)
    return answers


def _value(source: Source, key: tuple[Any, ...], value: Any) -> Array | None:
    if value is None:
        return None
    if isinstance(value, list):
        if not value:
            return None
        return np.array([_number(source, (*key, i), v) for i, v in enumerate(value)])
    return np.asarray(_number(source, key, value))


def _number(source: Source, key: tuple[Any, ...], value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    number = number_of(value) if isinstance(value, str) else None
    if number is not None:
        return number  # a quoted number, 1e3 that YAML 1.1 reads as text, or 2/3
    raise source.error(key, f"expected a number (or a fraction, 2/3), got {value!r}")


def check_answers(answers: Answers, derivation: Derivation) -> None:
    """Every name is a quantity of `derivation`, every list has one value per sample."""
    names = derivation.names()
    source = answers.source
    known = set(names)
    for name, value in answers.values.items():
        if name not in known:
            raise source.error((name,), f"not a quantity of this sheet{_suggestion(name, names)}")
        if value is not None and value.ndim == 1 and len(value) not in (1, derivation.n):
            expected = "one value" if derivation.n == 1 else f"one value or {derivation.n}"
            raise source.error(
                (name,), f"expected {expected} (one per sample), got a list of {len(value)}"
            )
    for name in answers.points:
        if name not in known:
            raise source.error(
                (POINTS, name), f"not a quantity of this sheet{_suggestion(name, names)}"
            )


def _suggestion(name: str, names: list[str]) -> str:
    """Did you mean: first the name written in other case or spacing (h1, dl/dy, Y-T)."""
    plain = {re.sub(r"\s+", "", n).casefold(): n for n in names}
    same = plain.get(re.sub(r"\s+", "", name).casefold())
    return f" (did you mean {same!r}?)" if same is not None else did_you_mean(name, names)
