"""numerics.solvers.storage: RS solvers against mpmath and published values, and their validation."""

import math

import mpmath
import numpy as np
import pytest

from numerics.solvers import storage as ns


def _H(x):
    return mpmath.erfc(x / mpmath.sqrt(2)) / 2


def _M(x):
    return mpmath.npdf(x) / _H(x)


# ---- spherical ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kappa", [-1.93, -0.41, 0.0, 0.77, 4.6])
def test_capacity_against_quadrature(kappa):
    with mpmath.workdps(40):
        ref = 1 / mpmath.quad(lambda t: mpmath.npdf(t) * (t + kappa) ** 2, [-kappa, mpmath.inf])
    assert ns.capacity(kappa).alpha_c == pytest.approx(float(ref), rel=1e-13)
    assert float(ns.capacity(kappa)) == ns.capacity(kappa).alpha_c


def test_capacity_at_zero_is_two():
    assert ns.capacity(0.0).alpha_c == 2.0


def _mp_q(alpha, kappa):
    """Gardner's equation written from the talk's slide form, q/(1-q) = alpha <M(x)^2>, solved by mpmath."""
    with mpmath.workdps(20):
        a, k = mpmath.mpf(alpha), mpmath.mpf(kappa)

        def f(q):
            sq, w = mpmath.sqrt(q), mpmath.sqrt(1 - q)
            t0, s = -k / sq, w / sq
            pts = [-mpmath.inf] + sorted({t0 + c * s for c in (-30, -3, 0, 3, 30)} | {-3, 0, 3}) + [mpmath.inf]
            return q / (1 - q) - a * mpmath.quad(lambda t: mpmath.npdf(t) * _M((k + sq * t) / w) ** 2, pts)

        return mpmath.findroot(f, (mpmath.mpf("0.05"), mpmath.mpf("0.999")), solver="anderson")


@pytest.mark.parametrize("alpha,kappa", [(1.37, 0.0), (0.21, 1.6)])
def test_saddle_against_mpmath(alpha, kappa):
    assert ns.storage_saddle(alpha, kappa).q == pytest.approx(float(_mp_q(alpha, kappa)), rel=1e-12)


def test_small_alpha_expansion():
    # q = alpha <(1-q) M(x)^2> -> alpha M(kappa)^2 for alpha -> 0; S -> alpha ln H(kappa)
    for kappa in (0.0, 1.2):
        alpha = 1e-9
        res = ns.storage_saddle(alpha, kappa)
        assert res.q == pytest.approx(alpha * float(_M(kappa)) ** 2, rel=1e-8)
        assert res.entropy == pytest.approx(alpha * float(mpmath.log(_H(kappa))), rel=1e-8)


def test_saddle_monotone_and_entropy_decreasing():
    results = [ns.storage_saddle(a, 0.5) for a in np.linspace(0.05, 0.95, 10)]
    qs = [r.q for r in results]
    entropies = [r.entropy for r in results]
    assert np.all(np.diff(qs) > 0) and np.all(np.diff(entropies) < 0) and entropies[0] < 0


def test_q_approaches_one_at_capacity():
    alpha_c = ns.capacity(0.0).alpha_c
    for delta in (1e-4, 1e-8, 1e-12):
        res = ns.storage_saddle(alpha_c * (1 - delta), 0.0)
        assert (1 - res.q) / delta == pytest.approx(0.5, rel=10 * math.sqrt(delta) + 1e-3)


def test_rs_stable_for_nonnegative_kappa():
    for kappa in (0.0, 0.3, 2.0):
        alpha_c = ns.capacity(kappa).alpha_c
        for f in (0.1, 0.5, 0.99, 1 - 1e-6):
            assert ns.storage_saddle(f * alpha_c, kappa).rs_stable


@pytest.mark.parametrize("kappa", [-1.0, -0.3])
def test_at_line(kappa):
    alpha_at = ns.at_line(kappa)
    alpha_c = ns.capacity(kappa).alpha_c
    assert 0 < alpha_at < alpha_c and ns.capacity(kappa).alpha_at == alpha_at
    assert ns.storage_saddle(alpha_at, kappa).replicon == pytest.approx(1.0, rel=1e-10)
    assert ns.storage_saddle(alpha_at * 0.99, kappa).rs_stable
    assert not ns.storage_saddle(alpha_at * 1.01, kappa).rs_stable


def test_at_line_tiny_negative_kappa_resolves_to_capacity():
    kappa = -1e-9
    assert ns.at_line(kappa) == ns.capacity(kappa).alpha_c


# ---- Ising --------------------------------------------------------------------------------------

def test_ising_capacity_published():
    cap = ns.capacity(0.0, "ising")
    # Krauth & Mezard (1989), 9 digits from Ding & Sun (2019): 0.833078599
    assert cap.alpha_c == pytest.approx(0.833078599, abs=1e-9)
    # Gardner & Derrida (1988): q -> 1 gives 4/pi
    assert cap.alpha_rs == pytest.approx(4 / math.pi, rel=1e-15)
    assert ns.storage_saddle(cap.alpha_c, 0.0, "ising").entropy == pytest.approx(0.0, abs=1e-12)
    # the AT instability comes later than the entropy crisis
    assert cap.alpha_c < cap.alpha_at < cap.alpha_rs
    assert ns.storage_saddle(cap.alpha_at, 0.0, "ising").replicon == pytest.approx(1.0, rel=1e-10)


def test_ising_small_alpha_entropy_is_log2():
    res = ns.storage_saddle(1e-8, 0.0, "ising")
    assert res.entropy == pytest.approx(math.log(2), rel=1e-7)
    assert res.qhat == pytest.approx(1e-8 * 2 / math.pi, rel=1e-6)


def test_ising_rs_is_ill_defined_between_km_and_gd():
    res = ns.storage_saddle(1.2, 0.0, "ising")
    assert res.entropy < 0 and not res.rs_stable
    with pytest.raises(ValueError, match="q < 1"):
        ns.storage_saddle(1.3, 0.0, "ising")


# ---- teacher-student ----------------------------------------------------------------------------

def _mp_error(alpha):
    """Engel & Van den Broeck's form R/sqrt(1-R) = (alpha/pi) int Ds exp(-R s^2/2)/H(sqrt(R) s)."""
    with mpmath.workdps(20):
        a = mpmath.mpf(alpha)

        def f(r):
            g = lambda s: mpmath.npdf(s) * mpmath.exp(-r * s * s / 2) / _H(mpmath.sqrt(r) * s)
            return r / mpmath.sqrt(1 - r) - a / mpmath.pi * mpmath.quad(g, [-mpmath.inf, 0, mpmath.inf])

        r = mpmath.findroot(f, (mpmath.mpf("1e-3"), 1 - mpmath.mpf(10) ** -8), solver="anderson")
        return float(mpmath.acos(r) / mpmath.pi)


@pytest.mark.parametrize("alpha", [0.37, pytest.param(23.0, marks=pytest.mark.slow)])
def test_teacher_student_against_mpmath(alpha):
    assert ns.teacher_student(alpha).error == pytest.approx(_mp_error(alpha), rel=1e-11)


def test_teacher_student_limits():
    assert ns.teacher_student(1e-6).error == pytest.approx(0.5, abs=1e-6)
    assert 3000 * ns.teacher_student(3000.0).error == pytest.approx(0.6246582, rel=1e-6)


# ---- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("call,exc,match", [
    (lambda: ns.storage_saddle(0.0), ValueError, "alpha"),
    (lambda: ns.storage_saddle(-1.0), ValueError, "alpha"),
    (lambda: ns.storage_saddle(2.0), ValueError, "capacity"),
    (lambda: ns.storage_saddle(1.0, float("inf")), ValueError, "kappa"),
    (lambda: ns.storage_saddle("1"), TypeError, "alpha"),
    (lambda: ns.storage_saddle(True), TypeError, "alpha"),
    (lambda: ns.storage_saddle(1.0, weights="binary"), ValueError, "weights"),
    (lambda: ns.capacity(float("nan")), ValueError, "kappa"),
    (lambda: ns.teacher_student(float("nan")), ValueError, "alpha"),
    (lambda: ns.at_line(0.5), ValueError, "kappa"),
    (lambda: ns.at_line(-0.5, "binary"), ValueError, "weights"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_teacher_student_too_large_alpha_is_reported():
    with pytest.raises(ValueError, match="alpha is too large"):
        ns.teacher_student(1e12)


def test_nonconvergence_raises_naming_parameters(monkeypatch):
    class Info:
        converged = False
        flag = "convergence error"

    monkeypatch.setattr(ns.optimize, "brentq", lambda *a, **k: (0.5, Info()))
    with pytest.raises(ns.ConvergenceError, match=r"alpha=1.0, kappa=0.0"):
        ns.storage_saddle(1.0, 0.0)


@pytest.mark.filterwarnings("error")
def test_no_warnings_at_extremes():
    ns.storage_saddle(1e-12, -2.0)
    ns.storage_saddle(ns.capacity(5.0).alpha_c * (1 - 1e-10), 5.0)
    ns.teacher_student(1e4)


# ---- every RS branch at negative kappa ----------------------------------------------------------------

@pytest.mark.parametrize("q,kappa", [(0.4, -1.0), (0.3, -3.5), (0.97, -5.0)])
def test_derived_slope_and_curvature_of_I_against_differences(q, kappa):
    # I'(q) and I''(q) from the by-parts kernels against central differences of I(q) itself
    h = 1e-4 * min(q, 1 - q)
    i = [ns._I(q + k * h, kappa) for k in (-2, -1, 0, 1, 2)]
    d1 = (i[0] - 8 * i[1] + 8 * i[3] - i[4]) / (12 * h)
    d2 = (-i[0] + 16 * i[1] - 30 * i[2] + 16 * i[3] - i[4]) / (12 * h * h)
    assert ns._field_average(ns.gen.gardner_saddle_slope_integrand, q, kappa) == pytest.approx(d1, rel=1e-8)
    assert ns._curvature(q, kappa) * i[2] == pytest.approx(d2, rel=1e-4, abs=1e-4 * abs(d1) / q)


def test_three_roots_minimum_maximum_minimum():
    kappa = -3.5
    alpha = 0.8828 * ns.capacity(kappa).alpha_c  # inside the three-root window (theory.storage 'branch_rule')
    res = ns.storage_saddle(alpha, kappa)
    qs = [b.q for b in res.branches]
    assert len(qs) == 3 and qs == sorted(qs)
    for b in res.branches:  # each is a root: alpha(q) = alpha
        assert math.exp(ns._log_alpha_of_q(b.q, kappa)) == pytest.approx(alpha, rel=1e-12)
    rising = [ns._spinodal_gap(q, kappa) > 0 for q in qs]
    assert rising == [True, False, True]
    # S(q) has a maximum between two minima: the middle root has the highest entropy
    assert res.branches[1].entropy > max(res.branches[0].entropy, res.branches[2].entropy)
    assert res.q == min((res.branches[0], res.branches[2]), key=lambda b: b.entropy).q


def test_selected_branch_jumps_at_the_first_order_transition():
    kappa = -3.5
    cap = ns.capacity(kappa)
    lower, upper = cap.alpha_spinodals
    assert lower < cap.alpha_first_order < min(upper, cap.alpha_c)
    below = ns.storage_saddle(cap.alpha_first_order * (1 - 1e-6), kappa)
    above = ns.storage_saddle(cap.alpha_first_order * (1 + 1e-6), kappa)
    assert below.q < 0.2 and above.q > 0.8
    assert below.rs_stable and not above.rs_stable  # the jump lands on an unstable branch
    assert cap.alpha_at is None and cap.alpha_unstable == cap.alpha_first_order


def test_no_spurious_at_crossing_at_capacity():
    cap = ns.capacity(-5.0)
    assert ns.at_line(-5.0) is None and cap.alpha_at is None
    assert cap.alpha_unstable == cap.alpha_first_order < cap.alpha_c


def test_three_roots_appear_below_kappa3():
    k3 = ns.three_root_onset()
    assert -2.95 < k3 < -2.85
    assert ns.spinodals(k3 + 1e-3) is None
    q1, q2 = ns.spinodals(k3 - 1e-3)
    assert q1 < q2 and q2 - q1 < 0.1  # the two spinodals are born together


def test_unique_root_above_kappa3():
    cap = ns.capacity(-2.0)
    assert cap.alpha_first_order is None and cap.alpha_spinodals is None
    assert 0 < cap.alpha_at < cap.alpha_c and len(ns.storage_saddle(cap.alpha_at, -2.0).branches) == 1


def test_capacity_at_very_negative_kappa_in_logarithms():
    with mpmath.workdps(30):  # int_30^oo Dt (t-30)^2 with t = 30 + s, split at the scale 1/30 of s
        a = mpmath.mpf(30)
        ref = 1 / (mpmath.npdf(a) * mpmath.quad(lambda v: v**2 * mpmath.exp(-a * v - v * v / 2), [0, 0.1, 1, mpmath.inf]))
    cap = ns.capacity(-30.0)
    assert cap.alpha_c == pytest.approx(float(ref), rel=1e-13)
    assert cap.alpha_at is None and "kappa >= -10" in cap.note


@pytest.mark.parametrize("kappa", [1e155, -1e300, -37.5])
def test_capacity_outside_the_float64_range_is_refused(kappa):
    with pytest.raises(ValueError, match=r"kappa must be in \[-37.38, 1e\+100\]") as info:
        ns.capacity(kappa)
    assert "inf" not in str(info.value)
