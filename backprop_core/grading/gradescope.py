"""A `Report` as Gradescope's autograder ``results.json``: one test per quantity.

The schema's keys (https://gradescope-autograders.readthedocs.io, "Output
format"): top-level ``score``, ``output``, ``visibility``, ``tests``; each test
``name``, ``score``, ``max_score``, ``output``, ``visibility``.
"""

from __future__ import annotations

from typing import Any

from backprop_core.grading.marking import CARRIED, MISSING, RIGHT, WRONG, Mark, Report
from backprop_core.grading.sheet import number_text

WORDS = {RIGHT: "right", CARRIED: "carried forward", WRONG: "wrong", MISSING: "missing"}


def detail(mark: Mark) -> str:
    """What a mark says about its quantity: the value, and what was expected and why."""
    q = mark.quantity
    if mark.given is None:
        return f"{q.name}, expected {_shown(mark)}"
    given = f"{q.name} = {number_text(mark.given)}"
    if mark.status == RIGHT:
        return given
    if mark.status == CARRIED:
        return f"{given}, right given your {', '.join(mark.given_your)}"
    diagnosis = f"; {mark.diagnosis}" if mark.diagnosis else ""
    return f"{given}, expected {_shown(mark)}{diagnosis}"


def _shown(mark: Mark) -> str:
    q = mark.quantity
    how = " = ".join(part for part in (q.formula, q.numbers) if part)
    return f"{number_text(q.expected)} = {how}" if how else number_text(q.expected)


def feedback(mark: Mark) -> str:
    """One line on a quantity, as the student reads it."""
    return f"{WORDS[mark.status]}: {detail(mark)}"


def results(report: Report) -> dict[str, Any]:
    right = report.count(RIGHT) + report.count(CARRIED)
    return {
        "score": report.score,
        "output": (
            f"{right} of {len(report.marks)} quantities right "
            f"({report.count(CARRIED)} given an earlier value of yours), "
            f"{report.count(MISSING)} missing; matched to {report.digits} significant digits."
        ),
        "visibility": "visible",
        "tests": [
            {
                "name": m.name,
                "number": str(index),
                "score": m.points,
                "max_score": m.max_points,
                "status": "passed" if m.status in (RIGHT, CARRIED) else "failed",
                "output": feedback(m),
                "visibility": "visible",
            }
            for index, m in enumerate(report.marks, start=1)
        ],
    }


def unreadable(message: str) -> dict[str, Any]:
    """``results.json`` for a sheet that cannot be graded: no score, and the reason."""
    return {
        "score": 0.0,
        "output": f"The answer sheet could not be graded: {message}",
        "visibility": "visible",
        "tests": [],
    }
