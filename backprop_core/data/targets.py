"""Targets: from what a data source read (numbers or class labels) to the array ``T``.

Every source hands over a `Raw`: its inputs, and its targets either as numbers
or as one column of class labels, with a `Locator` that says where each target
value came from. `encode` checks the numbers (bce targets in [0, 1],
cross_entropy rows distributions) or turns the labels into one-hot columns
(softmax) or one 0/1 column (a sigmoid with two named classes).

Class names are sorted - numbers by value, then text - so the output order does
not depend on the order of the rows; a trained model keeps its own list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from backprop_core.engine.losses import LOSSES, ONE_HOT
from backprop_core.engine.losses import first_cell as first_cell
from backprop_core.errors import ConfigError, shortened, snippet

if TYPE_CHECKING:
    from backprop_core.config.model import LoadedConfig
    from backprop_core.config.yaml_source import Key

Array = NDArray[np.floating[Any]]


class Locator(Protocol):
    def at(self, row: int | None, column: int | None, message: str) -> ConfigError:
        """An error for the value at (row, column), 0-based; None = the whole row/column."""
        ...


@dataclass
class Raw:
    """A source's inputs and targets before encoding; targets are numbers or labels."""

    X: Array
    width_key: Key  # the config key that whole-source mismatches (widths, row counts) name
    T: Array | None = None
    labels: list[str] | None = None
    where_T: Locator | None = None
    input_names: list[str] | None = None
    target_names: list[str] | None = None


def label_mode(loaded: LoadedConfig, width: int, rows: Sequence[Sequence[Any]]) -> bool:
    """Is a single target column class labels (rather than numbers)?

    With cross_entropy and several outputs, always (one-hot encoding); with bce
    and one output, when some label is not a number (two named classes).
    """
    c = loaded.config
    outputs = c.network.layers[-1].units
    record = LOSSES[c.loss]
    if width != 1 or not record.classifier:
        return False
    if record.targets == ONE_HOT:
        return outputs > 1
    return outputs == 1 and any(not _is_number(label_text(r[0])) for r in rows if r)


def encode(loaded: LoadedConfig, raw: Raw) -> tuple[Array, list[str] | None]:
    """``T`` and the class names (None for regression) of a source's targets."""
    c = loaded.config
    outputs = c.network.layers[-1].units
    known = c.network.classes
    check_classes(loaded)
    if raw.labels is not None:
        assert raw.where_T is not None
        return encode_labels(raw.labels, outputs, c.loss, known, raw.where_T)
    assert raw.T is not None
    if raw.T.shape[1] != outputs:
        raise loaded.error(
            raw.width_key,
            f"expected {outputs} target value(s) per row (the output layer's units), "
            f"got {raw.T.shape[1]}"
            + (f" ({', '.join(raw.target_names)})" if raw.target_names else ""),
        )
    if raw.where_T is not None:
        check_target_values(c.loss, raw.T, raw.where_T)
    if known is not None:
        return raw.T, list(known)
    count = LOSSES[c.loss].classes(outputs)
    if count is not None:
        return raw.T, [str(i) for i in range(count)]
    return raw.T, None  # regression, or several independent sigmoid outputs


def check_target_values(loss: str, T: Array, where: Locator) -> None:
    """Targets the loss can train on (its record's rule: bce probabilities, cross_entropy
    distributions); the engine's output delta Y - T is the gradient only for those."""
    check = LOSSES[loss].check_targets
    problem = check(T) if check is not None else None
    if problem is not None:
        row, column, message = problem
        raise where.at(row, column, message)


def check_classes(loaded: LoadedConfig) -> None:
    """A trained model's `network.classes` must name each output (two for one sigmoid)."""
    c = loaded.config
    known = c.network.classes
    if known is None:
        return
    outputs = c.network.layers[-1].units
    expected = class_count(outputs)
    if len(known) != expected or len(set(known)) != len(known):
        raise loaded.error(
            ("network", "classes"),
            f"expected {expected} distinct class names (the output layer has {outputs} "
            f"unit(s)), got {len(known)}"
            + ("" if len(set(known)) == len(known) else " with repeats"),
        )


def class_count(outputs: int) -> int:
    """How many classes an output layer tells apart: one per unit, or two for one sigmoid."""
    return 2 if outputs == 1 else outputs


def encode_labels(
    labels: list[str], outputs: int, loss: str, known: list[str] | None, where: Locator
) -> tuple[Array, list[str]]:
    """One-hot columns (softmax) or one 0/1 column (a sigmoid with two named classes)."""
    classes = list(known) if known is not None else sort_classes(set(labels))
    expected = class_count(outputs)
    if len(classes) != expected:
        shown = ", ".join(classes[:6]) + (", ..." if len(classes) > 6 else "")
        raise where.at(
            None,
            0,
            f"found {len(classes)} classes ({shown}), but the output layer has {outputs} "
            f"unit(s), which means {expected} classes",
        )
    index = {name: i for i, name in enumerate(classes)}
    codes = np.empty(len(labels), dtype=int)
    for row, text in enumerate(labels):
        if text not in index:
            raise where.at(
                row, 0, f"unknown class {snippet(text)}; expected one of {shortened(classes)}"
            )
        codes[row] = index[text]
    T = codes[:, None].astype(np.float64) if outputs == 1 else np.eye(outputs)[codes]
    return T, classes


def sort_classes(names: set[str]) -> list[str]:
    """Numbers by value first, then text, so '2' < '10' and the order is stable."""
    return sorted(names, key=lambda s: (0, float(s), s) if _is_number(s) else (1, 0.0, s))


def label_text(value: Any) -> str:
    """A label as text: ``2.0`` (YAML or .npz) reads as ``'2'``, text loses surrounding spaces."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
