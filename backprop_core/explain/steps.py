"""The derivation as data: its lines, paths and sections, and numbers as it writes them.

`explain` returns an `Explanation`: ordered `Section`s of `Step`s
(``symbol = formula = numbers = value``) plus the chain-rule `Path`s. Each
step's sides are expression trees (expr.py); `cli/` renders them; nothing here
computes a value. `fmt` writes the engine's numbers; `MAX_NODES` and
`MAX_TERMS` bound how much of a wide layer or a long sum is written out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.engine.naming import WeightId
from backprop_core.explain.expr import Expr, fmt, render_text

Array = NDArray[np.floating[Any]]

MAX_NODES = 16  # nodes listed per layer in the forward pass and the deltas
MAX_TERMS = 8  # sums longer than this are written with sum_i, not term by term
MAX_TABLE_SAMPLES = 8  # a per-sample table lists up to this many samples ...
TABLE_HEAD = 5  # ... past it, the first few and the mean


@dataclass(frozen=True)
class SampleTable:
    """Per-sample values of a batch, one row per sample, one column per quantity.

    ``columns`` name the quantities (a path's factors, then their product);
    ``rows`` are (sample index, values); ``skipped`` samples are not listed
    (past MAX_TABLE_SAMPLES); ``mean`` is each column's batch mean.
    """

    columns: tuple[Expr, ...]
    rows: tuple[tuple[int, tuple[float, ...]], ...]
    skipped: int
    mean: tuple[float, ...]


@dataclass(frozen=True)
class Step:
    """One line of the derivation: ``lhs = formula = numbers = value``.

    ``formula`` uses names (``phi'(H21) * hh1``), ``numbers`` the same with the
    engine's values (``2 * 0.75``); either may be None. All three are expression
    trees; ``symbol``, ``formula_text`` and ``numbers_text`` are their plain text.
    ``samples`` holds the per-sample values when a batch of several samples is
    explained (``value`` is then their mean, or the batch quantity itself for
    losses and gradients). ``explains`` is an optional reading of the formula
    (``dy/dY_in * dY_in/dA21``); ``table`` per-sample values behind the step (a
    path's factors and products over a batch).
    """

    lhs: Expr
    formula: Expr | None
    numbers: Expr | None
    value: float
    samples: tuple[float, ...] | None = None
    explains: Expr | None = None
    table: SampleTable | None = None
    shown: str | None = None  # the value as printed, where its digits are limited

    @property
    def value_text(self) -> str:
        """The value as every format prints it: 8 significant digits, or ``shown``."""
        return self.shown if self.shown is not None else fmt(self.value)

    def __post_init__(self) -> None:
        # "hy11 = 0.6 = 0.6" says nothing twice: numbers that are just the value go.
        if self.numbers is not None and render_text(self.numbers) == self.value_text:
            object.__setattr__(self, "numbers", None)

    @property
    def symbol(self) -> str:
        """The left-hand side as text: ``dA21/dA1``, ``delta_1(2)``, ``path 1``."""
        return render_text(self.lhs)

    @property
    def formula_text(self) -> str:
        """The formula in names as plain text (``phi'(H21) * hh1``); "" when there is none."""
        return render_text(self.formula) if self.formula is not None else ""

    @property
    def numbers_text(self) -> str:
        """The formula with the engine's numbers as plain text (``2 * 0.75``); "" if none."""
        return render_text(self.numbers) if self.numbers is not None else ""


@dataclass(frozen=True)
class Path:
    """One chain-rule path: node ``j`` of layer k, then one node per layer up to an output.

    ``factors`` run as the derivation writes them: ``dL/dy`` first, the weight's
    own factor last. ``product`` is their product (the batch mean of per-sample
    products), so the products of all paths sum to the gradient.
    """

    nodes: tuple[int, ...]
    factors: tuple[Step, ...]
    product: float


@dataclass
class Section:
    key: str  # stable id: forward, output, chain, paths, deltas, check, update, after
    title: str
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Explanation:
    weight: WeightId
    canonical: str
    alias: str
    value: float
    grad: float  # the engine's dL/dw
    numeric_grad: float
    eta: float
    new_value: float
    frozen: bool
    samples: int  # rows explained (1 with --sample)
    sample: int | None
    description: list[str]  # the network and data, one line each
    sections: list[Section]
    paths: list[Path]  # the listed ones (all, or the largest past MAX_LISTED_PATHS)
    path_count: int
    path_sum: float | None  # sum over all paths; None when too many to multiply out
    omitted_sum: float | None  # sum over the paths not listed
    deltas: dict[int, list[Step]]  # layer -> its delta steps (output layer first)
    after_outputs: list[list[float]]
    after_loss: float
    loss: float

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def plural(count: int, noun: str) -> str:
    """``1 path``, ``3 paths``."""
    return f"{count} {noun}{'s' if count != 1 else ''}"
