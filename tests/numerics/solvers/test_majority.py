"""MAJ-k recursions and stationary states against the theory's polynomials and closed forms."""

from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from numerics.solvers import majority as nm
from theory import majority as mj
from verify.function_space import enumerate_overlap


@pytest.mark.parametrize("k", [3, 5, 7])
def test_overlap_split_against_enumeration(k):
    for mh, me, qe in [(Fraction(3, 10), Fraction(1, 5), Fraction(1, 10)), (Fraction(9, 10), Fraction(7, 10), Fraction(13, 20))]:
        agree, disagree = enumerate_overlap(k, mh, me, qe)
        a, d = nm.overlap_split(k, float(mh), float(me), float(qe))
        assert a == pytest.approx(float(agree), rel=1e-14) and d == pytest.approx(float(disagree), rel=1e-14)


@pytest.mark.parametrize("k", [3, 5, 9])
def test_magnetization_against_theory_polynomial(k):
    poly = sp.lambdify(mj.m_eff, mj.magnetization_map(k), "mpmath")
    for x in (-0.7, 0.01, 0.5, 0.999):
        up, down = nm.majority_split(k, x)
        with mp.workdps(40):
            assert up - down == pytest.approx(float(poly(mp.mpf(x))), rel=1e-14, abs=1e-15)


def test_overlap_against_theory_polynomial_k5():
    poly = sp.lambdify((mj.m_hat, mj.m_eff, mj.q_eff), mj.overlap_map(5), "mpmath")
    for args in [(0.2, 0.1, 0.4), (1.0, 0.6, 0.6), (-0.3, 0.5, -0.1)]:
        a, d = nm.overlap_split(5, *args)
        with mp.workdps(30):
            assert a - d == pytest.approx(float(poly(*[mp.mpf(v) for v in args])), rel=1e-13, abs=1e-15)


def test_critical_perturbation_closed_form():
    assert nm.critical_perturbation(3) == 1 / 6
    for k in (5, 7, 51, 1001):
        exact = mj.critical_perturbation().subs(mj.n, (k - 1) // 2)
        assert nm.critical_perturbation(k) == float(exact)


@pytest.mark.parametrize("p", [0.0, 1e-9, 1e-3, 0.1, 0.15, 0.1666])
def test_stationary_k3_is_the_letters_ordered_state(p):
    st = nm.majority_stationary(3, p)
    with mp.workdps(50):
        pm = mp.mpf(p)
        m_ref = mp.sqrt((1 - 6 * pm) / (1 - 2 * pm) ** 3)
    assert st.m == pytest.approx(float(m_ref), rel=1e-13)
    assert st.q == st.m  # q = m on the reference's fixed point m^ = 1
    assert st.error == pytest.approx(float((1 - m_ref) / 2), rel=1e-10)


def test_stationary_beyond_p_c_is_paramagnetic():
    st = nm.majority_stationary(5, 0.24)
    assert (st.m, st.error, st.p_c) == (0.0, 0.5, nm.critical_perturbation(5))


@pytest.mark.parametrize("k, p", [(5, 0.1), (7, 0.2), (9, 0.05)])
def test_stationary_is_the_limit_of_the_recursion(k, p):
    tr = nm.majority_recursion(k, p, 400, m0=0.5)
    st = nm.majority_stationary(k, p)
    assert tr.m[-1] == pytest.approx(st.m, rel=1e-12)
    assert tr.q[-1] == pytest.approx(st.q, rel=1e-12)
    assert tr.m_hat[-1] == 1.0


def test_internal_error_rises_then_falls():
    # Fig. 2f: below p_c the internal error grows, then decays towards (1 - m)/2
    tr = nm.majority_recursion(3, 0.1, 60, m0=0.1)
    d = tr.error_per_layer
    peak = int(np.argmax(d))
    assert 0 < peak < 20 and np.all(np.diff(d[: peak + 1]) > 0) and np.all(np.diff(d[peak:]) < 0)
    assert d[-1] == pytest.approx(nm.majority_stationary(3, 0.1).error, rel=1e-6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: nm.majority_recursion(4, 0.1, 3, 0.1), "odd integer in \\[3, 1001\\]"),
        (lambda: nm.majority_stationary(1000001, 0.1), "odd integer in \\[3, 1001\\]"),
        (lambda: nm.majority_recursion(1001, 0.1, 100000, 0.1), "layers = 100000 at k = 1001 needs"),
        (lambda: nm.majority_recursion(3, 0.6, 3, 0.1), "p must lie in \\[0, 0.5\\]"),
        (lambda: nm.majority_recursion(3, 0.1, 0, 0.1), "layers must be"),
        (lambda: nm.majority_recursion(3, 0.1, 3, 1.5), "m0 must lie"),
        (lambda: nm.majority_recursion(3, 0.1, 3, 0.9, q0=-0.5), "moment set"),
        (lambda: nm.majority_stationary(1, 0.1), "odd integer in \\[3, 1001\\]"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
