"""The scalar path (engine/scalar_path.py) against the vector engine.

Random small networks, every activation, loss and optimizer, batch sizes and
frozen masks, trained side by side from equal weights. Where neither engine
rounds differently (one row per update, piecewise-linear activations: no matrix
product OpenBLAS fuses, no exp or tanh) they agree bit for bit; elsewhere within
the bound stated in `close` below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from backprop_core.engine import activations as activations_module
from backprop_core.engine.activations import Activation, ActivationRecord
from backprop_core.engine.network import Gradients, Layer, Network
from backprop_core.engine.optimizers import Optimizer, make_optimizer
from backprop_core.engine.scalar_path import MAX_WEIGHTS, ScalarPath, pays_off, unsupported
from backprop_core.run.experiment import load_experiment
from backprop_core.run.training import Trainer
from cli.app import app
from tests.strategies import networks

SETTINGS = {
    "sgd": {},
    "momentum": {"momentum": 0.9},
    "adam": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}
PIECEWISE_LINEAR = ("linear", "relu", "leaky_relu")
EXAMPLES = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)

Key = tuple[str, int]
EPS = float(np.finfo(float).eps)  # 2^-52


@dataclass
class Training:
    net: Network
    X: np.ndarray
    T: np.ndarray
    optimizer: str
    eta: float
    batch: int
    masks: dict[Key, np.ndarray | None]

    @property
    def still(self) -> frozenset[Key]:
        return frozenset(k for k, m in self.masks.items() if m is not None and not m.any())

    def make_optimizer(self) -> Optimizer:
        return make_optimizer(self.optimizer, self.eta, **SETTINGS[self.optimizer])


@st.composite
def trainings(draw: st.DrawFn, batch: int | None = None, **drawn: Any) -> Training:
    """A network, its data, an optimizer, a batch size and frozen masks (none, some
    weights of an array, or all of it)."""
    net, X, T = draw(networks(**drawn))
    masks: dict[Key, np.ndarray | None] = {}
    for key, p in net.parameters():
        kind = draw(st.sampled_from(["moving", "moving", "partly", "still"]))
        if kind == "partly":
            bits = draw(st.lists(st.booleans(), min_size=p.size, max_size=p.size))
            masks[key] = np.array(bits, float).reshape(p.shape)
        else:
            masks[key] = None if kind == "moving" else np.zeros_like(p)
    optimizer = draw(st.sampled_from(sorted(SETTINGS)))
    rows = batch if batch is not None else draw(st.integers(1, len(X)))
    eta = draw(st.sampled_from([0.01, 0.1, 0.5]))
    return Training(net, X, T, optimizer, eta, rows, masks)


@dataclass
class Outcome:
    net: Network
    optimizer: Optimizer
    totals: list[float]  # per epoch: the sum of batch loss * rows
    gradients: Gradients  # the last update's, of the moving arrays


def vector(t: Training, epochs: int) -> Outcome:
    """The vector engine, driven as the Trainer drives it."""
    net, optimizer = t.net.copy(), t.make_optimizer()
    params = dict(net.parameters())
    moving = [key for key, _ in net.parameters() if key not in t.still]
    totals = []
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            total = 0.0
            for start in range(0, len(t.X), t.batch):
                X, T = t.X[start : start + t.batch], t.T[start : start + t.batch]
                loss, grads, _ = net.loss_and_gradients(X, T, t.still)
                total += loss * X.shape[0]
                g = [(grads.dL_db if kind == "b" else grads.dL_dW)[k] for kind, k in moving]
                masks = [t.masks[key] for key in moving]
                g = [gi if m is None else gi * m for gi, m in zip(g, masks, strict=True)]
                optimizer.step([params[key] for key in moving], g)
            totals.append(total)
    return Outcome(net, optimizer, totals, grads)


def scalar(t: Training, epochs: int) -> Outcome:
    net, optimizer = t.net.copy(), t.make_optimizer()
    path = ScalarPath(
        net, t.optimizer, t.eta, SETTINGS[t.optimizer], t.masks, t.batch, len(t.X), t.still
    )
    state = path.state(optimizer)
    rows = [tuple(r) for r in np.hstack([t.X, t.T]).tolist()]
    batches, last = path.batches(rows, None)
    totals = []
    flat: tuple[float, ...] = ()
    for _ in range(epochs):
        done = path.epoch(state, batches, last)
        if done is None:  # a loss not finite: the Trainer hands the epoch to the vector engine
            totals.append(np.nan)
            break
        state, total, _, flat = done
        totals.append(total)
    path.write(state, optimizer)
    return Outcome(net, optimizer, totals, path.gradients(flat))


def diverged(v: Outcome, s: Outcome) -> bool:
    """Did training diverge? Then both engines must see it in the same epoch."""
    finite = [bool(np.isfinite(total)) for total in v.totals]
    if all(finite):
        return False
    assert np.isnan(s.totals[-1]) and len(s.totals) == finite.index(False) + 1
    return True


def arrays(outcome: Outcome) -> list[np.ndarray]:
    """Weights and the optimizer's state, in a fixed order."""
    out = [p for _, p in outcome.net.parameters()]
    for slot in ("v", "m"):
        out += getattr(outcome.optimizer, slot, None) or []
    return out


def eligible(t: Training) -> bool:
    return unsupported(t.net, t.optimizer, t.batch) is None


@EXAMPLES
@given(
    t=trainings(
        batch=1, hidden_activations=PIECEWISE_LINEAR, losses=("sse", "mse"), max_hidden_units=1
    ),
    epochs=st.integers(1, 4),
)
def test_one_row_per_update_agrees_bit_for_bit(t: Training, epochs: int) -> None:
    """Piecewise-linear activations, one row per update, hidden layers one node
    wide (the reference example's kind): every matrix product is a single product
    or a dot product OpenBLAS adds in order, so every operation is the same IEEE
    operation on the same operands in both engines. (Wider, its kernels fuse
    multiply-adds: see the next test.)"""
    v, s = vector(t, epochs), scalar(t, epochs)
    if diverged(v, s):
        return
    assert s.totals == v.totals
    for a, b in zip(arrays(s), arrays(v), strict=True):
        np.testing.assert_array_equal(a, b)
    assert getattr(s.optimizer, "t", 0) == getattr(v.optimizer, "t", 0)


def magnitudes(net: Network, X: np.ndarray, T: np.ndarray) -> dict[Key, np.ndarray]:
    """Per gradient entry, the size of what it is computed from: the vector engine's
    equations over absolute values, each activation's slope bounded by 2 (the
    drawn parameters keep every |phi'| at most 2), so that a rounding of relative
    size u anywhere on the way changes the gradient by at most about u times this."""
    L = 2.0
    n = len(X)
    A = {0: np.abs(X)}
    H: dict[int, np.ndarray] = {}
    trace = net.forward(X)
    for k in range(1, net.K + 1):
        H[k] = A[k - 1] @ np.abs(net.W[k]) + (np.abs(net.b[k]) if k in net.b else 0)
        A[k] = np.abs(trace.A[k]) + L * H[k]
    delta = {net.K: L * (A[net.K] + np.abs(T) + L * H[net.K])}
    out: dict[Key, np.ndarray] = {}
    for k in range(net.K, 0, -1):
        out["W", k] = A[k - 1].T @ delta[k] / n
        out["b", k] = delta[k].sum(axis=0) / n
        if k > 1:
            delta[k - 1] = L * (delta[k] @ np.abs(net.W[k]).T) + L * H[k - 1] * delta[k].max()
    return out


@EXAMPLES
@given(t=trainings(batch_sizes=(1, 2, 3, 4, 5, 8), max_outputs=5))
def test_one_update_agrees_within_the_bound(t: Training) -> None:
    """Any activation, loss, optimizer, batch: the gradients of one update agree
    within 1 unit of 2^-52 of their magnitude (`magnitudes`). The engines differ
    by OpenBLAS's fused multiply-adds (half an ulp of a product each) and numpy's
    exp, tanh, log1p (up to 3 ulps of one value, measured): a few such roundings
    per entry through at most three layers. Measured over 3,000 random cases: at
    most 0.33 units; 69% of entries bit for bit, 93% of losses."""
    t.batch = len(t.X)  # one update
    if not eligible(t):
        return
    v, s = vector(t, 1), scalar(t, 1)
    if diverged(v, s):
        return
    scale = magnitudes(t.net, t.X[: t.batch], t.T[: t.batch])
    for key, g in s.gradients.items():
        expected = dict(v.gradients.items())[key]
        bound = EPS * scale[key]
        assert np.all(np.abs(g - expected) <= bound), (key, g, expected, bound)
    total_scale = abs(v.totals[0]) + 1.0
    assert abs(s.totals[0] - v.totals[0]) <= 64 * EPS * total_scale * len(t.X)


@EXAMPLES
@given(t=trainings(batch_sizes=(1, 2, 3, 5, 8)))
def test_a_few_epochs_stay_within_the_bound(t: Training) -> None:
    """Three epochs from equal weights: every weight within 2^12 ulps of its array's
    largest. Differences of an ulp or two per update are carried into the next
    update's gradients and, under adam, divided by the root of a small second
    moment; measured over 3,000 random five-epoch runs: at most 512 ulps, 89% of
    weights bit for bit."""
    if not eligible(t):
        return
    v, s = vector(t, 3), scalar(t, 3)
    if diverged(v, s):
        return
    for (key, a), (_, b) in zip(s.net.parameters(), v.net.parameters(), strict=True):
        largest = max(float(np.abs(a).max()), float(np.abs(b).max()))
        assert np.all(np.abs(a - b) <= 2**12 * np.spacing(largest)), (key, a, b)


def cube(H: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.multiply(H * H, H, out=out)


CUBE = ActivationRecord(
    "cube",
    cube,
    lambda H: 3.0 * H * H,
    derivative_formula="3 * H^2",
    scalar_phi="{H} * {H} * {H}",
    scalar_prime="3.0 * {H} * {H}",
)


def cube_network() -> tuple[Network, np.ndarray, np.ndarray]:
    W = {1: np.array([[0.5, -0.25]]), 2: np.array([[0.75], [0.5]])}
    b = {1: np.array([0.125, -0.5])}
    layers = (Layer(2, Activation("cube")), Layer(1, Activation("linear"), bias=False))
    return Network(1, layers, "sse", W, b), np.array([[1.5]]), np.array([[0.25]])


def test_a_registered_activation_is_written_from_its_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A made-up activation registered with scalar forms is written from them (its
    derivative included) and trains as the vector engine does."""
    monkeypatch.setitem(activations_module.ACTIVATIONS, "cube", CUBE)
    net, X, T = cube_network()
    t = Training(net, X, T, "sgd", 0.1, 1, {key: None for key, _ in net.parameters()})
    path = ScalarPath(net, "sgd", 0.1, {}, t.masks, 1, 1)
    assert "a1_0_0 = h1_0_0 * h1_0_0 * h1_0_0" in path.source
    assert "d1_0_0 = (3.0 * h1_0_0 * h1_0_0) * " in path.source
    v, s = vector(t, 3), scalar(t, 3)
    assert s.totals == v.totals
    for a, b in zip(arrays(s), arrays(v), strict=True):
        np.testing.assert_array_equal(a, b)


def test_what_has_no_scalar_form_stays_on_the_vector_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = ActivationRecord("cube", cube, lambda H: 3.0 * H * H, derivative_formula="3 * H^2")
    monkeypatch.setitem(activations_module.ACTIVATIONS, "cube", plain)
    net, _, _ = cube_network()
    assert unsupported(net, "sgd", 1) == "activation cube has no scalar form"


def test_too_large_or_float32_stays_on_the_vector_engine() -> None:
    layers = (Layer(8, Activation("tanh")), Layer(1, Activation("linear")))
    units = (7, 8, 1)
    W = {k: np.zeros((units[k - 1], units[k])) for k in (1, 2)}
    b = {k: np.zeros(units[k]) for k in (1, 2)}
    big = Network(7, layers, "sse", W, b)
    assert big.parameter_count() == 73
    assert unsupported(big, "sgd", 1) == f"the network has 73 weights, more than {MAX_WEIGHTS}"
    net = Network(1, (Layer(1, Activation("linear")),), "sse", {1: np.ones((1, 1))})
    assert unsupported(net, "sgd", 65) == "batches of 65 rows are more than 64"
    single = Network(1, net.layers, "sse", {1: np.ones((1, 1), np.float32)})
    assert unsupported(single, "sgd", 1) == (
        "it computes in float64 only (training.precision is float32)"
    )


# -- the Trainer on the scalar path (training.engine) -------------------------

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
runner = CliRunner()


def trained(config: Path | None, *overrides: str, **trainer: Any) -> Trainer:
    t = Trainer(load_experiment(config, list(overrides)), **trainer)
    t.run()
    return t


def parameters(t: Trainer) -> list[np.ndarray]:
    return [p for _, p in t.network.parameters()]


def test_auto_takes_the_scalar_path_where_it_can_and_pays_off() -> None:
    def path(config: Path | None, *overrides: str) -> bool:
        return Trainer(load_experiment(config, list(overrides))).scalar is not None

    assert path(None, "training.epochs=20")  # 5 weights, one row: 4 updates per weight-row
    assert not path(None, "training.epochs=19")  # compiling would cost more than it saves
    assert path(None, "training.epochs=20", "training.engine=scalar")
    assert not path(None, "training.epochs=20", "training.engine=vector")
    assert not path(None, "training.epochs=20", "training.precision=float32")
    assert path(CONFIGS / "xor.yaml")  # 9 weights, 4 rows, 500 epochs
    assert not path(CONFIGS / "xor.yaml", "training.epochs=143")
    assert not path(CONFIGS / "iris.yaml")  # 67 weights
    # 49 weights: one row an update pays off; sixteen are slower than NumPy's calls
    assert path(CONFIGS / "sine.yaml", "training.batch_size=1", "training.epochs=2")
    assert not path(CONFIGS / "sine.yaml", "training.batch_size=16", "training.epochs=1000")
    net = load_experiment(None, []).network  # and not on data it would hold as large lists
    assert pays_off(net, 1, 10**6, 200_000) and not pays_off(net, 1, 10**6, 200_001)


def test_the_reference_example_trains_bit_for_bit_as_on_the_vector_engine() -> None:
    scalar = trained(None, "training.epochs=30", "training.engine=scalar")
    vector = trained(None, "training.epochs=30", "training.engine=vector")
    assert scalar.result.losses == vector.result.losses
    assert scalar.result.losses[:3] == [32.0, 2.0, 0.125]
    assert scalar.result.final_loss == vector.result.final_loss
    for a, b in zip(parameters(scalar), parameters(vector), strict=True):
        np.testing.assert_array_equal(a, b)


def test_shuffled_batches_are_the_vector_engines_and_every_run_the_same_bits() -> None:
    # xor: 4 rows in batches of 3 (a short last batch), shuffled, adam
    sets = ("training.epochs=40", "training.batch_size=3")
    first = trained(CONFIGS / "xor.yaml", *sets, "training.engine=scalar")
    again = trained(CONFIGS / "xor.yaml", *sets, "training.engine=scalar")
    vector = trained(CONFIGS / "xor.yaml", *sets, "training.engine=vector")
    assert first.result.losses == again.result.losses
    for a, b, c in zip(parameters(first), parameters(again), parameters(vector), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=0, atol=2**12 * np.spacing(np.abs(c).max()))
    np.testing.assert_allclose(first.result.losses, vector.result.losses, rtol=1e-12)
    accuracies = [record.accuracy for record in first.result.history]
    assert accuracies == [record.accuracy for record in vector.result.history]
    assert len(set(accuracies)) > 1  # xor: it learns


def test_an_epoch_shown_in_detail_hands_over_weights_and_optimizer_state() -> None:
    """--grads: the vector engine takes that epoch from the scalar path's weights and
    adam's moments, and hands them back; no state is lost on either side."""
    experiment = load_experiment(CONFIGS / "xor.yaml", ["training.engine=scalar"])
    mixed = Trainer(experiment, record_steps=lambda epoch: epoch in (3, 5))
    records = [record for _, record in zip(range(6), mixed.epochs(), strict=False)]
    assert [r.step is not None for r in records] == [False, False, True, False, True, False]
    plain = trained(CONFIGS / "xor.yaml", "training.engine=scalar", "training.epochs=6")
    for a, b in zip(parameters(mixed), parameters(plain), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=2**12 * np.spacing(np.abs(b).max()))
    vector = Trainer(
        load_experiment(CONFIGS / "xor.yaml", ["training.engine=vector"]),
        record_steps=lambda epoch: epoch == 3,
    )
    shown = [record for _, record in zip(range(3), vector.epochs(), strict=False)][2].step
    assert shown is not None and records[2].step is not None
    for a, b in zip(records[2].step.before, shown.before, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=2**12 * np.spacing(np.abs(b).max()))


def test_weights_are_in_the_arrays_after_every_epoch_and_in_the_snapshot() -> None:
    trainer = Trainer(
        load_experiment(CONFIGS / "xor.yaml", ["training.engine=scalar"]), keep_snapshot=True
    )
    assert trainer.scalar is not None
    epochs = trainer.epochs()
    for _ in range(3):
        next(epochs)
        state = trainer.scalar.state
        assert state is not None
        assert [float(p) for _, a in trainer.network.parameters() for p in a.ravel()] == list(
            state[: trainer.network.parameter_count()]
        )
    epochs.close()  # as an interrupt leaves it
    saved = trainer.weights_to_save("interrupted")
    assert saved is not None and saved.epochs == 3
    for (_, a), (_, b) in zip(
        saved.network.parameters(), trainer.network.parameters(), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_a_divergence_is_reported_as_the_vector_engine_reports_it(tiny_all_path: Path) -> None:
    scalar = trained(tiny_all_path, "training.engine=scalar")
    vector = trained(tiny_all_path, "training.engine=vector")
    assert scalar.result.status == vector.result.status == "diverged"
    assert scalar.result.diverged_epoch == vector.result.diverged_epoch
    assert scalar.result.losses == vector.result.losses
    assert scalar.result.largest_gradients == vector.result.largest_gradients


def test_scalar_on_a_network_it_cannot_take_is_one_line_and_exit_2() -> None:
    result = runner.invoke(
        app, ["check", str(CONFIGS / "iris.yaml"), "--set", "training.engine=scalar"]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "error: --set training.engine=scalar: training.engine: scalar cannot train this "
        "network: the network has 67 weights, more than 64; use auto or vector\n"
    )
    assert result.stdout == ""
