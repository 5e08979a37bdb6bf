"""`bp grade` reports: text (the first wrong step first) and the --json document."""

from __future__ import annotations

from typing import Any

from backprop_core.grading.gradescope import WORDS, detail
from backprop_core.grading.marking import CARRIED, MISSING, RIGHT, WRONG, Report
from cli.render.numbers import num


def score_line(report: Report) -> str:
    share = 100 * report.score / report.max_score if report.max_score else 100.0
    counts = ", ".join(
        f"{report.count(status)} {WORDS[status]}" for status in (RIGHT, CARRIED, WRONG, MISSING)
    )
    return f"score: {num(report.score)}/{num(report.max_score)} ({share:.1f}%): {counts}"


def text(report: Report, sheet: str) -> str:
    gradients = ", ".join(f"dL/d{w}" for w in report.weights)
    lines = [f"{sheet}: {gradients}, matched to {report.digits} significant digits"]
    first = report.first(WRONG)
    if first is not None:
        lines += ["", f"first wrong step: {detail(first)}", ""]
    width = max(len(word) for word in WORDS.values())
    for mark in report.marks:
        word = WORDS[mark.status].upper() if mark.status == WRONG else WORDS[mark.status]
        lines.append(f"  {word:<{width}}  {detail(mark)}")
    lines += ["", score_line(report)]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> Any:
    if value is None:
        return None
    return float(value) if value.ndim == 0 else [float(v) for v in value]


def document(report: Report, sheet: str) -> dict[str, Any]:
    return {
        "sheet": sheet,
        "weights": report.weights,
        "digits": report.digits,
        "carry": report.carry,
        "score": report.score,
        "max_score": report.max_score,
        "counts": {status: report.count(status) for status in (RIGHT, CARRIED, WRONG, MISSING)},
        "quantities": [
            {
                "name": m.name,
                "status": m.status,
                "value": _value(m.given),
                "expected": _value(m.quantity.expected),
                "formula": m.quantity.formula,
                "numbers": m.quantity.numbers,
                "diagnosis": m.diagnosis,
                "given_your": list(m.given_your),
                "recomputed": _value(m.recomputed),
                "points": m.points,
                "max_points": m.max_points,
            }
            for m in report.marks
        ],
    }
