import pytest
from hypothesis import strategies as st

from verify import run_check
from verify.gate import Check, _kernel_error, mp_reference


def test_a_wrong_kernel_fails_its_check():
    from numerics import activation

    true = activation("esp").d_h
    wrong = lambda h, beta: true(h, beta) * (1 + 1e-12)
    check = Check("perturbed", "mpmath", 1e-13, lambda: st.tuples(st.floats(-5, 5), st.just(1.0)),
                  _kernel_error("esp", "d_h", wrong))
    result = run_check(check, max_examples=20)
    assert not result.passed and "error" in result.failure


def test_mp_reference_against_closed_forms():
    import math

    # sigma'(x) = sigma(x) sigma(-x) at x = 3 and the tail of d_beta of ESP, e^-x h^2 at x = 800
    assert mp_reference("sigmoid", "d_h", 3.0, 1.0) == pytest.approx(math.exp(-3) / (1 + math.exp(-3)) ** 2, rel=1e-15)
    # h^2 sigma(x) sigma(-x) with x = 800: exp(2 log 8e8 - 800) (e^-800 is below the float range)
    assert mp_reference("esp", "d_beta", 8e8, 1e-6) == pytest.approx(math.exp(2 * math.log(8e8) - 800.0), rel=1e-13)


@pytest.fixture
def gelu_beta():
    from numerics.kernels.activations import register_activation, unregister_activation

    register_activation("v_gelu", "h*Phi(beta*h)")
    yield "v_gelu"
    unregister_activation("v_gelu")


@pytest.mark.slow
def test_rows_of_a_registered_activation_pass(gelu_beta):
    from verify.gate import activation_checks

    checks = activation_checks(gelu_beta)
    names = [c.name for c in checks]
    assert "kernel v_gelu.d_betabeta vs mpmath" in names and "mlp v_gelu: hessian vs JAX" in names
    for check in checks:
        result = run_check(check, max_examples=3)
        assert result.passed, (check.name, result.failure)


def test_registered_kernel_and_gradient_rows(gelu_beta):
    from verify.gate import activation_checks

    rows = {c.name: c for c in activation_checks(gelu_beta)}
    for name in ("kernel v_gelu.d_h vs JAX", "derivative v_gelu.d_hbeta vs mpmath.diff", "mlp v_gelu: gradients vs JAX"):
        result = run_check(rows[name], max_examples=3)
        assert result.passed, (name, result.failure)
