"""Gardner's storage problem: RS saddle points solved to high accuracy.

Equations (derived in theory/storage.py and generated, with their integrands,
into numerics/_generated/storage.py: each equation takes its Gaussian averages as
arguments, and this module only chooses the quadrature and the root finding),
with x = (kappa + sqrt(q) t)/sqrt(1-q):

* spherical: q = alpha <(1-q) M(x)^2>_t; S = 1/2 ln(1-q) + q/(2(1-q)) + alpha <ln H(x)>_t
  (the RS saddle is the minimum of S over q; S is the log of the typical
  fraction of the sphere that stores the patterns); capacity alpha_c(kappa) in
  closed form; replicon ratio alpha <[(ln H)'']^2>_t < 1 where RS is stable;
* Ising: 1 - q = <sech^2(sqrt(qhat) z)>_z, qhat = alpha <(1-q) M^2>_t/(1-q)^2;
  s = -qhat(1-q)/2 + <ln 2cosh(sqrt(qhat) z)>_z + alpha <ln H(x)>_t (log of the
  number of solutions / N); capacity where s = 0 (Krauth-Mezard) and the
  q -> 1 value 2 alpha_c/pi (Gardner-Derrida);
* teacher-student Gibbs learning: R/sqrt(1-R) = alpha <sqrt(2/pi) M(sqrt(R) s)>_s,
  eps = arccos(R)/pi.

Gaussian averages use numerics.solvers.gaussian.gaussian_rule, graded around the
boundary layer of the integrand (t = -kappa/sqrt(q), width sqrt(1-q)/sqrt(q);
z = 0, width 1/sqrt(qhat)). Roots are bracketed and found by Brent's method;
for the spherical saddle point every root of the explicit alpha(q) = q/I(q) is
found, on the intervals between the stationary points of alpha(q) (the
spinodals), and the lowest minimum of S is selected (theory.storage 'branch_rule').

Its finite-N twin is numerics.simulate.storage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize

from numerics import validate
from numerics._generated import storage as gen
from numerics.solvers.gaussian import gaussian_rule

WEIGHTS = ("spherical", "ising")
MIN_ONE_MINUS_Q = 1e-15  # below this q rounds to 1 in float64
CUTOFF = 14.0  # |t| beyond which the Gaussian weight is dropped (shifted by |kappa| for kappa < 0)
KAPPA_MAX = 1e100  # alpha_c ~ 1/kappa^2 stays a normal float64, kappa^2 finite
KAPPA_SADDLE_MIN = -10.0  # the branch solver is verified to 1e-10 down to here (1e-7 at -15 near q = 1)
KAPPA_MIN = -37.38  # alpha_c(-37.382) reaches the largest float64 (computed as ln alpha_c below 0)
RTOL = 4 * np.finfo(float).eps


class ConvergenceError(ArithmeticError):
    """A solver did not converge; the message names the parameters."""


def _brent(f, lo: float, hi: float, what: str) -> float:
    try:
        root, info = optimize.brentq(f, lo, hi, xtol=1e-300, rtol=RTOL, maxiter=400, full_output=True,
                                     disp=False)
    except ValueError as exc:  # no sign change: the bracket search above should have excluded this
        raise ConvergenceError(f"{what}: root not bracketed in [{lo!r}, {hi!r}] ({exc})") from None
    if not info.converged:
        raise ConvergenceError(f"{what}: Brent's method did not converge ({info.flag})")
    return root


# ---- Gaussian averages ------------------------------------------------------------------------

def _field_average(kernel, q: float, kappa: float) -> float:
    """<kernel(t, q, kappa)>_t, graded around the boundary layer at x = 0.

    For kappa < 0 the integrands also carry mass up to t ~ |kappa| (where
    G(t) G(x)^2 peaks), so the rule extends |kappa| beyond the usual cutoff."""
    sq = math.sqrt(q)
    t, w = gaussian_rule(-kappa / sq, math.sqrt(1.0 - q) / sq, cutoff=CUTOFF + max(0.0, -kappa))
    return float(w @ kernel(t, q, kappa))


def _spin_average(kernel, qhat: float) -> float:
    """<kernel(z, qhat)>_z, graded around z = 0 (width 1/sqrt(qhat))."""
    z, w = gaussian_rule(0.0, 1.0 / math.sqrt(qhat))
    return float(w @ kernel(z, qhat))


# ---- spherical perceptron -----------------------------------------------------------------------

@dataclass(frozen=True)
class Capacity:
    """Storage capacity at stability kappa.

    spherical: alpha_c (closed form, q -> 1 of the large-q RS branch). For
    kappa < kappa_3 the RS saddle-point equation has three roots in a window
    of alpha (theory.storage 'branch_rule'): ``alpha_spinodals`` = (lower,
    upper) ends of that window (the stationary values of alpha(q); the upper
    one may exceed alpha_c), ``alpha_first_order`` where the selected
    (lowest-entropy) root jumps from the small-q to the large-q branch (None
    where the root is unique). ``alpha_at``: where the replicon of the
    selected branch crosses 1 continuously (None where it does not);
    ``alpha_unstable``: the onset of RS instability, the smaller of
    alpha_at and a first-order jump onto a branch with replicon > 1 (None for
    kappa >= 0: RS stable up to alpha_c). ``note`` says when only alpha_c was
    computed (kappa below the range of the saddle-point solver).
    ising: alpha_c where the RS entropy vanishes (Krauth-Mezard) and alpha_rs,
    the q -> 1 value of the RS equations (Gardner-Derrida), which exceeds the
    bound alpha <= 1 at kappa = 0 because the RS entropy is negative there;
    alpha_at, the AT crossing, lies above alpha_c (at kappa = 0): the RS answer
    fails by its entropy turning negative, not by local instability.
    """

    kappa: float
    weights: str
    alpha_c: float
    alpha_rs: float | None = None
    alpha_at: float | None = None
    alpha_first_order: float | None = None
    alpha_spinodals: tuple | None = None
    alpha_unstable: float | None = None
    note: str | None = None

    def __float__(self) -> float:
        return self.alpha_c


@dataclass(frozen=True)
class Branch:
    """One RS root q at (alpha, kappa) with its entropy S(q) and replicon ratio."""

    q: float
    entropy: float
    replicon: float


@dataclass(frozen=True)
class StorageSaddle:
    """RS saddle point at (alpha, kappa).

    entropy: S(q) for spherical couplings (log-fraction of the sphere, <= 0),
    s(q, qhat) for Ising couplings (log of the number of solutions / N; RS is
    unphysical where it is negative). replicon: the AT ratio; rs_stable = replicon < 1.
    branches (spherical): every RS root, in increasing q; q is the selected
    one, the lowest minimum of S (theory.storage 'branch_rule').
    """

    alpha: float
    kappa: float
    weights: str
    q: float
    entropy: float
    replicon: float
    rs_stable: bool
    qhat: float | None = None
    branches: tuple = ()


def _check_kappa(kappa: float, lo: float, what: str) -> None:
    if not lo <= kappa <= KAPPA_MAX:
        raise ValueError(f"kappa must be in [{lo:g}, {KAPPA_MAX:g}] for {what}, got {kappa!r}")


def _spherical_capacity(kappa: float) -> float:
    """alpha_c(kappa): the tail form for kappa >= 0, exp of the log form for kappa < 0."""
    _check_kappa(kappa, KAPPA_MIN, "the spherical capacity (alpha_c beyond the float64 range below)")
    if kappa >= 0.0:
        return float(gen.gardner_capacity(kappa))
    return math.exp(float(gen.gardner_log_capacity_negative(kappa)))


def _I(q: float, kappa: float) -> float:
    """I(q) = <(1-q) M(x)^2>_t, so that alpha(q) = q / I(q) (theory.storage 'alpha_of_q')."""
    return _field_average(gen.gardner_saddle_integrand, q, kappa)


def _log_alpha_of_q(q: float, kappa: float) -> float:
    return gen.gardner_log_alpha_of_q(q, _I(q, kappa))


def _spinodal_gap(q: float, kappa: float) -> float:
    """1 - q I'(q)/I(q): alpha'(q) has its sign (theory.storage 'spinodal_gap')."""
    return gen.gardner_spinodal_gap(q, _I(q, kappa), _field_average(gen.gardner_saddle_slope_integrand, q, kappa))


def _curvature(q: float, kappa: float) -> float:
    """I''(q) / I(q) (theory.storage 'saddle_curvature_integrand')."""
    return _field_average(gen.gardner_saddle_curvature_integrand, q, kappa) / _I(q, kappa)


Q_EDGE = 1e-9  # q-interval (Q_EDGE, 1 - Q_EDGE) searched for the extrema of alpha(q)


def _inflection(kappa: float) -> float | None:
    """The q where I''(q) = 0 (the minimum of alpha'(q) I^2 / I), or None when I'' keeps its sign."""
    lo, hi = Q_EDGE, 1.0 - Q_EDGE
    if not (_curvature(lo, kappa) > 0.0 > _curvature(hi, kappa)):
        return None
    return _brent(lambda v: _curvature(v, kappa), lo, hi, f"inflection of I(q) at kappa={kappa!r}")


def spinodals(kappa: float) -> tuple[float, float] | None:
    """(q_1, q_2), the local maximum and minimum of alpha(q), or None when alpha(q) is increasing.

    Roots of 1 - q I'/I on each side of the inflection point of I (Brent)."""
    kappa = validate.real("kappa", kappa)
    _check_kappa(kappa, KAPPA_SADDLE_MIN, "the RS branches")
    return _spinodals(kappa)


@lru_cache(maxsize=256)
def _spinodals(kappa: float) -> tuple[float, float] | None:
    qm = _inflection(kappa)
    if qm is None or _spinodal_gap(qm, kappa) >= 0.0:
        return None
    f = lambda v: _spinodal_gap(v, kappa)
    what = f"spinodal at kappa={kappa!r}"
    return _brent(f, Q_EDGE, qm, what), _brent(f, qm, 1.0 - Q_EDGE, what)


def three_root_onset() -> float:
    """kappa_3: the largest kappa with three RS roots in a window of alpha (the two spinodals merge).

    Root in kappa of 1 - q I'/I at the inflection point of I(q)."""
    def gap(k):
        return _spinodal_gap(_inflection(k), k)
    return _brent(gap, -3.5, -2.5, "onset of three RS roots")


def _branch(q: float, alpha: float, kappa: float) -> Branch:
    entropy = gen.gardner_entropy(q, alpha, _field_average(gen.gardner_energetic_integrand, q, kappa))
    return Branch(q, entropy, _replicon(q, alpha, kappa))


def _replicon(q: float, alpha: float, kappa: float) -> float:
    return gen.gardner_replicon(alpha, _field_average(gen.gardner_replicon_integrand, q, kappa))


def _root_on(lo: float, hi: float, alpha: float, kappa: float, top: bool) -> float | None:
    """The root of ln alpha(q) = ln alpha with alpha(q) increasing on (lo, hi) (top: hi = 1) or
    decreasing (lo < hi, not top); None when alpha is outside the range of alpha(q) there."""
    target = math.log(alpha)
    f = lambda v: _log_alpha_of_q(v, kappa) - target
    what = f"spherical saddle point at alpha={alpha!r}, kappa={kappa!r}"
    if lo == 0.0:  # alpha(q) ~ q / M(kappa)^2 as q -> 0
        lo = min(hi, 0.5)
        while f(lo) >= 0.0:
            lo *= 1e-2
            if lo < 1e-300:
                raise ConvergenceError(f"{what}: no q > 1e-300 below the root")
    if top:
        gap = 1.0 - max(lo, 0.5)
        while f(1.0 - gap) <= 0.0:
            gap *= 0.1
            if gap < MIN_ONE_MINUS_Q:
                raise ValueError(f"{what}: alpha is too close to the capacity (the overlap is within "
                                 f"{MIN_ONE_MINUS_Q:g} of 1 and rounds to 1 in float64)")
        hi = 1.0 - gap
    flo, fhi = f(lo), f(hi)
    if flo == 0.0:
        return lo
    if fhi == 0.0:
        return hi
    if (flo > 0.0) == (fhi > 0.0):
        return None
    return _brent(f, lo, hi, what)


def _roots(alpha: float, kappa: float) -> list[float]:
    """Every RS root q in (0, 1) at (alpha < alpha_c, kappa), in increasing order."""
    sp_ = _spinodals(kappa)
    if sp_ is None:
        return [_root_on(0.0, 1.0, alpha, kappa, True)]
    q1, q2 = sp_
    found = [_root_on(0.0, q1, alpha, kappa, False), _root_on(q1, q2, alpha, kappa, False),
             _root_on(q2, 1.0, alpha, kappa, True)]
    return [r for r in found if r is not None]


def _select(branches: list[Branch], kappa: float) -> Branch:
    """The lowest minimum of S: the lowest entropy among the roots on increasing parts of alpha(q)."""
    minima = [b for b in branches if _spinodal_gap(b.q, kappa) > 0.0] or branches
    return min(minima, key=lambda b: b.entropy)


def _spherical_saddle(alpha: float, kappa: float) -> StorageSaddle:
    _check_kappa(kappa, KAPPA_SADDLE_MIN, "the spherical saddle point")
    _below_capacity(alpha, kappa, _spherical_capacity(kappa), "spherical")
    branches = [_branch(q, alpha, kappa) for q in _roots(alpha, kappa)]
    best = _select(branches, kappa)
    return StorageSaddle(alpha, kappa, "spherical", best.q, best.entropy, best.replicon, best.replicon < 1.0,
                         branches=tuple(branches))


def _below_capacity(alpha: float, kappa: float, alpha_c: float, weights: str) -> None:
    if alpha >= alpha_c:
        raise ValueError(f"alpha={alpha!r} is at or above the {weights} RS capacity {alpha_c!r} at kappa={kappa!r}: "
                         "no RS solution with q < 1")


def _bracket(f, what: str, saturated: str) -> tuple[float, float]:
    """(lo, hi) in (0, 1) with f(lo) > 0 > f(hi); 1 - hi is searched down to MIN_ONE_MINUS_Q,
    below which ValueError(``saturated``) is raised."""
    lo = 0.5
    while f(lo) <= 0.0:
        lo *= 1e-2
        if lo < 1e-300:
            raise ConvergenceError(f"{what}: no q > 1e-300 with a positive residual")
    gap = 0.5
    while f(1.0 - gap) >= 0.0:
        gap *= 0.1
        if gap < MIN_ONE_MINUS_Q:
            raise ValueError(f"{what}: {saturated} (the overlap is within {MIN_ONE_MINUS_Q:g} of 1 and rounds to 1 "
                             "in float64)")
    return min(lo, 1.0 - gap), 1.0 - gap


def _entropy_gap(alpha: float, kappa: float, q1: float, q2: float) -> float:
    """S(small-q root) - S(large-q root) at alpha."""
    qa = _root_on(0.0, q1, alpha, kappa, False)
    qb = _root_on(q2, 1.0, alpha, kappa, True)
    return _branch(qa, alpha, kappa).entropy - _branch(qb, alpha, kappa).entropy


def _first_order(kappa: float, alpha_c: float) -> tuple[float | None, tuple | None]:
    """(alpha where the two minima of S have equal entropy, (alpha_lower, alpha_upper) spinodal values)."""
    sp_ = _spinodals(kappa)
    if sp_ is None:
        return None, None
    q1, q2 = sp_
    lower, upper = math.exp(_log_alpha_of_q(q2, kappa)), math.exp(_log_alpha_of_q(q1, kappa))
    top = min(upper, alpha_c) * (1.0 - 1e-9)
    lo = lower * (1.0 + 1e-9)
    a = _brent(lambda v: _entropy_gap(v, kappa, q1, q2), lo, top, f"first-order transition at kappa={kappa!r}")
    return a, (lower, upper)


def _replicon_of_q(q: float, kappa: float) -> float:
    return _replicon(q, math.exp(_log_alpha_of_q(q, kappa)), kappa)


def _at_crossing(lo: float, hi: float, kappa: float, alpha_c: float, hi_value: float | None = None) -> float | None:
    """alpha where the replicon crosses 1 along the branch q in (lo, hi) (alpha(q) increasing there).

    hi_value: the replicon's q -> 1 limit when hi = 1; a crossing closer to q = 1 than float64
    resolves (alpha_c - alpha_AT = O(kappa^2) for kappa -> 0-) is reported as alpha_c."""
    f = lambda v: _replicon_of_q(v, kappa) - 1.0
    flo = f(lo)
    fhi = f(hi) if hi_value is None else hi_value - 1.0
    if (flo > 0.0) == (fhi > 0.0):
        return None
    if hi_value is not None:  # the q -> 1 limit: move hi in until the sign is reached
        gap = 1.0 - max(lo, 0.5)
        while (f(1.0 - gap) > 0.0) != (fhi > 0.0):
            gap *= 0.1
            if gap < MIN_ONE_MINUS_Q:
                return alpha_c
        hi = 1.0 - gap
    q = _brent(f, lo, hi, f"spherical AT line at kappa={kappa!r}")
    return min(math.exp(_log_alpha_of_q(q, kappa)), alpha_c)


def _spherical_capacity_full(kappa: float) -> Capacity:
    alpha_c = _spherical_capacity(kappa)
    if kappa >= 0.0:
        return Capacity(kappa, "spherical", alpha_c)
    if kappa < KAPPA_SADDLE_MIN:
        return Capacity(kappa, "spherical", alpha_c,
                        note=f"RS branches, AT line and first-order transition computed for kappa >= "
                             f"{KAPPA_SADDLE_MIN:g} only")
    at_cap = float(gen.gardner_replicon_at_capacity(kappa))
    first, spin = _first_order(kappa, alpha_c)
    if first is None:
        at = _at_crossing(Q_EDGE, 1.0, kappa, alpha_c, at_cap)
        return Capacity(kappa, "spherical", alpha_c, alpha_at=at, alpha_unstable=at)
    q1, q2 = _spinodals(kappa)
    qa = _root_on(0.0, q1, first, kappa, False)
    qb = _root_on(q2, 1.0, first, kappa, True)
    at = _at_crossing(Q_EDGE, qa, kappa, alpha_c)
    if at is None:
        at = _at_crossing(qb, 1.0, kappa, alpha_c, at_cap)
    jump_unstable = _replicon(qb, first, kappa) > 1.0
    unstable = min([a for a in (at, first if jump_unstable else None) if a is not None], default=None)
    return Capacity(kappa, "spherical", alpha_c, alpha_at=at, alpha_first_order=first, alpha_spinodals=spin,
                    alpha_unstable=unstable)


# ---- Ising perceptron ---------------------------------------------------------------------------

def _ising_conjugate(q: float, alpha: float, kappa: float) -> float:
    """qhat = alpha <(1-q) M(x)^2>_t / (1-q)^2 (theory.storage 'ising_conjugate')."""
    return gen.ising_conjugate(q, alpha, _field_average(gen.gardner_saddle_integrand, q, kappa))


def _ising_residual(q: float, alpha: float, kappa: float) -> float:
    """(1 - q) - <sech^2(sqrt(qhat(q)) z)>_z (theory.storage 'ising_overlap')."""
    return gen.ising_overlap_residual(q, _spin_average(gen.ising_overlap_integrand, _ising_conjugate(q, alpha, kappa)))


def _ising_saddle(alpha: float, kappa: float) -> StorageSaddle:
    _check_kappa(kappa, KAPPA_SADDLE_MIN, "the Ising saddle point")
    _below_capacity(alpha, kappa, float(gen.ising_rs_capacity(kappa)), "Ising (q -> 1)")
    what = f"Ising saddle point at alpha={alpha!r}, kappa={kappa!r}"
    f = lambda q: _ising_residual(q, alpha, kappa)
    lo, hi = _bracket(f, what, "alpha is too close to the q -> 1 value alpha_rs")
    q = _brent(f, lo, hi, what)
    qhat = _ising_conjugate(q, alpha, kappa)
    entropy = gen.ising_entropy(q, qhat, alpha, _spin_average(gen.ising_spin_integrand, qhat),
                                _field_average(gen.gardner_energetic_integrand, q, kappa))
    replicon = gen.ising_replicon(q, alpha, _field_average(gen.gardner_replicon_integrand, q, kappa),
                                  _spin_average(gen.ising_spin_replicon_integrand, qhat))
    return StorageSaddle(alpha, kappa, "ising", q, entropy, replicon, replicon < 1.0, qhat)


def _ising_zero_entropy(kappa: float, alpha_rs: float) -> float:
    """Krauth-Mezard capacity: the alpha in (0, alpha_rs) where the RS entropy s(alpha) vanishes."""
    entropy = lambda a: _ising_saddle(a, kappa).entropy
    gap = 1e-2
    while entropy(alpha_rs * (1.0 - gap)) >= 0.0:
        gap *= 1e-2
        if gap < 1e-12:
            raise ConvergenceError(f"Ising capacity at kappa={kappa!r}: entropy stays positive up to alpha_rs")
    return _brent(entropy, alpha_rs * 1e-3, alpha_rs * (1.0 - gap), f"Ising capacity at kappa={kappa!r}")


def at_line(kappa: float, weights: str = "spherical") -> float | None:
    """alpha_AT(kappa): where the replicon ratio of the selected RS branch crosses 1 continuously.

    spherical (kappa < 0 only; for kappa >= 0 RS is stable up to alpha_c): the
    crossing along the lowest-entropy branch, or None where that branch's
    replicon does not cross 1 (for kappa < kappa_3 the selected root may jump
    onto a branch with replicon > 1 instead: Capacity.alpha_unstable).
    ising (any kappa): the ratio diverges as q -> 1, so the crossing lies below alpha_rs.
    """
    kappa = validate.real("kappa", kappa)
    weights = validate.choice("weights", weights, WEIGHTS)
    if weights == "spherical":
        if kappa >= 0.0:
            raise ValueError(f"kappa must be < 0 for a spherical AT crossing, got {kappa!r} "
                             "(kappa >= 0: RS is stable up to alpha_c)")
        _check_kappa(kappa, KAPPA_SADDLE_MIN, "the spherical AT line")
        return _spherical_capacity_full(kappa).alpha_at
    _check_kappa(kappa, KAPPA_SADDLE_MIN, "the Ising AT line")
    top = float(gen.ising_rs_capacity(kappa))
    excess = lambda a: _ising_saddle(a, kappa).replicon - 1.0
    gap = 1e-2
    while excess(top * (1.0 - gap)) <= 0.0:
        gap *= 1e-2
        if gap < 1e-12:
            return top
    return _brent(excess, top * 1e-3, top * (1.0 - gap), f"{weights} AT line at kappa={kappa!r}")


# ---- public API -----------------------------------------------------------------------------------

def capacity(kappa: float = 0.0, weights: str = "spherical") -> Capacity:
    """Storage capacity at stability kappa (see :class:`Capacity`)."""
    kappa = validate.real("kappa", kappa)
    weights = validate.choice("weights", weights, WEIGHTS)
    if weights == "spherical":
        return _spherical_capacity_full(kappa)
    _check_kappa(kappa, KAPPA_SADDLE_MIN, "the Ising capacity")
    alpha_rs = float(gen.ising_rs_capacity(kappa))
    return Capacity(kappa, weights, _ising_zero_entropy(kappa, alpha_rs), alpha_rs=alpha_rs,
                    alpha_at=at_line(kappa, weights))


def storage_saddle(alpha: float, kappa: float = 0.0, weights: str = "spherical") -> StorageSaddle:
    """The RS saddle point at load alpha = P/N and stability kappa (see :class:`StorageSaddle`)."""
    alpha = validate.real("alpha", alpha, low=0.0, open_low=True)
    kappa = validate.real("kappa", kappa)
    weights = validate.choice("weights", weights, WEIGHTS)
    return _spherical_saddle(alpha, kappa) if weights == "spherical" else _ising_saddle(alpha, kappa)


@dataclass(frozen=True)
class TeacherStudent:
    """Gibbs learning of a spherical teacher: overlap R and generalization error arccos(R)/pi."""

    alpha: float
    R: float
    error: float


def teacher_student(alpha: float) -> TeacherStudent:
    """RS solution of Gibbs learning at alpha = P/N."""
    alpha = validate.real("alpha", alpha, low=0.0, open_low=True)
    s, w = gaussian_rule(0.0, 1.0)

    def residual(r):  # alpha <sqrt(2/pi) M(sqrt(R) s)>_s - R/sqrt(1-R) (theory.storage 'ts_saddle')
        return -gen.teacher_saddle_residual(r, alpha, float(w @ gen.teacher_saddle_integrand(s, r)))

    what = f"teacher-student saddle point at alpha={alpha!r}"
    lo, hi = _bracket(residual, what, "alpha is too large")
    r = _brent(residual, lo, hi, what)
    return TeacherStudent(alpha, r, float(gen.teacher_error(r)))
