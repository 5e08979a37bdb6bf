"""Grading hand derivations (issue 14): the quantities, matching, marks and diagnoses.

The reference numbers are the hand derivation of SPEC §2 (configs/tiny.yaml):
H1 = 4, ..., dL/dy = 8, paths 24 and 16, delta(1) = 20, dL/dxh1 = 40,
xh1_new = 0.8, L_new = 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from strategies import networks

from backprop_core.engine.naming import WeightNames
from backprop_core.grading.derivation import derive, derive_experiment
from backprop_core.grading.exercise import generate
from backprop_core.grading.marking import CARRIED, MISSING, RIGHT, WRONG, Report, grade
from backprop_core.grading.matching import agrees
from backprop_core.grading.quantities import Derivation
from backprop_core.grading.quiz import HINT, Quiz
from backprop_core.grading.quiz import RIGHT as QUIZ_RIGHT
from backprop_core.run.experiment import load_experiment

CONFIGS = Path(__file__).resolve().parent.parent / "configs"

SPEC_ORDER = [
    "H1", "A1", "H21", "A21", "H22", "A22", "Y_in", "Y", "Y - T", "L",
    "dL/dy",
    "dy/dA21", "dy/dA22", "dA21/dA1", "dA22/dA1", "dA1/dxh1",
    "path 1", "path 2",
    "delta(3)", "delta_1(2)", "delta_2(2)", "delta(1)", "dL/dxh1",
    "xh1_new",
    "H1_new", "A1_new", "H21_new", "A21_new", "H22_new", "A22_new", "Y_in_new", "Y_new",
    "Y_new - T", "L_new", "L_new - L",
]  # fmt: skip
SPEC_VALUES = [
    4, 8, 6, 12, 2, 4, 5, 10, 8, 32,
    8,
    0.5, 1, 1.5, 0.5, 4,
    24, 16,
    16, 8, 16, 20, 40,
    0.8,
    1.6, 3.2, 2.4, 4.8, 0.8, 1.6, 2, 4, 2, 2, -30,
]  # fmt: skip


def spec(*overrides: str, weights: tuple[str, ...] = ("xh1",)) -> Derivation:
    return derive_experiment(load_experiment(None, list(overrides)), weights)


def key_of(d: Derivation) -> dict[str, np.ndarray]:
    return {q.name: q.expected for q in d.quantities}


def graded(d: Derivation, changes: Mapping[str, object], **options: object) -> Report:
    answers = key_of(d)
    for name, value in changes.items():
        answers[name] = None if value is None else np.asarray(value, np.float64)  # type: ignore[assignment]
    return grade(d, answers, **options)  # type: ignore[arg-type]


def mark(report: Report, name: str):  # type: ignore[no-untyped-def]
    return next(m for m in report.marks if m.name == name)


# --- the SPEC §2 derivation -----------------------------------------------------------


def test_spec_quantities_in_order_with_the_hand_derivations_values() -> None:
    d = spec()
    assert d.names() == SPEC_ORDER
    assert [float(q.expected) for q in d.quantities] == pytest.approx(SPEC_VALUES, abs=1e-12)
    assert d.quantity("delta(1)").formula == "phi'(H1) * [hh1 * delta_1(2) + hh2 * delta_2(2)]"
    assert d.quantity("dL/dxh1").formula == "delta(1) * x1"  # asked once, after the deltas
    assert d.quantity("A21_new").formula == "phi(H21_new)"


def test_the_true_values_grade_100_percent() -> None:
    report = graded(spec(), {})
    assert report.all_right
    assert (report.score, report.max_score) == (35, 35)
    assert report.count(RIGHT) == 35


def test_a_blank_sheet_is_all_missing() -> None:
    d = spec()
    report = grade(d, {})
    assert report.count(MISSING) == 35 and report.score == 0 and not report.all_right


MISTAKES = [
    ("dA1/dxh1", 16, "phi(H) where phi'(H) belongs"),  # phi(H1) * x1 = 8 * 2
    ("delta(3)", 10 * 8, "phi(H) where phi'(H) belongs"),  # phi(Y_in) * dL/dy
    ("dL/dxh1", 24, "the sum leaves out path 2 (x1 -> A1 -> A22 -> Y): a missing path"),
    ("delta(1)", 12, "the sum leaves out hh2 * delta_2(2): a missing path"),  # 2 * 0.75 * 8
    ("Y - T", -8, "T - Y where Y - T belongs (the sign of the loss derivative)"),
    ("dL/dy", -8, "T - Y where Y - T belongs (the sign of the loss derivative)"),
    ("dL/dy", 16, "a factor 2 too many: 1/2 * (Y - T)^2 differentiates to Y - T"),
    # hy1 updated first (0.25 - 0.03 * 192 = -5.51), then used in delta_1(2):
    ("delta_1(2)", 2 * -5.51 * 16, "an updated weight used too early"),
    ("xh1_new", 2 - 40, "eta forgotten: the update is w - eta * dL/dw"),
    ("xh1_new", 2 - 0.03 * 0.03 * 40, "eta applied twice: the update is w - eta * dL/dw"),
    ("xh1_new", 2 + 0.03 * 40, "a sign error in the update"),
    # T - Y from the start, carried through the whole derivation to the gradient:
    ("dL/dxh1", -40, "T - Y where Y - T belongs (the sign of the loss derivative) (made earlier"),
]


@pytest.mark.parametrize(("name", "value", "diagnosis"), MISTAKES)
def test_each_mistake_is_found_and_named(name: str, value: float, diagnosis: str) -> None:
    report = graded(spec(), {name: value})
    wrong = [m for m in report.marks if m.status != RIGHT]
    assert [m.name for m in wrong] == [name]
    assert wrong[0].status == WRONG
    assert wrong[0].diagnosis is not None and wrong[0].diagnosis.startswith(diagnosis)
    assert report.score == 34


def test_the_mse_factor_2_forgotten() -> None:
    d = spec("loss=mse")  # dL/dy = 2 * (Y - T) = 16
    assert float(d.quantity("dL/dy").expected) == 16
    m = mark(graded(d, {"dL/dy": 8}), "dL/dy")
    assert m.diagnosis == "the factor 2 of the mse derivative 2 * (Y - T) is missing"


def test_the_sum_over_a_batch_instead_of_the_mean() -> None:
    d = spec("data.inputs=[[2], [1]]", "data.targets=[[2], [1]]")
    gradient = float(d.quantity("dL/dxh1").expected)  # (40 + 10) / 2
    assert gradient == 25
    assert d.quantity("H1").expected.tolist() == [4, 2]  # per sample
    report = graded(d, {"dL/dxh1": 2 * gradient, "L": 2 * float(d.quantity("L").expected)})
    for name in ("L", "dL/dxh1"):
        assert mark(report, name).diagnosis == "the sum over the 2 samples where their mean belongs"


def test_the_values_per_sample_where_their_mean_belongs() -> None:
    d = spec("data.inputs=[[2], [1]]", "data.targets=[[2], [1]]")
    report = graded(d, {"L": [32, 8], "path 1": [24, 6], "dL/dxh1": [40, 10]})
    for name in ("L", "path 1", "dL/dxh1"):
        assert mark(report, name).status == WRONG
        assert mark(report, name).diagnosis == (
            "a value per sample where their mean over the 2 samples belongs"
        )


def test_a_wrong_delta_followed_by_a_consistent_gradient_is_carried_forward() -> None:
    d = spec()
    report = graded(d, {"delta(1)": 16, "dL/dxh1": 32, "xh1_new": 2 - 0.03 * 32})
    assert mark(report, "delta(1)").status == WRONG
    carried = mark(report, "dL/dxh1")
    assert carried.status == CARRIED and carried.given_your == ("delta(1)",)
    assert float(carried.recomputed) == 32  # type: ignore[arg-type]
    # xh1_new uses the student's gradient, itself carried forward: credited too.
    assert mark(report, "xh1_new").status == CARRIED
    assert mark(report, "xh1_new").given_your == ("dL/dxh1",)
    assert report.score == 34 and not report.all_right

    strict = graded(d, {"delta(1)": 16, "dL/dxh1": 32}, carry=False)
    assert mark(strict, "dL/dxh1").status == WRONG and strict.score == 33


def test_dL_dy_and_L_from_the_students_own_Y_minus_T_are_carried_forward() -> None:
    # T - Y from the start: one mistake, marked once (at Y - T), not again at dL/dy.
    report = graded(spec(), {"Y - T": -8, "dL/dy": -8})
    assert mark(report, "Y - T").status == WRONG
    assert mark(report, "dL/dy").status == CARRIED
    assert mark(report, "dL/dy").given_your == ("Y - T",)
    assert report.score == 34
    # An arithmetic slip in Y - T (10 - 2 = 7), then L = 1/2 * 7^2 and dL/dy = 7:
    slip = graded(spec(), {"Y - T": 7, "L": 24.5, "dL/dy": 7})
    assert [mark(slip, n).status for n in ("Y - T", "L", "dL/dy")] == [WRONG, CARRIED, CARRIED]
    after = graded(spec(), {"Y_new - T": 3, "L_new": 4.5, "L_new - L": -27.5})
    assert [mark(after, n).status for n in ("L_new", "L_new - L")] == [CARRIED, CARRIED]
    # mse: dL/dy = 2 * (Y - T) from the student's Y - T.
    mse = graded(spec("loss=mse"), {"Y - T": 7, "L": 49, "dL/dy": 14})
    assert [mark(mse, n).status for n in ("L", "dL/dy")] == [CARRIED, CARRIED]


def test_the_gradient_from_the_students_own_paths_is_carried_forward() -> None:
    report = graded(spec(), {"path 1": 30, "dL/dxh1": 46})
    assert mark(report, "dL/dxh1").status == CARRIED
    assert mark(report, "dL/dxh1").given_your == ("path 1",)


def test_values_computed_from_rounded_values_are_right() -> None:
    d = spec("network.layers[0].weights=[[0.3333]]")
    key = key_of(d)
    rounded = {name: float(f"{float(v):.3g}") for name, v in key.items()}
    report = graded(d, rounded)
    assert report.all_right and report.count(RIGHT) == len(d.quantities)


def test_phi_prime_from_the_students_rounded_A_is_right() -> None:
    # bp exercise --seed 7 --activation sigmoid: x1 = 3, xh1 = 0.4, so H1 = 1.2 and
    # A1 = sigmoid(1.2) = 0.76852 written 0.769; by hand phi'(H1) = A1 * (1 - A1)
    # = 0.769 * 0.231 = 0.177639, written 0.178 but kept to more digits:
    # dA1/dxh1 = 0.177639 * 3 = 0.532917 -> 0.533 (phi'(H1) * x1 is 0.53368).
    d = generate(7, "1-1-2-1", "sigmoid").derivation()
    answers = {"A1": 0.769, "phi'(H1)": 0.178, "dA1/dxh1": 0.533, "path 1": 0.0312}
    report = graded(d, answers)
    assert mark(report, "dA1/dxh1").status == RIGHT
    assert mark(report, "path 1").status == RIGHT  # 0.866 * 0.232 * 0.291 * 0.533
    assert report.all_right and report.count(RIGHT) == len(d.quantities)


def test_a_factor_from_the_students_own_phi_prime_is_carried_forward() -> None:
    # bp exercise --seed 7 --activation sigmoid: phi'(H1) = A1 * (1 - A1) = 0.1779;
    # phi(H1) = 0.769 written for it, then dA1/dxh1 = 0.769 * x1 = 2.31: one mistake.
    d = generate(7, "1-1-2-1", "sigmoid").derivation()
    report = graded(d, {"phi'(H1)": 0.769, "dA1/dxh1": 2.31})
    assert mark(report, "phi'(H1)").diagnosis == "phi(H) where phi'(H) belongs"
    assert mark(report, "dA1/dxh1").status == CARRIED
    assert mark(report, "dA1/dxh1").given_your == ("phi'(H1)",)
    # With phi'(H1) right, the factor with phi in it is the mistake itself.
    again = graded(d, {"dA1/dxh1": 2.31})
    assert mark(again, "dA1/dxh1").diagnosis == "phi(H) where phi'(H) belongs"


def test_the_quiz_takes_a_step_worked_from_the_students_own_rounded_answers() -> None:
    # As above, in the quiz: A1 answered 0.769, then dA1/dxh1 = 0.769 * 0.231 * 3 = 0.533.
    d = generate(7, "1-1-2-1", "sigmoid").derivation()
    quiz = Quiz(d)
    while (q := quiz.current) is not None and q.name != "dA1/dxh1":
        assert quiz.answer(f"{float(q.expected):.3g}").kind == QUIZ_RIGHT, q.name
    assert quiz.answer("0.533").kind == QUIZ_RIGHT
    assert quiz.answer("0.9").kind == HINT  # path 1: not a rounding of anything


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_a_student_rounding_every_value_to_3_digits_scores_100_percent(activation: str) -> None:
    d = generate(7, "2-2-2", activation).derivation()
    answers: dict[str, np.ndarray] = {}
    for q in d.quantities:  # each step from the student's own rounded values, phi' from A
        value = q.compute(d.env(answers, prime_from_output=True))
        answers[q.name] = np.asarray([float(f"{v:.3g}") for v in np.ravel(value)]).reshape(
            np.shape(value)
        )
    report = grade(d, answers)  # type: ignore[arg-type]
    assert report.count(RIGHT) == len(d.quantities), [
        (m.name, m.status) for m in report.marks if m.status != RIGHT
    ]


def test_points_weight_the_score() -> None:
    d = spec()
    answers = key_of(d) | {"dL/dxh1": np.asarray(1.0)}
    report = grade(d, answers, {"dL/dxh1": 5, "H1": 2})  # type: ignore[arg-type]
    assert (report.score, report.max_score) == (33 + 2, 33 + 2 + 5)


# --- matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "target", "digits", "right"),
    [
        (0.667, 2 / 3, 3, True),
        (0.6667, 2 / 3, 3, True),
        (0.67, 2 / 3, 3, False),  # 2 digits where 3 are asked
        (0.67, 2 / 3, 2, True),
        (0.666, 2 / 3, 3, False),  # truncated, not rounded
        (0.665, 2 / 3, 3, False),
        (1.0, 0.99951, 3, True),  # rounds across a decade
        (0.13, 0.125, 2, True),  # a tie rounded up ...
        (0.12, 0.125, 2, True),  # ... or to even
        (40.2, 40, 3, False),
        (40.2, 40, 2, True),
        (0.0, 1e-17, 3, True),  # zero up to rounding
        (-8, 8, 3, False),
    ],
)
def test_agrees_to_significant_digits(
    given: float, target: float, digits: int, right: bool
) -> None:
    assert agrees(np.asarray(given), np.asarray(target), digits) is right


def test_lists_agree_value_by_value() -> None:
    assert agrees(np.array([4.0, 2.0]), np.array([4.0, 2.0]))
    assert not agrees(np.array([4.0, 2.1]), np.array([4.0, 2.0]))
    assert not agrees(np.asarray(4.0), np.array([4.0, 2.0]))
    assert not agrees(np.array([4.0, 2.0, 1.0]), np.array([4.0, 2.0]))


# --- every quantity recomputes to its value, on any network ----------------------------


def assert_recomputes(d: Derivation) -> None:
    for q in d.quantities:
        value = q.compute(d.env({}))
        assert np.allclose(value, q.expected, rtol=1e-9, atol=1e-12), q.name
        for other in q.others:
            assert np.allclose(other(d.env({})), q.expected, rtol=1e-9, atol=1e-12), q.name
        by_hand = q.compute(d.env({}, prime_from_output=True))  # phi' through A
        assert np.allclose(by_hand, q.expected, rtol=1e-9, atol=1e-12), q.name


@pytest.mark.parametrize(
    ("config", "weights"),
    [
        ("tiny.yaml", ("xh1", "hy2", "hh1")),
        ("xor.yaml", ("xh12", "hy01")),  # sigmoid + bce: the shortcut, biases, 4 samples
        ("iris.yaml", ("xh23",)),  # softmax + cross-entropy, 120 samples
    ],
)
def test_every_quantity_recomputes_to_its_value(config: str, weights: tuple[str, ...]) -> None:
    d = derive_experiment(load_experiment(CONFIGS / config), weights)
    assert len(d.names()) == len(set(d.names()))
    assert_recomputes(d)
    assert graded(d, {}).all_right


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_random_networks_recompute(case) -> None:  # type: ignore[no-untyped-def]
    net, X, T = case
    names = WeightNames(net.units, tuple(layer.bias for layer in net.layers))
    weights = [next(iter(names.all_ids())), max(names.all_ids())]
    d = derive(net, names, X, T, weights, 0.1)
    assert_recomputes(d)
