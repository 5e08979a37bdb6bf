"""The quantities of a hand derivation, and what they are computed from.

A `Quantity` is one line of `explain` a student computes (``H1``, ``dL/dy``,
``delta(1)``, ``xh1_new``, ...): its name, formula and value are the step's.
``compute`` recomputes it from earlier quantities, read through an `Env`: from
the true values it gives the step's value again (the tests check that for
every quantity); from a student's values it gives what the step should be
*given their numbers* (error carried forward); with ``Env.mistake`` set it makes
one of the usual mistakes on the way (the diagnoses in marking.py). The compute
functions are built in recompute.py; derivation.py puts a `Derivation` together.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from backprop_core.explain.derivation import Explanation

Array = NDArray[np.float64]
Values = Callable[[str], Array]

# The mistakes an `Env` can make everywhere it applies (quantity-specific ones,
# a path left out of a sum, are `Quantity.slips`).
PHI = "phi"  # phi(H) where phi'(H) belongs
SIGN = "sign"  # T - Y for Y - T
FACTOR2 = "factor2"  # the mse factor 2 dropped, or one added to the sse derivative
SUM = "sum"  # the sum over the batch where the mean belongs
PER_SAMPLE = "per_sample"  # the values per sample where their mean belongs
UPDATED = "updated"  # an updated weight used in the backward pass
NO_ETA = "no_eta"  # w - dL/dw
ETA_TWICE = "eta_twice"  # w - eta^2 * dL/dw
UPDATE_SIGN = "update_sign"  # w + eta * dL/dw
MISTAKES = (PHI, SIGN, FACTOR2, SUM, PER_SAMPLE, UPDATED, NO_ETA, ETA_TWICE, UPDATE_SIGN)


def mistake_words(loss: str, n: int) -> dict[str, str]:
    """What each mistake is called, in words (`loss` and the batch size `n` fill them in)."""
    factor2 = {
        "sse": "a factor 2 too many: 1/2 * (Y - T)^2 differentiates to Y - T",
        "mse": "the factor 2 of the mse derivative 2 * (Y - T) is missing",
    }.get(loss, "off by a factor 2")
    return {
        PHI: "phi(H) where phi'(H) belongs",
        SIGN: "T - Y where Y - T belongs (the sign of the loss derivative)",
        FACTOR2: factor2,
        SUM: f"the sum over the {n} samples where their mean belongs",
        PER_SAMPLE: f"a value per sample where their mean over the {n} samples belongs",
        UPDATED: "an updated weight used too early: the backward pass uses the weights "
        "from before the update",
        NO_ETA: "eta forgotten: the update is w - eta * dL/dw",
        ETA_TWICE: "eta applied twice: the update is w - eta * dL/dw",
        UPDATE_SIGN: "a sign error in the update: w - eta * dL/dw steps against the gradient",
    }


@dataclass
class Env:
    """Earlier quantities by name (``values``) and the mistake, if any, to make.

    ``prime_from_output``: phi'(H) taken through A = phi(H) as a hand derivation
    takes it (sigmoid A * (1 - A), tanh 1 - A^2), from the student's own A: a
    student who rounded A gets a phi' that differs from phi'(H) in the third digit.
    """

    values: Values
    n: int
    mistake: str = ""
    prime_from_output: bool = False
    written: Container[str] = ()  # the names `values` has itself (the rest: the truth)
    used: set[str] = field(default_factory=set)

    def get(self, name: str) -> Array:
        self.used.add(name)
        return np.broadcast_to(np.asarray(self.values(name), np.float64), (self.n,))


Compute = Callable[[Env], Array]


@dataclass(frozen=True)
class Quantity:
    """One value a student computes: ``name = formula = numbers = expected``.

    ``expected`` holds one value per sample (shape (n,)) or one for the batch
    (shape ()). ``others`` are other right ways to it (the gradient as the sum
    of the paths); ``slips`` are named ways to get it wrong that no `Env`
    mistake covers.
    """

    name: str
    formula: str
    numbers: str
    expected: Array
    section: str
    weight: str  # the derivation it belongs to (the first one that asks it)
    compute: Compute
    others: tuple[Compute, ...] = ()
    slips: tuple[tuple[str, Compute], ...] = ()


@dataclass
class Derivation:
    """Every quantity of one or more weights' derivations, in the order a sheet asks them."""

    quantities: list[Quantity]
    truth: dict[str, Array]  # every value a quantity may read, right
    givens: list[tuple[str, Array]]  # inputs, targets, weights: not asked
    weights: list[str]  # aliases, as asked
    explanations: list[Explanation]
    n: int
    loss: str
    eta: float

    def names(self) -> list[str]:
        return [q.name for q in self.quantities]

    def quantity(self, name: str) -> Quantity:
        return next(q for q in self.quantities if q.name == name)

    def env(
        self, values: dict[str, Array], mistake: str = "", *, prime_from_output: bool = False
    ) -> Env:
        """Values read from `values`, falling back on the truth for the rest."""
        return Env(
            lambda name: values[name] if name in values else self.truth[name],
            self.n,
            mistake,
            prime_from_output,
            values,
        )


def after_name(symbol: str, alias: str, qualify: bool) -> str:
    """A node of the forward pass after the update: ``H1_new``, ``Y_new - T``, ``L_new``."""
    if symbol.startswith("L_new"):
        name = symbol
    elif " - " in symbol:
        y, t = symbol.split(" - ")
        name = f"{y}_new - {t}"
    else:
        name = f"{symbol}_new"
    return f"{name} [{alias}]" if qualify else name


def path_name(index: int, alias: str, qualify: bool) -> str:
    return f"path {index} [{alias}]" if qualify else f"path {index}"
