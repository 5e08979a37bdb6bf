"""The data generators: seeded, balanced, and drawing the shapes they claim."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from backprop_core.config.model import GeneratorName
from backprop_core.engine.generators import GENERATORS, generate


def test_every_config_name_has_a_generator() -> None:
    assert get_args(GeneratorName) == tuple(GENERATORS)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_same_seed_same_data_other_seed_other_data(name: str) -> None:
    a = generate(name, 50, 0.1, 3, seed=7)
    b = generate(name, 50, 0.1, 3, seed=7)
    c = generate(name, 50, 0.1, 3, seed=8)
    assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    assert a.X.shape == (50, GENERATORS[name][1])


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(["xor", "circles", "moons", "spiral"]),
    samples=st.integers(1, 200),
    classes=st.integers(2, 6),
    seed=st.integers(0, 2**31),
)
def test_classes_are_balanced_to_within_one(
    name: str, samples: int, classes: int, seed: int
) -> None:
    made = generate(name, samples, 0.2, classes, seed)
    assert made.labels is not None and made.targets is None
    assert made.X.shape == (samples, 2)
    assert np.all(np.isfinite(made.X))
    counts = np.bincount(made.labels, minlength=made.classes)
    assert made.classes == (classes if name == "spiral" else 2)
    assert counts.max() - counts.min() <= 1
    assert counts.sum() == samples


def test_xor_without_noise_is_the_truth_table() -> None:
    made = generate("xor", 8, 0.0, 2, seed=0)
    assert made.labels is not None
    expected = np.logical_xor(made.X[:, 0] > 0.5, made.X[:, 1] > 0.5).astype(int)
    assert_array_equal(made.labels, expected)
    corners = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
    assert sorted(map(tuple, made.X.tolist())) == sorted(corners * 2)


def test_circles_without_noise_have_radius_one_and_a_half() -> None:
    made = generate("circles", 40, 0.0, 2, seed=1)
    assert made.labels is not None
    radius = np.hypot(made.X[:, 0], made.X[:, 1])
    assert_allclose(radius, np.where(made.labels == 0, 1.0, 0.5), rtol=1e-12, atol=1e-12)


def test_moons_without_noise_lie_on_their_half_circles() -> None:
    made = generate("moons", 30, 0.0, 2, seed=2)
    assert made.labels is not None
    upper, lower = made.X[made.labels == 0], made.X[made.labels == 1]
    assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-12, atol=1e-12)
    assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, rtol=1e-12, atol=1e-12)


def test_spiral_arms_turn_with_the_radius() -> None:
    made = generate("spiral", 90, 0.0, 3, seed=3)
    assert made.labels is not None
    r = np.hypot(made.X[:, 0], made.X[:, 1])
    angle = np.arctan2(made.X[:, 0], made.X[:, 1])  # x = r sin t, y = r cos t
    expected = 4.0 * made.labels + 4.0 * r
    # Equal angles modulo a full turn (points at r = 0 have no angle).
    keep = r > 1e-9
    diff = np.angle(np.exp(1j * (angle[keep] - expected[keep])))
    assert_allclose(diff, 0.0, atol=1e-9)
    assert r.max() == pytest.approx(1.0, abs=1e-12)


def test_sine_targets_are_sin_x_plus_noise() -> None:
    clean = generate("sine", 100, 0.0, 3, seed=4)
    assert clean.targets is not None and clean.labels is None
    assert_allclose(clean.targets, np.sin(clean.X), rtol=0, atol=1e-15)
    assert np.all(np.abs(clean.X) <= np.pi)
    noisy = generate("sine", 2000, 0.1, 3, seed=4)
    assert noisy.targets is not None
    assert float(np.std(noisy.targets - np.sin(noisy.X))) == pytest.approx(0.1, rel=0.1)
