"""Signal-propagation closed forms against the known ReLU/linear/tanh results."""

import pytest
import sympy as sp

from theory import propagation as pr


def test_relu_closed_forms():
    # He et al. 2015 / Poole et al. 2016: E[relu(sqrt(q) z)^2] = q/2, critical sigma_w = sqrt(2)
    out = pr.relu_closed_forms()
    assert sp.simplify(out["variance_map"] - (pr.sigma_w**2 * pr.q / 2 + pr.sigma_b**2)) == 0
    assert sp.simplify(out["chi1"] - pr.sigma_w**2 / 2) == 0
    assert out["critical_sigma_w"] == sp.sqrt(2)
    assert sp.simplify(out["q_star"] - pr.sigma_b**2 / (1 - pr.sigma_w**2 / 2)) == 0


def test_linear_closed_forms():
    out = pr.linear_closed_forms()
    assert out["critical_sigma_w"] == 1
    assert sp.simplify(out["q_star"] - pr.sigma_b**2 / (1 - pr.sigma_w**2)) == 0


def test_zero_state_critical_points():
    b = sp.Symbol("beta", positive=True)
    assert sp.simplify(pr.zero_state_critical_sigma_w("tanh") - 1 / b) == 0
    assert pr.zero_state_critical_sigma_w("esp") == 2  # phi'(0) = 1/2 for h sigma(beta h)
    with pytest.raises(ValueError, match="phi\\(0\\) != 0"):
        pr.zero_state_critical_sigma_w("sigmoid")


def test_beta_scaling_and_limit():
    b = sp.Symbol("beta", positive=True)
    assert sp.simplify(pr.beta_scaling("esp") - 1 / b) == 0
    assert pr.beta_scaling("tanh") == 1
    hp = sp.Symbol("h_pos", positive=True)
    assert pr.beta_to_infinity("esp") == (hp, 0)


def test_gaussian_integration_by_parts():
    assert pr.gaussian_derivative_identity() == 0


def test_unknown_activation():
    with pytest.raises(ValueError, match="not known"):
        pr.variance_map("softsign")


def test_derivation():
    d = pr.derivation()
    assert d["relu.critical_sigma_w"] == sp.sqrt(2) and d["ibp"] == 0
