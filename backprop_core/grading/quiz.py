"""`bp quiz` without the terminal: the quantities asked in order, hints on a wrong answer.

A wrong answer gets, in turn, the formula in names, the formula with numbers,
and the value (then the next quantity is asked). A quantity counts as right
when it was answered right before its value was shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from backprop_core.grading.matching import DIGITS, agrees
from backprop_core.grading.quantities import Array, Derivation, Quantity
from backprop_core.grading.sheet import number_text

RIGHT = "right"
HINT = "hint"  # the formula in names
NUMBERS = "numbers"  # the formula with numbers
REVEAL = "value"  # the value: the quantity is done, not right
UNREADABLE = "unreadable"

_SEPARATORS = re.compile(r"[\s,;\[\]]+")


def parse(text: str) -> Array | None:
    """An answer typed as a number, or numbers separated by commas or spaces; None if not."""
    parts = [p for p in _SEPARATORS.split(text.strip()) if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    if not values:
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
        if value is not None and agrees(value, q.expected, self.digits):
            self._next(True)
            return Reply(RIGHT, f"right: {q.name} = {number_text(q.expected)}")
        self.wrong_tries += 1
        hints = [(HINT, q.formula), (NUMBERS, f"{q.formula} = {q.numbers}" if q.numbers else "")]
        hints = [(kind, hint) for kind, hint in hints if hint]
        if self.wrong_tries <= len(hints):
            kind, hint = hints[self.wrong_tries - 1]
            return Reply(kind, f"not quite: {q.name} = {hint}")
        self._next(False)
        shown = " = ".join(p for p in (q.formula, q.numbers, number_text(q.expected)) if p)
        return Reply(REVEAL, f"{q.name} = {shown}")

    def _next(self, right: bool) -> None:
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
