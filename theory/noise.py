"""Gaussian noise model of firing (talk, "From biology to physics").

A post-synaptic potential U ~ N(Ubar, delta^2) fires when U > b:

    P(s=1) = int_b^oo dU N(U; Ubar, delta^2) = 1/2 [1 + erf((Ubar - b)/(delta sqrt 2))]
           ~ sigma(beta (Ubar - b)),

with beta = sqrt(8/pi)/delta from matching the slopes at threshold, and the
minimax constant c* = argmin_c max_u |Phi(u) - sigma(c u)| (delta = 1) found
numerically (mpmath). The tanh identity tanh(beta x / 2) = 2 sigma(beta x) - 1
is derived; the slides print 1 - 2 sigma(beta x), which has the wrong sign.
"""

from __future__ import annotations

from functools import cache

import mpmath
import sympy as sp

from theory.activations import sigmoid
from theory.derivation import Derivation

U, Ubar, b, xs = sp.symbols("U Ubar b x", real=True)
delta = sp.Symbol("delta", positive=True)
beta = sp.Symbol("beta", positive=True)
c = sp.Symbol("c", positive=True)


def firing_probability() -> sp.Expr:
    """P(U > b) for U ~ N(Ubar, delta^2), by sympy integration."""
    density = sp.exp(-((U - Ubar) ** 2) / (2 * delta**2)) / sp.sqrt(2 * sp.pi * delta**2)
    p = sp.integrate(density, (U, b, sp.oo))
    return sp.simplify(p.rewrite(sp.erf))


def matched_beta() -> sp.Expr:
    """beta such that sigma(beta (Ubar - b)) has the slope of the erf law at threshold."""
    p = firing_probability()
    slope_erf = sp.diff(p, Ubar).subs(Ubar, b)
    slope_logistic = sp.diff(sigmoid(beta * (Ubar - b)), Ubar).subs(Ubar, b)
    return sp.solve(sp.Eq(slope_logistic, slope_erf), beta)[0]


def _max_gap(cv, dps):
    """max_u |Phi(u) - sigma(c u)| over u > 0 (the gap is odd in u): every local extremum refined."""
    phi = lambda u: (1 + mpmath.erf(u / mpmath.sqrt(2))) / 2
    gap = lambda u: phi(u) - 1 / (1 + mpmath.exp(-cv * u))
    with mpmath.workdps(dps):
        grid = [mpmath.mpf(k) / 20 for k in range(1, 160)]
        vals = [abs(gap(u)) for u in grid]
        peaks = [grid[k] for k in range(1, len(grid) - 1) if vals[k - 1] <= vals[k] >= vals[k + 1]]
        return max(abs(gap(mpmath.findroot(lambda u: mpmath.diff(gap, u), u0))) for u0 in peaks)


@cache
def minimax_constant(dps: int = 30) -> tuple[float, float]:
    """(c*, max error): the c minimizing max_u |Phi(u) - sigma(c u)|, golden-section search."""
    with mpmath.workdps(dps):
        lo, hi = mpmath.mpf("1.5"), mpmath.mpf("1.9")
        ratio = (mpmath.sqrt(5) - 1) / 2
        for _ in range(90):
            m1 = hi - ratio * (hi - lo)
            m2 = lo + ratio * (hi - lo)
            if _max_gap(m1, dps) < _max_gap(m2, dps):
                hi = m2
            else:
                lo = m1
        cstar = (lo + hi) / 2
        return float(cstar), float(_max_gap(cstar, dps))


def tanh_identity() -> tuple[sp.Expr, sp.Expr]:
    """(2 sigma(beta x) - 1 - tanh(beta x/2), slides' 1 - 2 sigma(beta x) - tanh(beta x/2)), simplified."""
    t = sp.tanh(beta * xs / 2)
    s = sigmoid(beta * xs)
    correct = sp.simplify((2 * s - 1 - t).rewrite(sp.exp))
    slides = sp.simplify((1 - 2 * s - t).rewrite(sp.exp))
    return correct, slides


def derivation() -> Derivation:
    d = Derivation("Noise model of firing: erf law, logistic approximation, tanh identity")
    p = d.add("firing_probability", "P(s=1) = int_b^oo dU N(U; Ubar, delta^2)", firing_probability())
    bstar = d.add("matched_beta", "beta from equal slopes of erf law and sigma(beta(Ubar-b)) at Ubar = b", matched_beta())
    d.add("logistic_approximation", "P(s=1) ~ sigma(beta (Ubar - b)) with the matched beta", sigmoid(bstar * (Ubar - b)))
    d.add("matched_beta_delta1", "matched beta for delta = 1", sp.nsimplify(bstar.subs(delta, 1)))
    cstar, err = minimax_constant()
    d.add("minimax_beta_delta1", "minimax c: min_c max_u |Phi(u) - sigma(c u)| (numerical)", sp.Float(cstar, 15))
    d.add("minimax_error", "the minimax error max_u |Phi(u) - sigma(c* u)|", sp.Float(err, 15))
    correct, slides = tanh_identity()
    d.add("tanh_identity", "2 sigma(beta x) - 1 - tanh(beta x / 2) simplifies to", correct)
    d.add("tanh_identity_slides", "the slides' 1 - 2 sigma(beta x) - tanh(beta x/2) does not vanish", slides)
    del p
    return d
