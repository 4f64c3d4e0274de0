"""Check rows for Gardner's storage problem (theory.storage, numerics.solvers.storage).

Oracles:
* mpmath at 40 digits: the defining integrals written out here directly
  (Gaussian tail through mpmath.erfc, quadrature split at the boundary layer),
  roots refined by a Newton step from the solver's value (quadratic
  convergence, so the reference is exact to ~1e-30 whenever the solver is
  right and shows the solver's error whenever it is not);
* five-point numerical derivatives of the RS entropies themselves, for the derived saddle-point
  equations (differentiation and Gaussian integration by parts in sympy);
* the derived q -> 1 asymptotics against the solvers close to capacity;
* published values (Krauth-Mezard / Ding-Sun, Gardner-Derrida, Engel-Van den Broeck);
* Cover's exact count of dichotomies for the finite-N simulation twin.
"""

from __future__ import annotations

import math
from functools import cache

import mpmath
import sympy as sp
from hypothesis import strategies as st

from numerics._generated import storage as gen
from numerics.simulate.storage import simulate_storage
from numerics.solvers import storage as ns
from theory import storage as ts
from verify.metrics import relative_error
from verify.registry import Check, with_budget

DPS = 40
MP = mpmath.mp


def _mills(x):
    return mpmath.sqrt(2 / mpmath.pi) * mpmath.exp(-x * x / 2) / mpmath.erfc(x / mpmath.sqrt(2))


def _gauss(f, center=0, width=1):
    """int Dt f(t), split at the bulk of the Gaussian and around a boundary layer at center of the given width."""
    layer = {center + c * width for c in (-30, -3, 0, 3, 30)}
    pts = sorted({p for p in layer if abs(p) < 40} | {-10, -3, 0, 3, 10})
    return mpmath.quad(lambda v: mpmath.npdf(v) * f(v), [-mpmath.inf] + pts + [mpmath.inf])


# ---- closed forms vs quadrature --------------------------------------------------------------

def mp_capacity(kappa) -> mpmath.mpf:
    """1 / int_{-kappa}^oo Dt (t+kappa)^2 by quadrature."""
    with mpmath.workdps(DPS):
        k = mpmath.mpf(kappa)
        return 1 / mpmath.quad(lambda v: mpmath.npdf(v) * (v + k) ** 2, [-k, mpmath.inf])


def _capacity_error(kappa):
    return relative_error(ns.capacity(kappa).alpha_c, float(mp_capacity(kappa)))


def _near_capacity_error(kappa):
    """1/(1 + alpha_c K), K = int_{-kappa}^oo Dt (2 - t (t+kappa)), by quadrature."""
    with mpmath.workdps(DPS):
        k = mpmath.mpf(kappa)
        K = mpmath.quad(lambda v: mpmath.npdf(v) * (2 - v * (v + k)), [-k, mpmath.inf])
        ref = 1 / (1 + mp_capacity(kappa) * K)
    return relative_error(gen.gardner_near_capacity_slope(kappa), float(ref))


def _replicon_capacity_error(kappa):
    """alpha_c int_{-kappa}^oo Dt [(ln H)''(+oo)]^2 = alpha_c int_{-kappa}^oo Dt, by quadrature."""
    with mpmath.workdps(DPS):
        k = mpmath.mpf(kappa)
        ref = mp_capacity(kappa) * mpmath.quad(mpmath.npdf, [-k, mpmath.inf])
    return relative_error(gen.gardner_replicon_at_capacity(kappa), float(ref))


# ---- saddle points vs mpmath --------------------------------------------------------------------

def _newton(g, x0, h_rel="1e-12"):
    """One Newton step from x0 (slope by a secant of width h_rel x0)."""
    x0, h_rel = mpmath.mpf(x0), mpmath.mpf(h_rel)
    g0 = g(x0)
    h = h_rel * x0
    return x0 - g0 * h / (g(x0 + h) - g0)


def mp_spherical_q(alpha, kappa, q0):
    """Root of alpha <(1-q) M(x)^2>_t - q (Gardner's saddle point), refined from q0."""
    with mpmath.workdps(DPS):
        a, k = mpmath.mpf(alpha), mpmath.mpf(kappa)

        def g(q):
            sq, w = mpmath.sqrt(q), mpmath.sqrt(1 - q)
            return a * _gauss(lambda v: (1 - q) * _mills((k + sq * v) / w) ** 2, -k / sq, w / sq) - q

        return _newton(g, q0)


def _alpha_kappa():
    """(alpha, kappa): kappa in [-2, 5], alpha = f alpha_c(kappa), f in [1e-3, 0.99] (alpha_c by quadrature)."""
    def build(pair):
        f, kappa = pair
        return (f * float(mp_capacity(kappa)), kappa)

    return st.tuples(st.floats(1e-3, 0.99), st.floats(-2.0, 5.0)).map(build)


def _explicit_alpha_kappa(pairs):
    return tuple((f * float(mp_capacity(k)), k) for f, k in pairs)


def _q_error(ex):
    alpha, kappa = ex
    q = ns.storage_saddle(alpha, kappa).q
    return relative_error(q, float(mp_spherical_q(alpha, kappa, q)))


def mp_teacher_R(alpha, R0):
    with mpmath.workdps(DPS):
        a = mpmath.mpf(alpha)

        def g(r):
            mean = _gauss(lambda v: mpmath.sqrt(2 / mpmath.pi) * _mills(mpmath.sqrt(r) * v))
            return a * mean - r / mpmath.sqrt(1 - r)

        return _newton(g, R0)


def _teacher_error(alpha):
    res = ns.teacher_student(alpha)
    with mpmath.workdps(DPS):
        ref = mpmath.acos(mp_teacher_R(alpha, res.R)) / mpmath.pi
    return relative_error(res.error, float(ref))


# ---- derived equations vs numerical differentiation of the entropies ---------------------------

QUAD_POINTS = (-40, -8, -2, 0, 2, 8, 40)  # |t| > 40: Gaussian weight < 1e-347


def _split_quad(f, limits):
    """mpmath.quad over (-oo, oo) as a sum over QUAD_POINTS (lambdified theory integrals)."""
    if tuple(limits) != (-mpmath.inf, mpmath.inf):
        raise ValueError(f"expected an integral over the real line, got limits {limits}")
    return mpmath.quad(f, QUAD_POINTS)


MP_FUNCTIONS = {
    "H": lambda v: mpmath.erfc(v / mpmath.sqrt(2)) / 2,
    "LogH": lambda v: mpmath.log(mpmath.erfc(v / mpmath.sqrt(2)) / 2),
    "Mills": lambda v: _mills(v),
    "LogTwoCosh": lambda v: mpmath.log(2 * mpmath.cosh(v)),
    "quad": _split_quad,
}


@cache
def _mp_theory(key: str, args: tuple):
    """A theory step as an mpmath function of ``args`` (the theory's own functions through mpmath.erfc)."""
    expr = ts.derivation()[key]
    if isinstance(expr, sp.Equality):
        expr = expr.lhs - expr.rhs
    return sp.lambdify(args, expr, [MP_FUNCTIONS, "mpmath"])


# Five-point differences: truncation O(h^4), rounding 10^-dps / h.
FORMULA_DPS, FORMULA_STEP = 32, "1e-7"  # ~1e-25: checks the derived equations to 1e-20
STATIONARY_DPS, STATIONARY_STEP = 20, "1e-5"  # ~1e-15: checks the float64 solvers to 1e-10


def _derivative(f, x, step):
    """(f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / (12 h), h = step max(1, |x|)."""
    h = mpmath.mpf(step) * max(1, abs(x))
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


def _dS_formula_error(ex):
    """|numerical dS/dq - derived dS/dq| / (|entropic| + |energetic| part of dS/dq) at any (alpha, kappa, q)."""
    alpha, kappa, q = ex
    args = (ts.q, ts.alpha, ts.kappa)
    S, dS = _mp_theory("entropy", args), _mp_theory("dS_dq", args)
    with mpmath.workdps(FORMULA_DPS):
        a, k, qm = mpmath.mpf(alpha), mpmath.mpf(kappa), mpmath.mpf(q)
        numeric = _derivative(lambda v: S(v, a, k), qm, FORMULA_STEP)
        derived = dS(qm, a, k)
        scale = qm / (2 * (1 - qm) ** 2)
        return float(abs(numeric - derived) / scale)


def _stationary_error(ex):
    """|dS/dq| at the solver's q, by numerical derivative of S itself, relative to the entropic part q/(2(1-q)^2)."""
    alpha, kappa = ex
    q = ns.storage_saddle(alpha, kappa).q
    with mpmath.workdps(STATIONARY_DPS):
        a, k = mpmath.mpf(alpha), mpmath.mpf(kappa)

        def S(v):
            sq, w = mpmath.sqrt(v), mpmath.sqrt(1 - v)
            log_h = lambda t: mpmath.log(mpmath.erfc((k + sq * t) / (w * mpmath.sqrt(2))) / 2)
            return mpmath.log(1 - v) / 2 + v / (2 * (1 - v)) + a * _gauss(log_h, -k / sq, w / sq)

        qm = mpmath.mpf(q)
        return float(abs(_derivative(S, qm, STATIONARY_STEP)) / (qm / (2 * (1 - qm) ** 2)))


def _teacher_formula_error(ex):
    """|numerical ds/dR - (rhs - lhs)/(2 sqrt(1-R))|, the derived saddle point, relative to R/(2(1-R))."""
    alpha, r = ex
    s = _mp_theory("ts_entropy", (ts.R, ts.alpha))
    eq = _mp_theory("ts_saddle", (ts.R, ts.alpha))  # lhs - rhs
    with mpmath.workdps(FORMULA_DPS):
        a, rm = mpmath.mpf(alpha), mpmath.mpf(r)
        numeric = _derivative(lambda v: s(v, a), rm, FORMULA_STEP)
        derived = -eq(rm, a) / (2 * mpmath.sqrt(1 - rm))
        return float(abs(numeric - derived) / (rm / (2 * (1 - rm))))


def _ising_stationary_error(ex):
    """|ds/dq| and |ds/dqhat| at the solver's Ising saddle point, by numerical derivative of the theory's s(q, qhat)."""
    alpha, kappa = ex
    res = ns.storage_saddle(alpha, kappa, weights="ising")
    s = _mp_theory("ising_entropy", (ts.q, ts.qhat, ts.alpha, ts.kappa))
    with mpmath.workdps(STATIONARY_DPS):
        a, k, qm, qh = (mpmath.mpf(v) for v in (alpha, kappa, res.q, res.qhat))
        d_q = _derivative(lambda v: s(v, qh, a, k), qm, STATIONARY_STEP)
        d_qhat = _derivative(lambda v: s(qm, v, a, k), qh, STATIONARY_STEP)
        return float(max(abs(d_q) / qh, abs(d_qhat) / (1 - qm)))


# ---- q -> 1 asymptotics against the solvers -------------------------------------------------------

NEAR = 1e-8  # alpha = alpha_c (1 - NEAR): corrections O(sqrt(NEAR))


def _q1_error(kappa):
    """(1-q)/delta at alpha = alpha_c (1 - delta) against the derived limit 1/(1 + alpha_c H(-kappa))."""
    res = ns.storage_saddle(ns.capacity(kappa).alpha_c * (1 - NEAR), kappa)
    return abs((1 - res.q) / NEAR / float(gen.gardner_near_capacity_slope(kappa)) - 1)


def _replicon_q1_error(kappa):
    """replicon ratio at alpha = alpha_c (1 - delta) against the derived alpha_c H(-kappa)."""
    res = ns.storage_saddle(ns.capacity(kappa).alpha_c * (1 - NEAR), kappa)
    return abs(res.replicon / float(gen.gardner_replicon_at_capacity(kappa)) - 1)


def _ising_q1_error(kappa):
    """(1-q)^2 qhat -> 2/pi at alpha = alpha_rs (1 - 1e-4) (Gardner-Derrida q -> 1 limit)."""
    res = ns.storage_saddle(ns.capacity(kappa, "ising").alpha_rs * (1 - 1e-4), kappa, weights="ising")
    return abs((1 - res.q) ** 2 * res.qhat * math.pi / 2 - 1)


def _teacher_asymptote_error(alpha):
    """alpha^2 |alpha eps / c - 1| with c the derived constant: the correction is O(1/alpha^2)."""
    c = float(ts.derivation()["ts_asymptote_value"])
    return alpha**2 * abs(alpha * ns.teacher_student(alpha).error / c - 1)


# ---- every RS branch at negative kappa (independent mpmath implementation) ---------------------------

BRANCH_DPS = 30  # at 20 digits mpmath.quad of these integrands is good to only ~1e-8


def _mp_field(f, q, kappa):
    """int Dt f(x) at x = (kappa + sqrt(q) t)/sqrt(1-q): unit panels over the Gaussian bulk and out to
    t = |kappa| + 14 (where G(t) G(x)^2 peaks for kappa < 0), extra points across the boundary layer."""
    q, k = mpmath.mpf(q), mpmath.mpf(kappa)
    sq, w = mpmath.sqrt(q), mpmath.sqrt(1 - q)
    c, width = -k / sq, w / sq
    far = 14 + max(0, int(-kappa) + 1)
    pts = set(range(-14, far + 1)) | {c + m * width for m in (-30, -3, -1, 0, 1, 3, 30)}
    pts = sorted(v for v in pts if -14 <= v <= far)
    return mpmath.quad(lambda v: mpmath.npdf(v) * f((k + sq * v) / w), [-mpmath.inf] + pts + [mpmath.inf])


def _mp_curvature_sq(x):
    """[(ln H)''(x)]^2 = [M (M - x)]^2, with extra digits for the difference M - x."""
    with mpmath.extradps(2 * BRANCH_DPS):
        m = _mills(x)
        return (m * (m - x)) ** 2


def mp_alpha_of_q(q, kappa):
    """alpha(q) = q / <(1-q) M(x)^2>_t: the saddle point solved for alpha."""
    q = mpmath.mpf(q)
    return q / _mp_field(lambda x: (1 - q) * _mills(x) ** 2, q, kappa)


def _mp_log_tail(x):
    """ln H(x), through log1p for x < 0 (where H is within 1e-24 of 1 at x = -10)."""
    if x < 0:
        return mpmath.log1p(-mpmath.erfc(-x / mpmath.sqrt(2)) / 2)
    return mpmath.log(mpmath.erfc(x / mpmath.sqrt(2)) / 2)


def mp_entropy(q, alpha, kappa):
    q = mpmath.mpf(q)
    log_h = _mp_field(_mp_log_tail, q, kappa)
    return mpmath.log(1 - q) / 2 + q / (2 * (1 - q)) + mpmath.mpf(alpha) * log_h


def mp_replicon(q, alpha, kappa):
    return mpmath.mpf(alpha) * _mp_field(_mp_curvature_sq, q, kappa)


def _replicon_error(ex):
    """alpha <[(ln H)'']^2>_t of the solver's kernel (at alpha = 1) against mpmath, any (kappa, q)."""
    kappa, q = ex
    with mpmath.workdps(DPS):
        ref = mp_replicon(q, 1, kappa)
    return relative_error(ns._replicon(q, 1.0, kappa), float(ref))


def _kappa_q():
    near_one = st.floats(1.0, 12.0).map(lambda e: 1.0 - 10.0**-e)
    return st.tuples(st.floats(-10.0, 0.0), st.one_of(st.floats(1e-3, 0.999), near_one))


SCAN = 60  # q grid of the mpmath scan, uniform in ln(q/(1-q)) over [-60, 14] (q from 1e-26)


def mp_roots(alpha, kappa):
    """Every root of alpha(q) = alpha: sign changes of ln alpha(q) - ln alpha on the scan grid, each
    refined by mpmath's bracketing solver."""
    with mpmath.workdps(BRANCH_DPS):
        target = mpmath.log(alpha)
        g = lambda v: mpmath.log(mp_alpha_of_q(v, kappa)) - target
        grid = [1 / (1 + mpmath.exp(-(mpmath.mpf(-60) + 74 * mpmath.mpf(i) / (SCAN - 1)))) for i in range(SCAN)]
        values = [g(v) for v in grid]
        return [mpmath.findroot(g, (a, b), solver="anderson")
                for a, b, fa, fb in zip(grid, grid[1:], values, values[1:]) if (fa > 0) != (fb > 0)]


def _branches_error(ex):
    """Every RS root (q, entropy, replicon) of the solver against the mpmath scan; inf if their number differs."""
    ratio, kappa = ex
    alpha = ratio * ns.capacity(kappa).alpha_c
    res = ns.storage_saddle(alpha, kappa)
    roots = mp_roots(alpha, kappa)
    if len(roots) != len(res.branches):
        return math.inf
    worst = 0.0
    with mpmath.workdps(BRANCH_DPS):
        refs = [(r, mp_entropy(r, alpha, kappa), mp_replicon(r, alpha, kappa)) for r in roots]
    for b, (q, entropy, replicon) in zip(res.branches, refs):
        worst = max(worst, relative_error(b.q, float(q)), relative_error(b.entropy, float(entropy)),
                    relative_error(b.replicon, float(replicon)))
    lowest = min((r for r in refs if _mp_rising(r[0], kappa)), key=lambda r: r[1])
    return max(worst, relative_error(res.q, float(lowest[0])))


def _mp_rising(q, kappa):
    """alpha'(q) > 0 (a minimum of S), by a central difference."""
    h = mpmath.mpf("1e-8") * min(q, 1 - q)
    return mp_alpha_of_q(q + h, kappa) > mp_alpha_of_q(q - h, kappa)


BRANCH_CASES = ((0.8828, -3.5), (0.5, -3.5), (0.9, -5.0), (0.99, -10.0))


def _at_error(kappa):
    """alpha_AT against alpha(q) at the root of replicon(q) = 1 along alpha(q) in mpmath, refined by a
    Newton step from the solver's selected root at alpha_AT (quadratic convergence)."""
    got = ns.capacity(kappa).alpha_at
    q0 = ns.storage_saddle(got * (1 - 1e-13), kappa).q
    with mpmath.workdps(BRANCH_DPS):
        lam = lambda v: mp_replicon(v, mp_alpha_of_q(v, kappa), kappa) - 1
        ref = mp_alpha_of_q(_newton(lam, q0, mpmath.mpf("1e-8")), kappa)
    return relative_error(got, float(ref))


def _first_order_error(kappa):
    """Equal entropies of the small-q and large-q roots at the solver's alpha_first_order, in mpmath (roots
    refined by Newton from the solver's), as the implied relative error of alpha: |S_a - S_b| / (alpha |dS_a/dalpha
    - dS_b/dalpha|), with dS/dalpha = <ln H(x)>_t at fixed q."""
    alpha = ns.capacity(kappa).alpha_first_order
    res = ns.storage_saddle(alpha, kappa)
    small, large = res.branches[0].q, res.branches[-1].q
    with mpmath.workdps(BRANCH_DPS):
        g = lambda v: mpmath.log(mp_alpha_of_q(v, kappa)) - mpmath.log(alpha)
        qa, qb = (_newton(g, v, mpmath.mpf("1e-8")) for v in (small, large))
        gap = mp_entropy(qa, alpha, kappa) - mp_entropy(qb, alpha, kappa)
        slope = (mp_entropy(qa, 1, kappa) - mp_entropy(qa, 0, kappa)) - (mp_entropy(qb, 1, kappa)
                                                                          - mp_entropy(qb, 0, kappa))
        return float(abs(gap) / abs(alpha * slope))


def _spinodal_error(kappa):
    """q alpha'(q)/alpha(q) at the solver's spinodals (mpmath central difference; 0 at an exact spinodal)."""
    worst = 0.0
    with mpmath.workdps(BRANCH_DPS):
        for q in ns.spinodals(kappa):
            q = mpmath.mpf(q)
            h = mpmath.mpf("1e-6") * min(q, 1 - q)
            d = (mpmath.log(mp_alpha_of_q(q + h, kappa)) - mpmath.log(mp_alpha_of_q(q - h, kappa))) / (2 * h)
            worst = max(worst, float(abs(q * d)))
    return worst


# ---- published values -------------------------------------------------------------------------------

PUBLISHED = {
    # Krauth & Mezard, J. Phys. France 50, 3057 (1989): RS entropy of the Ising perceptron vanishes at
    # alpha_c ~ 0.833; value to 9 digits from Ding & Sun, "Capacity lower bound for the Ising perceptron" (2019).
    "ising alpha_c(0), Krauth-Mezard": (lambda: ns.capacity(0.0, "ising").alpha_c, 0.833078599, 1e-9),
    # Gardner & Derrida, J. Phys. A 21, 271 (1988): q -> 1 of the Ising RS equations, 4/pi.
    "ising alpha_rs(0), Gardner-Derrida": (lambda: ns.capacity(0.0, "ising").alpha_rs, 4 / math.pi, 0.0),
    # Gardner, J. Phys. A 21, 257 (1988): alpha_c(0) = 2.
    "spherical alpha_c(0), Gardner": (lambda: ns.capacity(0.0).alpha_c, 2.0, 0.0),
    # Engel & Van den Broeck, Statistical Mechanics of Learning (2001), sec. 2.3: Gibbs learning eps ~ 0.625/alpha.
    "Gibbs learning eps alpha -> 0.625": (lambda: float(ts.derivation()["ts_asymptote_value"]), 0.625, 5e-4),
}


def _published_error(name):
    """Relative error beyond the published value's own rounding."""
    value, ref, rounding = PUBLISHED[name]
    return max(0.0, abs(value() - ref) - rounding) / abs(ref)


# ---- finite-N twin ------------------------------------------------------------------------------------

def cover_fraction(n: int, p: int) -> float:
    """Cover (1965): probability that p random labels of p points in general position in R^n are
    separable by a hyperplane through the origin, 2^(1-p) sum_{k<n} C(p-1, k)."""
    return math.fsum(math.comb(p - 1, k) for k in range(min(n, p))) / 2 ** (p - 1)


TWIN_N, TWIN_TRIALS = 400, 100


@cache
def _simulated(n, alpha, trials, seed, method):
    return simulate_storage(n, [alpha], trials, kappa=0.0, seed=seed, method=method, workers=2)


def _binomial_z(sim, ref) -> float:
    """|fraction - ref| in units of the binomial sd at the reference probability."""
    sd = math.sqrt(max(ref * (1 - ref), 1e-12) / sim.trials)
    return abs(sim.fraction[0] - ref) / sd


def _twin_cover_error(alpha, simulate=_simulated):
    """Fraction at N = 50 (HiGHS linear programming) against Cover's exact finite-N count."""
    sim = simulate(50, alpha, 80, 7, "highs")
    return _binomial_z(sim, cover_fraction(50, sim.p[0]))


def _twin_capacity_error(_, simulate=_simulated):
    """Fraction at alpha = alpha_c(0) for N = TWIN_N against 1/2 (the crossing of 1/2 sits at alpha_c:
    by Cover's count exactly, for every N)."""
    return _binomial_z(simulate(TWIN_N, ns.capacity(0.0).alpha_c, TWIN_TRIALS, 2024, "nnls"), 0.5)


def _kappa():
    return st.floats(-2.0, 5.0)


CHECKS = [
    Check("storage: alpha_c(kappa) closed form vs quadrature", "mpmath quad, 40 digits", 1e-12,
          _kappa, _capacity_error, explicit=(-2.0, 0.0, 5.0, -1e-3, 1e-3), max_examples=20),
    Check("storage: near-capacity slope 1/(1 + alpha_c K) vs quadrature", "mpmath quad, 40 digits", 1e-12,
          _kappa, _near_capacity_error, explicit=(-2.0, 0.0, 5.0), max_examples=8),
    Check("storage: replicon at capacity alpha_c H(-kappa) vs quadrature", "mpmath quad, 40 digits", 1e-12,
          _kappa, _replicon_capacity_error, explicit=(-2.0, 0.0, 5.0), max_examples=8),
    Check("storage: q(alpha, kappa) vs mpmath", "mpmath quad + Newton, 40 digits", 1e-10,
          _alpha_kappa, _q_error,
          explicit=_explicit_alpha_kappa(((0.99, 0.0), (0.99, -2.0), (0.99, 5.0), (1e-3, 4.25))), max_examples=4),
    Check("storage: derived dS/dq vs numerical derivative of S", "5-point difference, mpmath", 1e-20,
          lambda: st.tuples(st.floats(0.1, 3.0), st.floats(-1.0, 2.0), st.floats(0.05, 0.9)),
          _dS_formula_error, max_examples=2),
    Check("storage: dS/dq = 0 at the solver's q", "5-point difference of S, mpmath", 1e-10,
          _alpha_kappa, _stationary_error, explicit=_explicit_alpha_kappa(((0.9, 0.0),)), max_examples=2),
    Check("storage: (1-q)/delta -> 1/(1 + alpha_c K) as alpha -> alpha_c", f"solver at delta = {NEAR:g}", 1e-3,
          _kappa, _q1_error, explicit=(-2.0, 0.0, 5.0), max_examples=10),
    Check("storage: replicon -> alpha_c H(-kappa) as alpha -> alpha_c", f"solver at delta = {NEAR:g}", 1e-3,
          _kappa, _replicon_q1_error, explicit=(-2.0, 0.0, 5.0), max_examples=10),
    Check("storage: ising (1-q)^2 qhat -> 2/pi as alpha -> alpha_rs", "solver at delta = 1e-4", 1e-5,
          lambda: st.floats(-1.0, 2.0), _ising_q1_error, explicit=(0.0,), max_examples=5),
    Check("storage: ising ds/dq = ds/dqhat = 0 at the solver's point", "5-point difference of s, mpmath", 1e-10,
          lambda: st.tuples(st.floats(0.1, 1.2), st.floats(-0.5, 1.0)), _ising_stationary_error,
          explicit=((0.833, 0.0),), max_examples=1),
    Check("storage: teacher eps(alpha) vs mpmath", "mpmath quad + Newton, 40 digits", 1e-9,
          lambda: st.floats(-1.0, 2.0).map(lambda v: 10.0**v), _teacher_error, explicit=(0.1, 100.0),
          max_examples=4),
    Check("storage: teacher derived ds/dR vs numerical derivative of s", "5-point difference, mpmath", 1e-20,
          lambda: st.tuples(st.floats(0.1, 20.0), st.floats(0.05, 0.95)), _teacher_formula_error, max_examples=2),
    Check("storage: teacher alpha eps -> c (O(1/alpha^2))", "derived constant c", 3.0,
          lambda: st.floats(2.5, 3.5).map(lambda v: 10.0**v), _teacher_asymptote_error, explicit=(300.0, 3000.0),
          max_examples=5),
    Check("storage: replicon <[(ln H)'']^2> vs mpmath down to kappa = -10, q -> 1", "mpmath quad, 40 digits",
          1e-10, _kappa_q, _replicon_error,
          explicit=((-10.0, 1 - 1e-12), (-10.0, 0.5), (-8.0, 0.9), (-6.0, 1 - 1e-6), (-1.0, 0.3)), max_examples=8),
    Check("storage: every RS root, its entropy and replicon vs an mpmath scan of alpha(q)",
          f"mpmath scan ({SCAN} q) + bracketing solver, {BRANCH_DPS} digits", 1e-10,
          lambda: st.sampled_from(BRANCH_CASES), _branches_error, explicit=BRANCH_CASES,
          max_examples=len(BRANCH_CASES)),
    Check("storage: AT crossing on the selected branch at kappa = -1, -2, -3", "mpmath replicon(q) = 1, Newton",
          1e-10, lambda: st.sampled_from((-1.0, -2.0, -3.0)), _at_error, explicit=(-1.0, -2.0, -3.0),
          max_examples=3),
    Check("storage: first-order transition, equal entropies of the two minima", "mpmath entropies, Newton roots",
          1e-10, lambda: st.sampled_from((-3.0, -3.5, -5.0)), _first_order_error, explicit=(-3.0, -3.5, -5.0),
          max_examples=3),
    Check("storage: spinodals are stationary points of alpha(q)", "mpmath central difference", 1e-9,
          lambda: st.sampled_from((-3.0, -5.0)), _spinodal_error, explicit=(-3.0, -5.0), max_examples=2),
    Check("storage: published values", "Krauth-Mezard, Gardner-Derrida, Gardner, Engel-Van den Broeck", 1e-12,
          lambda: st.sampled_from(sorted(PUBLISHED)), _published_error, explicit=tuple(sorted(PUBLISHED)),
          max_examples=len(PUBLISHED)),
    Check("storage: LP twin vs Cover's finite-N fraction (N=50)", "Cover 1965, in binomial sd", 4.0,
          lambda: st.sampled_from((1.6, 2.0, 2.4)), _twin_cover_error, explicit=(1.6, 2.0, 2.4), max_examples=3),
    Check(f"storage: twin fraction at alpha_c(0) = 2 is 1/2 (N={TWIN_N})", "binomial sd", 3.0,
          lambda: st.just(0), _twin_capacity_error, explicit=(0,), max_examples=1),
]
CHECKS = with_budget(CHECKS, slow=(f"storage: twin fraction at alpha_c(0) = 2 is 1/2 (N={TWIN_N})",
                                   "storage: every RS root, its entropy and replicon vs an mpmath scan of alpha(q)",
                                   "storage: first-order transition, equal entropies of the two minima",
                                   "storage: AT crossing on the selected branch at kappa = -1, -2, -3"))
