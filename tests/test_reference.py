"""SPEC.md §2: every number of the hand derivation, exactly, in float64.

The reference values are the source derivation's own (source/000_a07c96c46df85d31.txt);
with phi(x) = 2x and weights that are sums of powers of two, float64 reproduces
them without rounding, so these tests compare with ==.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from backprop_core.run.experiment import load_experiment
from backprop_core.run.training import Trainer


def test_forward_pass_matches_the_derivation() -> None:
    e = load_experiment()
    trace = e.network.forward(e.data.X)
    assert trace.H[1].tolist() == [[4.0]]  # H1
    assert trace.A[1].tolist() == [[8.0]]  # A1
    assert trace.H[2].tolist() == [[6.0, 2.0]]  # H21, H22
    assert trace.A[2].tolist() == [[12.0, 4.0]]  # A21, A22
    assert trace.H[3].tolist() == [[5.0]]  # Y_in
    assert trace.Y.tolist() == [[10.0]]  # Y
    assert (trace.Y - e.data.T).tolist() == [[8.0]]  # Y - T
    assert e.network.loss_of(trace, e.data.T) == 32.0


def test_chain_rule_factors_multiply_to_40() -> None:
    # The derivation's factors, from the trace and the weights the engine holds.
    e = load_experiment()
    net, trace = e.network, e.network.forward(e.data.X)
    phi_prime = net.layer(3).activation.phi_prime
    dy_dA21 = phi_prime(trace.H[3])[0, 0] * net.W[3][0, 0]
    dy_dA22 = phi_prime(trace.H[3])[0, 0] * net.W[3][1, 0]
    dA21_dA1 = net.layer(2).activation.phi_prime(trace.H[2])[0, 0] * net.W[2][0, 0]
    dA22_dA1 = net.layer(2).activation.phi_prime(trace.H[2])[0, 1] * net.W[2][0, 1]
    dA1_dxh1 = net.layer(1).activation.phi_prime(trace.H[1])[0, 0] * e.data.X[0, 0]
    assert (dy_dA21, dy_dA22, dA21_dA1, dA22_dA1, dA1_dxh1) == (0.5, 1.0, 1.5, 0.5, 4.0)
    assert 8 * (dy_dA21 * dA21_dA1 * dA1_dxh1 + dy_dA22 * dA22_dA1 * dA1_dxh1) == 40.0


def test_delta_recursion_gives_40() -> None:
    e = load_experiment()
    grads = e.network.backward(e.network.forward(e.data.X), e.data.T)
    assert grads.delta[3].tolist() == [[16.0]]  # delta(3)
    assert grads.delta[2].tolist() == [[8.0, 16.0]]  # delta_1(2), delta_2(2)
    assert grads.delta[1].tolist() == [[20.0]]  # delta(1)
    assert grads.dL_dW[1].tolist() == [[40.0]]  # dL/dxh1 = 20 * 2


def test_one_update_of_xh1_gives_0_8_and_output_4() -> None:
    e = load_experiment()
    trainer = Trainer(e)
    trainer.epochs_planned = 1
    trainer.run()
    assert e.network.W[1].tolist() == [[0.8]]  # 2 - 0.03 * 40
    Y = e.network.predict(e.data.X)
    assert Y.tolist() == [[4.0]]
    assert (Y - e.data.T).tolist() == [[2.0]]
    # the frozen weights did not move
    assert e.network.W[2].tolist() == [[0.75, 0.25]]
    assert e.network.W[3].tolist() == [[0.25], [0.5]]


def test_each_epoch_divides_the_loss_by_16() -> None:
    e = load_experiment()
    result = Trainer(e).run()
    assert result.status == "completed"
    assert result.losses == [32.0 / 16**i for i in range(10)]
    assert result.final_loss == 32.0 / 16**10
    np.testing.assert_allclose(e.network.W[1][0, 0], 0.4, rtol=0, atol=1e-5)


def test_everything_trained_overshoots_and_diverges(tiny_all_path: Path) -> None:
    e = load_experiment(tiny_all_path)
    result = Trainer(e).run()
    assert result.status == "diverged"
    assert result.losses[:3] == [32.0, 10624.388142079995, 9.395058478695053e16]
    assert not np.isfinite(result.losses[-1])
    assert result.diverged_epoch == len(result.losses) == 5
