"""Every ``a op b = c`` that `bp explain` prints checks by hand, to the printed precision.

Random networks (tests/strategies.py), every weight, one sample and a batch:
the text is rendered without line breaks, every ``=``-separated part made only of
numbers joined by one operator (``a * b``, ``a + b``, ``a - b``, ``a / b``, or a
longer product ``a * b * c``) is evaluated from its printed operands and
compared with the printed number after it, within the rounding of the printed
digits (half a unit in the last printed place of each number).
"""

from __future__ import annotations

import io
import itertools
import math
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from strategies import networks

from backprop_core.engine.naming import WeightNames
from backprop_core.explain.derivation import explain
from cli.render.explain_text import render

NUMBER = r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?"
OPERAND = rf"(?:{NUMBER}|\({NUMBER}\))"
BINARY = re.compile(rf"^({OPERAND}) ([-+/]) ({OPERAND})$")
PRODUCT = re.compile(rf"^{OPERAND}(?: \* {OPERAND})+$")
VALUE = re.compile(rf"^{NUMBER}$")


def last_place(text: str) -> int:
    """The power of ten of a printed number's last digit: 0.125 -> -3, 1e-05 -> -5."""
    mantissa, _, exponent = text.strip("()").partition("e")
    return int(exponent or 0) - len(mantissa.partition(".")[2])


def half_ulp(text: str) -> float:
    """Half a unit in the last printed place of a number as printed."""
    return 0.5 * 10.0 ** last_place(text)


def rounding(text: str) -> float:
    """How far an operand may be from the value it stands for: half a unit in its 8th
    significant digit (bp drops trailing zeros), or in its last digit if it has more."""
    x = abs(float(text.strip("()")))
    eighth = 0.5 * 10.0 ** (math.floor(math.log10(x)) - 7) if x else 0.0
    return min(eighth, half_ulp(text)) if x else 0.0


def checks(part: str, value: str) -> bool | None:
    """Whether ``part = value`` holds to the printed precision; None: not arithmetic."""
    c, uc = float(value), half_ulp(value)
    if PRODUCT.match(part):
        texts = part.split(" * ")
        xs = [float(t.strip("()")) for t in texts]
        product = math.prod(xs)
        # First order in each factor's rounding, plus the printed result's.
        bound = sum(abs(math.prod(xs[:i] + xs[i + 1 :])) * rounding(t) for i, t in enumerate(texts))
        return abs(product - c) <= 1.01 * bound + uc + 1e-300
    m = BINARY.match(part)
    if not m:
        return None
    ta, op, tb = m.groups()
    a, b, ua, ub = float(ta.strip("()")), float(tb.strip("()")), rounding(ta), rounding(tb)
    if op in "+-":
        exact = a + b if op == "+" else a - b
        if abs(exact - c) > ua + ub + uc:
            return False
        # Where the operands cancel, the result may not claim digits they do not have
        # (0.29837098 - 0.29837111 is -1.3e-07, not -1.2385909e-07).
        cancels = abs(c) < max(abs(a), abs(b)) / 10
        return not cancels or last_place(value) >= min(last_place(ta), last_place(tb)) - 1
    if b == 0 or abs(b) <= ub:
        return None
    bound = ua / abs(b) + abs(a) * ub / (abs(b) - ub) ** 2
    return abs(a / b - c) <= 1.01 * bound + uc


def rendered(x) -> str:
    out = io.StringIO()
    Console(file=out, width=100_000, color_system=None).print(render(x))
    return out.getvalue()


def test_the_checker_finds_a_wrong_product_and_passes_a_rounded_one() -> None:
    assert checks("0.29837098 - 0.29837111", "-1.2385909e-07") is False
    assert checks("0.298371012589 - 0.298371108760", "-0.000000096171") is True
    assert checks("0.75136507 - 0.01", "0.74136507") is True
    assert checks("2 * 0.25 * 16", "8") is True and checks("2 * 0.25 * 16", "8.1") is False
    assert checks("(-1.9290623) * 0.24966193", "-0.48161342") is True
    assert checks("sigmoid(0.5)", "0.62245933") is None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_outputs=3, batch_sizes=(1, 3)), st.booleans())
def test_every_printed_operation_checks_to_the_printed_precision(case, one_sample) -> None:
    net, X, T = case
    names = WeightNames(net.units, tuple(layer.bias for layer in net.layers))
    sample = 0 if one_sample else None
    checked = 0
    ids = list(names.all_ids())
    for w in ids[:: max(1, len(ids) // 6)]:  # six weights or so, spread over the layers
        text = rendered(explain(net, names, X, T, w, 0.1, sample=sample))
        for line in text.splitlines():
            parts = [p.strip() for p in line.split(" = ")]
            for part, value in itertools.pairwise(parts):
                if not VALUE.match(value):
                    continue
                ok = checks(part, value)
                assert ok is not False, f"{w.canonical}: {part} = {value} in\n{line}"
                checked += ok is True
    assert checked > 0


SHORTCUT = """\
name: shortcut
seed: 0
network:
  inputs: 1
  layers:
    - units: 2
      activation: softmax
      bias: false
      weights: [[0.0, 3.3]]
loss: cross_entropy
data:
  inputs: [[1.0]]
  targets: [[0, 1]]
training:
  eta: 0.1
"""


def test_a_shortcut_output_delta_is_written_like_dL_dy(tmp_path) -> None:
    # Found by the property test: delta_2(1) = Y2 - T2 printed 0.96442881 - 1 =
    # -0.035571189, a difference with more digits than its operands justify.
    from typer.testing import CliRunner

    from cli.app import app

    config = tmp_path / "shortcut.yaml"
    config.write_text(SHORTCUT)
    result = CliRunner().invoke(app, ["explain", str(config), "-w", "w1_1_2"])
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    expected = "Y2 - T2 = 0.9644288 - 1.0000000 = -0.0355712"
    assert f"dL/dY_in2 = {expected}" in lines
    assert f"delta_2(1) = {expected}" in lines
