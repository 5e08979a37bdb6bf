"""`bp quiz` without the terminal: the quantities asked in order, hints on a wrong answer.

A wrong answer gets, in turn, the formula in names, the formula with numbers,
and the value (then the next quantity is asked). A quantity counts as right
when it was answered right before its value was shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from backprop_core.grading.marking import recomputed
from backprop_core.grading.matching import DIGITS, agrees
from backprop_core.grading.quantities import Array, Derivation, Quantity
from backprop_core.grading.sheet import number_of, number_text

RIGHT = "right"
HINT = "hint"  # the formula in names
NUMBERS = "numbers"  # the formula with numbers
REVEAL = "value"  # the value: the quantity is done, not right
UNREADABLE = "unreadable"

_SEPARATORS = re.compile(r"[\s,;\[\]]+")


def parse(text: str) -> Array | None:
    """An answer typed as a number (or 2/3), or numbers separated by commas or spaces."""
    numbers = [number_of(p) for p in _SEPARATORS.split(text.strip()) if p]
    values = [v for v in numbers if v is not None]
    if not values or len(values) < len(numbers):
        return None
    return np.asarray(values[0]) if len(values) == 1 else np.asarray(values)


@dataclass(frozen=True)
class Reply:
    kind: str
    text: str


@dataclass
class Quiz:
    derivation: Derivation
    digits: int = DIGITS
    index: int = 0
    wrong_tries: int = 0
    results: list[bool] = field(default_factory=list)  # per quantity done: right or not
    # The values the student goes on from: their right answers, else the shown values.
    values: dict[str, Array] = field(default_factory=dict)

    @property
    def current(self) -> Quantity | None:
        quantities = self.derivation.quantities
        return quantities[self.index] if self.index < len(quantities) else None

    @property
    def total(self) -> int:
        return len(self.derivation.quantities)

    @property
    def right(self) -> int:
        return sum(self.results)

    def answer(self, text: str) -> Reply:
        """Mark `text` as the answer to the current quantity; what to tell the student."""
        q = self.current
        assert q is not None, "the quiz is over"
        value = parse(text)
        if value is None and text.strip():
            return Reply(UNREADABLE, f"{text.strip()!r} is not a number")
        if value is not None and self._right(q, value):
            self._next(True, value)
            return Reply(RIGHT, f"right: {q.name} = {number_text(q.expected)}")
        self.wrong_tries += 1
        with_numbers = " = ".join(part for part in (q.formula, q.numbers) if part)
        hints = [(HINT, q.formula), (NUMBERS, with_numbers if q.numbers else "")]
        hints = [(kind, hint) for kind, hint in hints if hint]
        if self.wrong_tries <= len(hints):
            kind, hint = hints[self.wrong_tries - 1]
            return Reply(kind, f"not quite: {q.name} = {hint}")
        self._next(False, q.expected)
        shown = " = ".join(p for p in (q.formula, q.numbers, number_text(q.expected)) if p)
        return Reply(REVEAL, f"{q.name} = {shown}")

    def _right(self, q: Quantity, value: Array) -> bool:
        """Bp's value, or the step worked from the student's own earlier (rounded) values."""
        if agrees(value, q.expected, self.digits):
            return True
        targets = recomputed(self.derivation, q, self.values)
        return any(agrees(value, target, self.digits) for target, _ in targets)

    def _next(self, right: bool, value: Array) -> None:
        assert self.current is not None
        self.values[self.current.name] = value
        self.results.append(right)
        self.index += 1
        self.wrong_tries = 0

    def score_line(self) -> str:
        asked = len(self.results)
        unasked = self.total - asked
        rest = f", {unasked} not asked" if unasked else ""
        return f"score: {self.right}/{self.total} right{rest}"

    @property
    def all_right(self) -> bool:
        return self.right == self.total
