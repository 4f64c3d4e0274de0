import numpy as np
import pytest

from numerics.mlp.hessian import hessian, hvp
from numerics.mlp.spectrum import SLQ
from verify import run_check
from verify.hessian import (
    CHECKS,
    PAPER,
    array_labels,
    blockwise_error,
    build,
    hessian_error,
    hvp_error,
    slq_error,
)
from verify.registry import Check


def test_a_slightly_wrong_hessian_fails_its_check():
    """A relative error of 1e-9 in one block (the curvature of the last layer's beta) is caught."""

    def wrong(net, params, X, y):
        H = hessian(net, params, X, y)
        H[-1, -1] *= 1 + 1e-9
        return H

    check = Check("perturbed hessian", "jax", 1e-10, CHECKS[0].strategy, lambda ex: hessian_error(ex, wrong),
                  explicit=PAPER[:1])
    result = run_check(check, max_examples=2)
    assert not result.passed and "error" in result.failure


def test_a_missing_curvature_block_fails_the_hessian_check():
    """Forgetting d2L/dbeta_L^2 (a block that is tiny against the W blocks at beta ~ 0.004) is caught."""

    def without_beta_curvature(net, params, X, y):
        H = hessian(net, params, X, y)
        H[-1, -1] = 0.0
        return H

    assert hessian_error(PAPER[0]) <= 1e-12
    assert hessian_error(PAPER[0], without_beta_curvature) == pytest.approx(1.0)


def test_a_wrong_product_fails_the_hvp_check():
    def wrong(net, params, X, y, v):
        out = hvp(net, params, X, y, v)
        out[0] *= 1 + 1e-9
        return out

    assert hvp_error(PAPER[2]) <= 1e-12
    assert hvp_error(PAPER[2], wrong) > 1e-10


def test_blockwise_error_judges_each_block_on_its_own_scale():
    labels = np.array(["W1", "W1", "beta1"])
    ref = np.array([[1.0, 2.0, 1e-6], [2.0, 3.0, 1e-6], [1e-6, 1e-6, 1e-6]])
    val = ref.copy()
    val[2, 2] += 1e-12  # tiny against the matrix, 1e-6 of its block
    assert blockwise_error(val, ref, labels) == pytest.approx(1e-6)
    zero_block = np.zeros((3, 3))
    zero_block[0, 0] = 1.0
    val = zero_block.copy()
    val[2, 2] = 1e-14  # a block that should vanish is judged against the whole matrix
    assert blockwise_error(val, zero_block, labels) == pytest.approx(1e-14)
    assert blockwise_error(np.full((3, 3), np.nan), ref, labels) == np.inf
    assert list(array_labels(build(PAPER[3])[0])[:12]) == ["W1"] * 12


def test_uniform_weights_fail_the_slq_check(monkeypatch):
    """A quadrature that forgets the Gauss weights (equal weight on every Ritz value) misses the density."""
    import verify.hessian as vh

    original = vh.slq

    def unweighted(*args, **kwargs):
        q = original(*args, **kwargs)
        return SLQ(q.nodes, [np.full(len(w), 1.0 / len(w)) for w in q.weights], q.size)

    example = (PAPER[2], 0)
    assert slq_error(example) <= 0.05
    monkeypatch.setattr(vh, "slq", unweighted)
    assert slq_error(example) > 0.05
