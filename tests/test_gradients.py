"""Every analytic gradient against central finite differences (STYLE.md §12).

Random networks drawn by hypothesis: every activation and every compatible
loss, with and without biases, batch sizes 1 and several. float64, rtol 1e-6,
pre-activations kept off the kinks of relu and leaky_relu.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from strategies import HIDDEN, networks

from backprop_core.engine.activations import ACTIVATIONS, Activation
from backprop_core.engine.gradcheck import numeric_gradient
from backprop_core.engine.naming import WeightNames


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_analytic_gradient_matches_central_differences(case) -> None:
    net, X, T = case
    trace = net.forward(X)
    for k, layer in enumerate(net.layers, start=1):
        for kink in layer.activation.record.kinks:
            assume(np.min(np.abs(trace.H[k] - kink)) > 1e-3)
    grads = net.backward(trace, T)
    names = WeightNames(net.units, tuple(layer.bias for layer in net.layers))
    for w in names.all_ids():
        analytic = grads.of(w)
        numeric = numeric_gradient(net, X, T, w)
        np.testing.assert_allclose(
            analytic,
            numeric,
            rtol=1e-6,
            atol=1e-8,
            err_msg=f"{w.canonical} of {[lay.activation.describe() for lay in net.layers]}",
        )


@pytest.mark.parametrize("name", HIDDEN)
def test_phi_prime_is_the_derivative_of_phi(name: str) -> None:
    # Points kept off the kink at 0 (relu'(0) = 0 by convention, documented).
    H = np.array([-2.5, -0.7, -0.1, 0.2, 0.9, 3.0])
    act = Activation(name, dict(ACTIVATIONS[name].parameters))
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


def test_an_activation_built_without_parameters_gets_the_defaults() -> None:
    assert Activation("linear").params == {"slope": 1.0}
    assert Activation("leaky_relu").describe() == "leaky_relu(alpha=0.01)"
    assert Activation("sigmoid").params == {}
