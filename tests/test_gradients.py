"""Every analytic gradient against central finite differences (STYLE.md §12).

Random networks drawn by hypothesis: every activation and every compatible
loss, with and without biases, batch sizes 1 and several. float64, rtol 1e-6,
pre-activations kept off the kinks of relu and leaky_relu.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backprop_core.activations import ACTIVATIONS, KINKS, PARAMETERS, Activation
from backprop_core.gradcheck import analytic_gradient, numeric_gradient
from backprop_core.losses import LOSSES, REQUIRED_OUTPUT
from backprop_core.naming import WeightNames
from backprop_core.network import Layer, Network

HIDDEN = sorted(set(ACTIVATIONS) - {"softmax"})


def _activation(draw: st.DrawFn, name: str) -> Activation:
    params = {
        key: draw(st.floats(0.1, 2.0)) if key == "slope" else draw(st.floats(0.01, 0.3))
        for key in PARAMETERS.get(name, {})
    }
    return Activation(name, params)


@st.composite
def networks(draw: st.DrawFn) -> tuple[Network, np.ndarray, np.ndarray]:
    loss = draw(st.sampled_from(sorted(LOSSES)))
    inputs = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
    outputs = draw(st.integers(2, 3)) if loss == "cross_entropy" else draw(st.integers(1, 3))
    layers = [
        Layer(u, _activation(draw, draw(st.sampled_from(HIDDEN))), draw(st.booleans()))
        for u in hidden
    ]
    out_name = REQUIRED_OUTPUT.get(loss) or draw(st.sampled_from(HIDDEN))
    layers.append(Layer(outputs, _activation(draw, out_name), draw(st.booleans())))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    units = [inputs, *(layer.units for layer in layers)]
    W = {k: rng.normal(0, 0.8, (units[k - 1], units[k])) for k in range(1, len(units))}
    b = {k: rng.normal(0, 0.5, units[k]) for k, layer in enumerate(layers, 1) if layer.bias}
    n = draw(st.sampled_from([1, 2, 5]))
    X = rng.normal(0, 1, (n, inputs))
    if loss == "cross_entropy":
        T = np.eye(outputs)[rng.integers(0, outputs, n)]
    elif loss == "bce":
        T = rng.integers(0, 2, (n, outputs)).astype(float)
    else:
        T = rng.normal(0, 1, (n, outputs))
    return Network(inputs, tuple(layers), loss, W, b), X, T


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_analytic_gradient_matches_central_differences(case) -> None:
    net, X, T = case
    trace = net.forward(X)
    for k, layer in enumerate(net.layers, start=1):
        for kink in KINKS.get(layer.activation.name, ()):
            assume(np.min(np.abs(trace.H[k] - kink)) > 1e-3)
    grads = net.backward(trace, T)
    names = WeightNames(net.units, tuple(layer.bias for layer in net.layers))
    for w in names.all_ids():
        analytic = analytic_gradient(grads.dL_dW, grads.dL_db, w)
        numeric = numeric_gradient(net, X, T, w)
        np.testing.assert_allclose(
            analytic,
            numeric,
            rtol=1e-6,
            atol=1e-8,
            err_msg=f"{w.canonical} of {[layer.activation.describe() for layer in net.layers]}, {net.loss}",
        )


@pytest.mark.parametrize("name", HIDDEN)
def test_phi_prime_is_the_derivative_of_phi(name: str) -> None:
    # Points kept off the kink at 0 (relu'(0) = 0 by convention, documented).
    H = np.array([-2.5, -0.7, -0.1, 0.2, 0.9, 3.0])
    act = Activation(name, dict(PARAMETERS.get(name, {})))
    eps = 1e-6
    numeric = (act.phi(H + eps) - act.phi(H - eps)) / (2 * eps)
    np.testing.assert_allclose(act.phi_prime(H), numeric, rtol=1e-6, atol=1e-9)


def test_relu_derivative_at_the_kink_is_zero() -> None:
    assert Activation("relu").phi_prime(np.array([0.0])).tolist() == [0.0]
    assert Activation("leaky_relu", {"alpha": 0.1}).phi_prime(np.array([0.0])).tolist() == [0.1]


def test_sigmoid_and_softmax_stay_finite_far_out() -> None:
    H = np.array([[-1000.0, 0.0, 1000.0]])
    assert np.all(np.isfinite(Activation("sigmoid").phi(H)))
    np.testing.assert_allclose(Activation("softmax").phi(H), [[0.0, 0.0, 1.0]], atol=1e-300)
