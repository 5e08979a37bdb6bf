"""Marking a filled sheet: right, wrong, carried forward or missing, and why a value is wrong.

A value is right when it agrees with bp's (matching.py). A wrong one is
*carried forward* when it agrees with the step recomputed from the student's
own earlier values and one of those was wrong: they did this step right, as a
human grader would credit it. A value recomputed from earlier values that were
only rounded is simply right. The recomputation takes phi'(H) from the
student's H, or as a hand derivation does from their A (sigmoid A * (1 - A)).

A wrong value is diagnosed when it agrees with the step done with one of the
usual mistakes (quantities.MISTAKES, or a quantity's own slips such as a path
left out of a sum): made at this step from the student's values or from the
right ones, or made from the start and carried through the whole derivation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from backprop_core.grading.matching import DIGITS, agrees
from backprop_core.grading.quantities import (
    MISTAKES,
    Array,
    Derivation,
    Env,
    Quantity,
    mistake_words,
)

RIGHT = "right"
WRONG = "wrong"
CARRIED = "carried_forward"
MISSING = "missing"


@dataclass(frozen=True)
class Mark:
    quantity: Quantity
    status: str
    given: Array | None
    points: float  # earned
    max_points: float
    given_your: tuple[str, ...] = ()  # the wrong earlier values a carried-forward one used
    recomputed: Array | None = None  # the step from those values
    diagnosis: str | None = None

    @property
    def name(self) -> str:
        return self.quantity.name


@dataclass
class Report:
    marks: list[Mark]
    digits: int
    carry: bool
    weights: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(m.points for m in self.marks)

    @property
    def max_score(self) -> float:
        return sum(m.max_points for m in self.marks)

    @property
    def all_right(self) -> bool:
        return all(m.status in (RIGHT, CARRIED) for m in self.marks)

    def first(self, status: str) -> Mark | None:
        return next((m for m in self.marks if m.status == status), None)

    def count(self, status: str) -> int:
        return sum(m.status == status for m in self.marks)


def grade(
    derivation: Derivation,
    answers: Mapping[str, Array | None],
    points: Mapping[str, float] | None = None,
    *,
    digits: int = DIGITS,
    carry: bool = True,
) -> Report:
    """Mark every quantity of `derivation` given the student's `answers` (None: left blank)."""
    points = points or {}
    given = {name: value for name, value in answers.items() if value is not None}
    status: dict[str, str] = {}
    marks: list[Mark] = []
    words = mistake_words(derivation.loss, derivation.n)
    worlds: dict[str, dict[str, Array]] = {}
    for q in derivation.quantities:
        worth = float(points.get(q.name, 1.0))
        value = given.get(q.name)
        if value is None:
            mark = Mark(q, MISSING, None, 0.0, worth)
        elif agrees(value, q.expected, digits):
            mark = Mark(q, RIGHT, value, worth, worth)
        else:
            mark = _recomputed(derivation, q, value, given, status, worth, digits, carry)
            if mark is None:
                diagnosis = _diagnose(derivation, q, value, given, worlds, words, digits)
                mark = Mark(q, WRONG, value, 0.0, worth, diagnosis=diagnosis)
        status[q.name] = mark.status
        marks.append(mark)
    return Report(marks, digits, carry, list(derivation.weights))


def recomputed(
    derivation: Derivation, q: Quantity, given: Mapping[str, Array]
) -> Iterator[tuple[Array, Env]]:
    """`q` worked from the student's earlier values every right way (its formula, the
    path sum, phi' from their A): each result with the `Env` that shows what it read."""
    for from_output in (False, True):
        for compute in (q.compute, *q.others):
            env = derivation.env(dict(given), prime_from_output=from_output)
            yield compute(env), env


def _recomputed(
    derivation: Derivation,
    q: Quantity,
    value: Array,
    given: Mapping[str, Array],
    status: Mapping[str, str],
    worth: float,
    digits: int,
    carry: bool,
) -> Mark | None:
    """Right from the student's own earlier values: carried forward (or right, if those
    were only rounded); None when the step itself is wrong."""
    for target, env in recomputed(derivation, q, given):
        if not agrees(value, target, digits):
            continue
        wrong = tuple(
            n for n in derivation.names() if n in env.used and status.get(n) in (WRONG, CARRIED)
        )
        if not wrong:
            return Mark(q, RIGHT, value, worth, worth, recomputed=target)
        if carry:
            return Mark(q, CARRIED, value, worth, worth, wrong, target)
    return None


def _diagnose(
    derivation: Derivation,
    q: Quantity,
    value: Array,
    given: Mapping[str, Array],
    worlds: dict[str, dict[str, Array]],
    words: Mapping[str, str],
    digits: int,
) -> str | None:
    """The mistake that gives the student's value, if one does."""

    def fits(candidate: Array) -> bool:
        return not agrees(candidate, q.expected, digits) and agrees(value, candidate, digits)

    # From the student's values with phi' taken either way, then from the right ones.
    for values, from_output in ((dict(given), False), (dict(given), True), ({}, False)):
        for mistake in MISTAKES:
            if fits(q.compute(derivation.env(values, mistake, prime_from_output=from_output))):
                return words[mistake]
        for text, slip in q.slips:
            if fits(slip(derivation.env(values, prime_from_output=from_output))):
                return text
    for mistake in MISTAKES:
        if mistake not in worlds:
            worlds[mistake] = _world(derivation, mistake)
        if fits(worlds[mistake][q.name]):
            return words[mistake] + " (made earlier and carried through)"
    return None


def _world(derivation: Derivation, mistake: str) -> dict[str, Array]:
    """Every quantity computed in order with `mistake` made wherever it applies."""
    world: dict[str, Array] = {}
    for q in derivation.quantities:
        world[q.name] = q.compute(derivation.env(world, mistake))
    return world
