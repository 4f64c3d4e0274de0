"""MAJ-k maps, critical perturbation and ordered states against enumeration and published values."""

import itertools
from fractions import Fraction
from math import comb

import mpmath as mp
import pytest
import sympy as sp

from theory import majority as mj


def test_effective_inputs_and_pair_distribution():
    m_in, q_in = mj.effective_inputs()
    assert sp.expand(m_in - (1 - 2 * mj.p) * mj.m) == 0
    assert sp.expand(q_in - (1 - 2 * mj.p) * mj.q) == 0
    assert mj.pair_probability_moments() == (1, mj.m_hat, mj.m_eff, mj.q_eff)


@pytest.mark.parametrize("k", [3, 5, 7])
def test_grouped_magnetization_map_equals_literal_sum(k):
    assert sp.expand(mj.magnetization_map_literal(k) - mj.magnetization_map(k)) == 0


@pytest.mark.parametrize("k", [3, pytest.param(5, marks=pytest.mark.slow)])
def test_grouped_overlap_map_equals_literal_sum(k):
    assert sp.expand(mj.overlap_map_literal(k) - mj.overlap_map(k)) == 0


def test_k3_maps_by_hand():
    # MAJ-3 of independent inputs: P(majority +) = P+^3 + 3 P+^2 P-, so M_3(x) = (3x - x^3)/2
    x = mj.m_eff
    assert sp.expand(mj.magnetization_map(3) - (3 * x - x**3) / 2) == 0


@pytest.mark.parametrize("k", [3, 5, 7, 9, 15, 21])
def test_slope_against_enumeration(k):
    # M_k'(0) = E|s_1 + ... + s_k| over uniform spins, counted exactly
    expected = Fraction(sum(comb(k, i) * abs(k - 2 * i) for i in range(k + 1)), 2**k)
    n = (k - 1) // 2
    assert mj.slope_at_zero().subs(mj.n, n) == sp.Rational(expected.numerator, expected.denominator)


def test_critical_perturbation_is_published():
    # letter: p_c = 1/6 for k = 3; noisy k-majority threshold 1/2 - 2^(k-2) / (k C(k-1, (k-1)/2))
    # (Evans & Schulman 2003; Mozeika, Saad & Raymond 2009)
    assert mj.critical_perturbation().subs(mj.n, 1) == sp.Rational(1, 6)
    for k in range(3, 31, 2):
        published = sp.Rational(1, 2) - sp.Rational(2 ** (k - 2), k * comb(k - 1, (k - 1) // 2))
        assert mj.critical_perturbation().subs(mj.n, (k - 1) // 2) == published


def test_ordered_states_k3_are_the_letters():
    minus, plus = mj.ordered_states_k3()
    letter = sp.sqrt((1 - 6 * mj.p) / (1 - 2 * mj.p) ** 3)
    for pv in (sp.Rational(1, 100), sp.Rational(1, 10), sp.Rational(3, 20)):
        assert sp.simplify(plus.subs(mj.p, pv) - letter.subs(mj.p, pv)) == 0
        assert sp.simplify(minus.subs(mj.p, pv) + letter.subs(mj.p, pv)) == 0


@pytest.mark.parametrize("k", [3, 5, 7, 9, 11])
def test_integral_form(k):
    assert mj.integral_form_residual(k) == 0


@pytest.mark.parametrize("k", [3, 5])
def test_overlap_equals_magnetization_on_reference_fixed_point(k):
    assert mj.overlap_on_reference_fixed_point(k) == 0


def test_overlap_map_k3_against_exact_enumeration():
    # exact rational enumeration of Eq. 14 at one point (independent of sympy)
    mh, me, qe = Fraction(3, 10), Fraction(1, 5), Fraction(1, 10)
    P = {(a, b): (1 + a * mh + b * me + a * b * qe) / 4 for a in (1, -1) for b in (1, -1)}
    total = Fraction(0)
    for cfg in itertools.product(P, repeat=3):
        weight = Fraction(1)
        for pair in cfg:
            weight *= P[pair]
        sh = 1 if sum(a for a, _ in cfg) > 0 else -1
        sp_ = 1 if sum(b for _, b in cfg) > 0 else -1
        total += weight * sh * sp_
    value = mj.overlap_map(3).subs({mj.m_hat: sp.Rational(3, 10), mj.m_eff: sp.Rational(1, 5), mj.q_eff: sp.Rational(1, 10)})
    assert value == sp.Rational(total.numerator, total.denominator)


def test_bad_k():
    for k in (2, 1, 4, 3.5, True):
        with pytest.raises(ValueError, match="odd integer >= 3"):
            mj.check_k(k)


def test_derivation():
    d = mj.derivation()
    assert d["p_c.k3"] == sp.Rational(1, 6) and d["Q3.literal_minus_grouped"] == 0
    with mp.workdps(20):
        assert float(d["p_c.k5"]) == pytest.approx(7 / 30, rel=1e-15)


@pytest.mark.parametrize("k", [3, 5, 7, 9, 11, 15])
def test_stationary_forms_and_equations(k):
    # mean of 1 - (1-t^2)^n, the complement form after t = 1 - v, and both stationary equations,
    # each equal (exactly, per k) to the fixed point m = M_k((1-2p) m) of the grouped Eq. 13
    assert mj.deficit_form_residual(k) == 0
    assert mj.small_m_equation_residual(k) == 0
    assert mj.complement_form_residual(k) == 0
    assert mj.complement_equation_residual(k) == 0


def test_stationary_gap_in_p_c():
    assert mj.stationary_gap_residual() == 0
    assert mj.stationary_gap().subs(mj.p_c, mj.p) == 0  # vanishes at p_c


def test_complement_substitution():
    (var, lo, hi), = mj.complement_substitution().limits
    assert (var, lo, hi) == (mj.v, 0, 1 - mj.x)
    assert sp.expand(mj.complement_integrand().base - (1 - (1 - mj.v) ** 2)) == 0
    assert sp.expand(mj.complement_limit() - (1 - (1 - 2 * mj.p) * (1 - mj.u))) == 0


@pytest.mark.parametrize("pv", [sp.Rational(1, 100), sp.Rational(1, 10), sp.Rational(4, 25)])
def test_stationary_equations_hold_at_the_letters_k3_state(pv):
    # MAJ-3 (n = 1, M_3'(0) = 3/2, p_c = 1/6): the letter's m = sqrt((1-6p)/(1-2p)^3) solves both equations
    m_letter = sp.sqrt((1 - 6 * pv) / (1 - 2 * pv) ** 3)
    small, comp = mj.small_m_equation(), mj.complement_equation()
    at = {mj.n: 1, mj.p: pv, mj.p_c: sp.Rational(1, 6), mj.slope: sp.Rational(3, 2)}
    small_at = {**at, mj.X: (1 - 2 * pv) * m_letter}
    assert sp.simplify((small.lhs - small.rhs).subs(small_at).doit()) == 0
    assert sp.simplify((comp.lhs - comp.rhs).subs({**at, mj.u: 1 - m_letter}).doit()) == 0
    assert sp.simplify((comp.lhs - comp.rhs).subs({**at, mj.u: (1 - m_letter) / 2}).doit()) != 0  # and only there
