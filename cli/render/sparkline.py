"""A one-line picture of a series with Unicode blocks: ``█▇▆▅▄▃▂▁``.

Used for the loss in the `bp train` summary. Losses fall by orders of magnitude
(the reference run divides by 16 each epoch), so `log=True` is what a loss
needs: on a linear scale everything after the first epoch would be ``▁``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"
NOT_FINITE = "×"  # a NaN or infinite value (a diverged epoch) stands out
# For terminals whose encoding has no block characters (legacy Windows code pages).
ASCII_BLOCKS = "_.-=+*#@"
ASCII_NOT_FINITE = "x"


def sparkline(
    values: Sequence[float | None], width: int = 40, *, log: bool = False, ascii: bool = False
) -> str:
    """At most `width` characters, one per value or per bucket of consecutive values.

    Buckets (series longer than `width`) show their mean (of the logs, with
    `log`); a bucket holding a NaN/inf shows ``×``. With `log`, values <= 0 are
    drawn at the bottom (a loss of exactly 0 is the best there is). A constant
    series is drawn mid-height. None counts as NaN. `ascii` draws with ``_.-=+*#@``
    and ``x``, for terminals that cannot show the blocks.
    """
    blocks, bad = (ASCII_BLOCKS, ASCII_NOT_FINITE) if ascii else (BLOCKS, NOT_FINITE)
    if width < 1:
        raise ValueError("width must be at least 1")
    series = [math.nan if v is None else float(v) for v in values]
    if not series:
        return ""
    positive = [v for v in series if math.isfinite(v) and v > 0]
    floor = min(positive) if positive else 1.0

    def scaled(v: float) -> float:
        if not math.isfinite(v) or not log:
            return v
        return math.log10(max(v, floor))

    buckets = _buckets([scaled(v) for v in series], width)
    finite = [b for b in buckets if b is not None]
    if not finite:
        return bad * len(buckets)
    lo, hi = min(finite), max(finite)
    top = len(blocks) - 1
    out = []
    for b in buckets:
        if b is None:
            out.append(bad)
        elif hi == lo:
            out.append(blocks[top // 2])
        else:
            out.append(blocks[round((b - lo) / (hi - lo) * top)])
    return "".join(out)


def _buckets(series: list[float], width: int) -> list[float | None]:
    """Mean of each of `width` near-equal runs of `series` (None: a non-finite value inside)."""
    n = len(series)
    if n <= width:
        return [v if math.isfinite(v) else None for v in series]
    out: list[float | None] = []
    for b in range(width):
        part = series[b * n // width : (b + 1) * n // width]
        out.append(sum(part) / len(part) if all(math.isfinite(v) for v in part) else None)
    return out
