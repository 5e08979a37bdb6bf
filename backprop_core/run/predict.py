"""Outputs of a (trained) config for new inputs: the core of `bp predict`.

A `Model` is the network with what it needs to read raw inputs: the input
standardization learned in training, the class names in output order, and
the input column names when it was trained on a CSV file. Raw inputs are
scaled exactly as in training, then run forward.

Classifiers answer with a class per row: the softmax output's largest
probability, or for one sigmoid output (bce) ``classes[1]`` when ``p >= 0.5``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.config.model import LoadedConfig
from backprop_core.data.description import DataDescription, saved_scaling
from backprop_core.data.load import (
    Table,
    check_classes,
    csv_columns,
    data_path,
    encode_labels,
    file_label,
    load_data,
    parse_number,
    read_table,
)
from backprop_core.engine.losses import BINARY, ONE_HOT
from backprop_core.engine.network import Network
from backprop_core.errors import BpError, ConfigError, DataError
from backprop_core.run.experiment import build_network
from backprop_core.run.threads import blas_threads, threads_for
from backprop_core.run.training import accuracy, correct, judged

Array = NDArray[np.floating[Any]]


@dataclass
class Model(DataDescription):
    loaded: LoadedConfig
    network: Network

    @property
    def trained(self) -> bool:
        """Whether `bp train --save` wrote these weights (its `trained:` record)."""
        return self.loaded.config.trained is not None

    @property
    def initial_weights_drawn(self) -> bool:
        """Whether some layer's weights are the seeded random start, not written values."""
        net = self.loaded.config.network
        return net.weights_file is None and any(layer.weights is None for layer in net.layers)

    @property
    def kind(self) -> str:
        """ONE_HOT (one output per class), BINARY (two classes, one output) or 'values'."""
        record = self.network.loss_record
        if record.targets is None or self.class_count is None:
            return "values"
        return record.targets

    @property
    def class_count(self) -> int | None:
        return self.network.loss_record.classes(self.network.units[-1])


@dataclass
class Prediction:
    X: Array  # the raw inputs, as given
    Y: Array  # the network's outputs
    labels: list[str] | None = None  # predicted class per row (classifiers)
    probabilities: Array | None = None  # (n, classes)
    T: Array | None = None  # encoded targets, when the data had them
    target_labels: list[str] | None = None
    loss: float | None = None
    accuracy: float | None = None
    correct: int | None = None  # predictions right, of `judged` (rows, or outputs for sigmoid)
    judged: int | None = None
    lines: list[int] | None = None  # the CSV line of each row


def load_model(loaded: LoadedConfig) -> Model:
    """The network and its input scaling and class names, from the config alone if it can.

    A saved checkpoint carries standardization and classes; an untrained config
    that standardizes or has class labels gets them from its training data.
    """
    spec = loaded.config
    check_classes(loaded)
    model = Model(loaded, build_network(loaded), classes=spec.network.classes)
    model.mean, model.std = saved_scaling(loaded)
    needs_stats = spec.data.standardize and model.mean is None
    if needs_stats or (model.kind != "values" and model.classes is None):
        data = load_data(loaded)
        model.classes = model.classes or data.classes
        if needs_stats:
            model.mean, model.std = data.mean, data.std
    if model.class_count is not None and model.classes is None:
        model.classes = [str(i) for i in range(model.class_count)]
    model.input_names, model.target_names = _column_names(loaded)
    return model


def _column_names(loaded: LoadedConfig) -> tuple[list[str] | None, list[str] | None]:
    """The training CSV's input and target columns, when the model was trained on one."""
    file = loaded.config.data.file
    if file is None or not file.path.lower().endswith((".csv", ".txt")):
        return None, None
    if file.inputs and file.targets:
        return list(file.inputs), list(file.targets)
    try:
        header = read_table(data_path(loaded, file.path), file_label(loaded, file.path)).header
        return csv_columns(loaded, header, file.path)
    except BpError:
        return None, None  # the training file is gone: columns are taken by position


def parse_inputs(model: Model, texts: list[str]) -> Array:
    """``--input 0.1,0.2`` values (one row each) as an array; errors name the option."""
    width = model.network.inputs
    rows = []
    for text in texts:
        cells = [cell.strip() for cell in text.split(",")]
        label = f"--input {text}"
        if len(cells) != width:
            raise ConfigError(
                f"expected {width} comma-separated value(s) (network.inputs), got {len(cells)}",
                file=label,
            )
        rows.append(
            [
                parse_number(cell, lambda m, i=i, at=label: ConfigError(f"value {i}: {m}", file=at))
                for i, cell in enumerate(cells, start=1)
            ]
        )
    return np.array(rows, dtype=np.float64).reshape(len(rows), width)


def read_inputs(model: Model, path: Path) -> tuple[Array, Array | None, list[str] | None, Table]:
    """Inputs (and targets, when present) from a CSV file with a header.

    With a model trained on a CSV, columns are matched by name (others are
    ignored; the target columns, when all present, give a loss and accuracy).
    Otherwise the file must have exactly `network.inputs` columns, in order.
    """
    table = read_table(path, str(path))
    width = model.network.inputs
    names = model.input_names
    if names is None:
        if len(table.header) != width:
            raise DataError(
                f"expected {width} column(s) (network.inputs), got {len(table.header)}: "
                f"{', '.join(table.header)}",
                file=table.label,
                line=table.header_line,
            )
        return table.numbers(table.header), None, None, table
    for name in names:
        if name not in table.header:
            raise DataError(
                table.missing_message(name, in_file=False)
                + f"; the model's inputs: {', '.join(names)}",
                file=table.label,
                line=table.header_line,
            )
    X = table.numbers(names)
    targets = model.target_names or []
    if not targets or any(name not in table.header for name in targets):
        return X, None, None, table
    if model.kind != "values" and len(targets) == 1 and model.classes is not None:
        labels = table.labels(targets[0])
        T, _ = encode_labels(
            labels,
            model.network.units[-1],
            model.network.loss,
            model.classes,
            table.locator(targets),
        )
        return X, T, labels, table
    return X, table.numbers(targets), None, table


def predict(model: Model, X: Array, T: Array | None = None) -> Prediction:
    """Scale `X` as in training, run it forward; classes and, with `T`, loss and accuracy."""
    network = model.network
    # The threads training would use for a pass this size (one pass over X).
    threads = threads_for(model.loaded.config.training.threads, len(X), network)
    with blas_threads(threads), np.errstate(all="ignore"):
        trace = network.forward(np.ascontiguousarray(model.scale(X), dtype=network.dtype))
    out = Prediction(X, np.asarray(trace.Y, dtype=np.float64), T=T)
    classes = model.classes
    if model.kind == ONE_HOT and classes is not None:
        out.probabilities = out.Y
        out.labels = [classes[i] for i in out.Y.argmax(axis=1)]
    elif model.kind == BINARY and classes is not None:
        p = out.Y[:, 0]
        out.probabilities = np.column_stack([1.0 - p, p])
        out.labels = [classes[1] if v >= 0.5 else classes[0] for v in p]
    if T is not None:
        out.loss = network.loss_of(trace, np.asarray(T, dtype=network.dtype))
        out.accuracy = accuracy(out.Y, T, network.loss)
        if out.accuracy is not None:
            out.correct, out.judged = correct(out.Y, T, network.loss), judged(T, network.loss)
    return out
