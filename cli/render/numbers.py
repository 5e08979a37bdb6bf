"""How numbers are written: as a person would write them in the derivation."""

from __future__ import annotations

import math


def num(x: float | None, digits: int = 8) -> str:
    """32, 0.125, 10624.388, 9.3950585e+16: up to `digits` significant digits, no trailing zeros."""
    if x is None:
        return "-"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = format(float(x), f".{digits}g")
    return "0" if text == "-0" else text


def signed(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return ("+" if x > 0 else "") + num(x, digits)


def percent(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"
