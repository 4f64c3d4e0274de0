"""theory.storage against closed forms, mpmath and published numbers."""

import math

import mpmath
import pytest
import sympy as sp

from theory import storage as ts
from theory.derivation import Derivation


@pytest.fixture(scope="module")
def d() -> Derivation:
    return ts.derivation()


def _num(expr, **values) -> float:
    """Evaluate a step with the theory's own functions through erfc (mpmath, 30 digits)."""
    e = expr.replace(lambda f: isinstance(f, ts.OWN_FUNCTIONS), lambda f: f.rewrite(sp.exp))
    subs = {getattr(ts, k): v for k, v in values.items()}
    return float(sp.N(e.subs(subs), 30))


@pytest.mark.parametrize("func", [ts.H, ts.LogH, ts.Mills, ts.LogTwoCosh])
def test_own_function_derivatives_match_their_closed_forms(func):
    v = sp.Symbol("v", real=True)
    closed = func(v).rewrite(sp.exp)
    fdiff = sp.diff(func(v), v).replace(lambda f: isinstance(f, ts.OWN_FUNCTIONS), lambda f: f.rewrite(sp.exp))
    for point in (sp.Rational(-7, 2), sp.Rational(-1, 5), sp.Rational(7, 10), sp.Integer(4)):
        assert float(sp.N((fdiff - sp.diff(closed, v)).subs(v, point), 40)) == pytest.approx(0, abs=1e-30)


def test_special_values():
    assert ts.H(0) == sp.Rational(1, 2)
    assert ts.Mills(0) == sp.sqrt(2 / sp.pi)
    assert ts.LogH(0) == -sp.log(2)


def test_by_parts_against_direct_integration():
    # int Dt t exp(2t) = int Dt 2 exp(2t) = 2 e^2; int Dt t tanh(a t) = a int Dt sech^2(a t)
    t, a = ts.t, sp.Symbol("a", positive=True)
    out = ts.by_parts(t * sp.exp(2 * t), t, 2 * t)
    assert sp.simplify(out - 2 * sp.exp(2 * t)) == 0
    avg = lambda e: mpmath.quad(sp.lambdify(t, ts.density(t) * e, "mpmath"), [-mpmath.inf, mpmath.inf])
    assert float(avg(t * sp.exp(2 * t))) == pytest.approx(2 * math.e**2, rel=1e-14)
    assert float(avg(out)) == pytest.approx(2 * math.e**2, rel=1e-14)
    assert sp.simplify(ts.by_parts(t * sp.tanh(a * t), t, a * t) - a * sp.sech(a * t) ** 2) == 0
    with pytest.raises(ValueError, match="not linear"):
        ts.by_parts(t**2 * sp.exp(2 * t), t, 2 * t)


def test_saddle_point_is_twice_dS_dq_times_1_minus_q(d):
    # q/(2(1-q)^2) - alpha/(2(1-q)) <M^2>: the classic form of Gardner's equation
    integrand = d["dS_dq_integrand"]
    assert sp.simplify(integrand + ts.Mills(ts.field()) ** 2 / (2 * (1 - ts.q))) == 0
    assert sp.simplify(d["dS_dq_entropic"] - ts.q / (2 * (1 - ts.q) ** 2)) == 0
    assert d["saddle"].lhs == ts.q / (1 - ts.q)


def test_saddle_is_a_minimum_of_S(d):
    # at alpha = 0, S(q) = 1/2 ln(1-q) + q/(2(1-q)) grows from S(0) = 0: the saddle q = 0 is a minimum
    assert d["curvature_alpha0"] == sp.Rational(1, 2)
    for q in (0.1, 0.5, 0.9):
        assert _num(d["entropic_part"], q=q) > 0


def test_capacity_closed_form(d):
    assert d["capacity_kappa0"] == 2
    for kappa in (-1.7, 0.3, 2.9):
        with mpmath.workdps(30):
            ref = 1 / mpmath.quad(lambda v, k=kappa: mpmath.npdf(v) * (v + k) ** 2, [-kappa, mpmath.inf])
        assert _num(d["capacity"], kappa=kappa) == pytest.approx(float(ref), rel=1e-14)


def test_mills_asymptote_against_mpmath(d):
    asym = sp.lambdify(ts.x, d["mills_asymptote"], "mpmath")
    with mpmath.workdps(40):
        for xv in (20, 50, 200):
            exact = mpmath.npdf(xv) / (mpmath.erfc(xv / mpmath.sqrt(2)) / 2)
            # next term of the series is -74/x^7
            assert abs(asym(mpmath.mpf(xv)) - exact) < 100 / mpmath.mpf(xv) ** 7
    assert d["mills_limit_pos"] == 1 and d["mills_limit_neg"] == 0


def test_replicon_at_capacity_separates_kappa_signs(d):
    """RS holds at capacity exactly for kappa >= 0 (Gardner & Derrida): alpha_c H(-kappa) < 1 iff kappa > 0."""
    assert d["replicon_at_capacity_kappa0"] == 1
    for kappa in (0.01, 0.5, 3.0):
        assert _num(d["replicon_at_capacity"], kappa=kappa) < 1
    for kappa in (-0.01, -0.5, -2.0):
        assert _num(d["replicon_at_capacity"], kappa=kappa) > 1


def test_near_capacity_coefficient_is_gaussian_tail(d):
    assert sp.simplify(d["near_capacity_coefficient"] - ts.H(-ts.kappa)) == 0
    assert _num(d["near_capacity_slope"], kappa=0) == pytest.approx(0.5, rel=1e-15)


def test_ising_gardner_derrida(d):
    assert d["ising_rs_capacity_kappa0"] == 4 / sp.pi
    assert d["ising_q1_overlap_qhat"] == 2 / sp.pi
    assert d["ising_overlap"].rhs.function.has(sp.sech)


def test_teacher_saddle_forms_agree(d):
    """alpha sqrt(2/pi) <M(sqrt(R) s)> and Engel-Van den Broeck's (alpha/pi) int Ds exp(-R s^2/2)/H(sqrt(R) s)."""
    ours = d["ts_saddle_integrand"] * ts.density(ts.s)
    for R, s in ((0.3, -1.2), (0.9, 2.5)):
        assert _num(ours, R=R, s=s) == pytest.approx(_num(d["ts_saddle_engel"], R=R, s=s), rel=1e-14)
        engel = math.exp(-s * s / 2 - R * s * s / 2) / (math.pi * math.sqrt(2 * math.pi) * 0.5
                                                       * math.erfc(math.sqrt(R) * s / math.sqrt(2)))
        assert _num(d["ts_saddle_engel"], R=R, s=s) == pytest.approx(engel, rel=1e-12)


def test_teacher_asymptote_matches_engel_van_den_broeck(d):
    # Gibbs learning: eps ~ 0.625/alpha (Engel & Van den Broeck, Statistical Mechanics of Learning, 2001)
    assert float(d["ts_asymptote_value"]) == pytest.approx(0.625, abs=5e-4)


def test_error_forms_agree(d):
    for R in (0.1, 0.999, 1 - 1e-12):
        assert _num(d["ts_error_stable"], R=R) == pytest.approx(math.acos(R) / math.pi, rel=1e-6)


def test_json_round_trip(d):
    out = d.as_json()
    assert {"capacity", "saddle", "replicon", "ising_rs_capacity", "ts_saddle"} <= set(out)
    for value in out.values():
        sp.sympify(value)
    assert float(sp.sympify(out["capacity"]).subs(sp.Symbol("kappa"), 0)) == pytest.approx(2.0, rel=1e-15)


def test_replicon_stable_form_is_the_squared_curvature(d):
    # M^2 E^2 = [(ln H)'']^2 at a few fields, through erfc
    x = sp.Symbol("x", real=True)
    stable = d["replicon_integrand"].subs(ts.field(), x)
    for v in (-6.0, -0.3, 0.0, 2.5, 9.0):
        assert _num(stable.subs(x, v)) == pytest.approx(_num(d["log_tail_curvature"].subs(ts.x, v) ** 2), rel=1e-25)


def test_log_capacity_matches_the_closed_form(d):
    for k in (-0.5, -3.0, -8.0):
        log_cap = _num(d["log_capacity_negative"], kappa=k)
        cap = _num(d["capacity"], kappa=k)
        assert math.exp(log_cap) == pytest.approx(cap, rel=1e-12)


def test_dS_dq_has_the_sign_of_alpha_of_q_minus_alpha(d):
    I = sp.Symbol("I_q", positive=True)
    form = d["dS_dq_alpha_form"]
    assert sp.simplify(form - (ts.q - ts.alpha * I) / (2 * (1 - ts.q) ** 2)) == 0
