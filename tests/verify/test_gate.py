import pytest
from hypothesis import strategies as st

from verify import run_check
from verify.gate import CHECKS, Check, _kernel_error, mp_reference

GATE_CHECKS = [c for c in CHECKS]


@pytest.mark.parametrize("check", GATE_CHECKS, ids=[c.name for c in GATE_CHECKS])
def test_check_passes(check):
    result = run_check(check, max_examples=25)
    assert result.passed, result.failure
    assert result.examples >= 1


def test_a_wrong_kernel_fails_its_check():
    from numerics import activation

    true = activation("esp").d_h
    wrong = lambda h, beta: true(h, beta) * (1 + 1e-12)  # noqa: E731
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
