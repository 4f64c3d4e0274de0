"""Sparse MAJ-k networks, reference and perturbed (Li & Saad 2018, Eqs. 13-14): numerics.

Public functions:

* :func:`majority_recursion` - m^_l, m_l, q_l and the internal error delta_l = (1 - q_l)/2 layer by
  layer (Figs. 2e, f);
* :func:`majority_stationary` - the L -> oo state reached from m^_0 = m_0 > 0 (Fig. 2d);
* :func:`critical_perturbation` - p_c(k) in closed form (1/6 for k = 3).

Eqs. 13-14 are evaluated as sums of nonnegative probabilities (majority up / down, copies agree /
disagree), so m, q and the small complements 1 - m, 1 - q keep their relative precision. The pair
probabilities, effective inputs, M_k'(0), p_c and the stationary state's two equations with their integrands are
generated from theory/majority.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from numba import njit
from scipy.optimize import brentq

from numerics._generated import function_space as gen
from numerics._numba import flush_stale_caches

MAX_K = 1001  # the stationary state's Gauss-Legendre rule has (k+1)/2 nodes (an O(k^2)-memory eigenproblem)
MAX_RECURSION_WORK = 2e9  # layers x ((k+1)^3/6 pair-type counts of Eq. 14 + ~1000 for the per-layer call)


def check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer, float)) or not math.isfinite(k):
        raise ValueError(f"k must be an odd integer in [3, {MAX_K}], got {k!r}")
    if int(k) != k or not 3 <= k <= MAX_K or k % 2 == 0:
        raise ValueError(f"k must be an odd integer in [3, {MAX_K}], got {k!r}")
    return int(k)


def check_p(p) -> float:
    v = float(p)
    if not (0.0 <= v <= 0.5):  # also refuses nan
        raise ValueError(f"perturbation p must lie in [0, 0.5], got {p!r}")
    return v


def check_unit(value, name: str) -> float:
    v = float(value)
    if not (-1.0 <= v <= 1.0):
        raise ValueError(f"{name} must lie in [-1, 1], got {value!r}")
    return v


@njit(cache=True)
def _log_term(log_coeff, counts, probs):
    """log of coeff * prod P_t^n_t, or -inf when a P_t = 0 is raised to n_t > 0."""
    out = log_coeff
    for c, pr in zip(counts, probs):
        if c > 0:
            if pr <= 0.0:
                return -np.inf
            out += c * math.log(pr)
    return out


@njit(cache=True)
def majority_split(k, m_eff):
    """(P(majority +1), P(majority -1)) of k independent inputs with mean m_eff (Eq. 13 by counts)."""
    plus = min(max(0.5 * (1.0 + m_eff), 0.0), 1.0)
    minus = min(max(0.5 * (1.0 - m_eff), 0.0), 1.0)
    up = 0.0
    down = 0.0
    lk = math.lgamma(k + 1.0)
    probs = (plus, minus)
    for j in range(k + 1):
        t = _log_term(lk - math.lgamma(j + 1.0) - math.lgamma(k - j + 1.0), (j, k - j), probs)
        if t == -np.inf:
            continue
        if 2 * j > k:
            up += math.exp(t)
        else:
            down += math.exp(t)
    total = up + down  # 1 up to rounding; normalizing keeps |m| <= 1 exactly
    return up / total, down / total


@njit(cache=True)
def overlap_split(k, m_hat, m_eff, q_eff):
    """(P(copies agree), P(copies disagree)) at the gate output (Eq. 14 by counts of pair types)."""
    pp, pm, mp, mm = gen.majority_pair_probabilities(m_hat, m_eff, q_eff)
    probs = (max(pp, 0.0), max(pm, 0.0), max(mp, 0.0), max(mm, 0.0))
    lk = math.lgamma(k + 1.0)
    agree = 0.0
    disagree = 0.0
    for n1 in range(k + 1):
        for n2 in range(k + 1 - n1):
            for n3 in range(k + 1 - n1 - n2):
                n4 = k - n1 - n2 - n3
                log_coeff = lk - math.lgamma(n1 + 1.0) - math.lgamma(n2 + 1.0) - math.lgamma(n3 + 1.0) - math.lgamma(n4 + 1.0)
                t = _log_term(log_coeff, (n1, n2, n3, n4), probs)
                if t == -np.inf:
                    continue
                hat_up = n1 + n2 > n3 + n4
                pert_up = n1 + n3 > n2 + n4
                if hat_up == pert_up:
                    agree += math.exp(t)
                else:
                    disagree += math.exp(t)
    total = agree + disagree
    return agree / total, disagree / total


# numba revalidates a cached function against its own file only; these inline the generated kernels
flush_stale_caches(__name__, (__file__, gen.__file__))


@dataclass(frozen=True)
class MajorityTrajectory:
    """Layers l = 0..L of a MAJ-k pair: reference m^_l, perturbed m_l, overlap q_l, delta_l = (1 - q_l)/2."""

    k: int
    p: float
    m_hat: np.ndarray
    m: np.ndarray
    q: np.ndarray
    error_per_layer: np.ndarray


def majority_recursion(k: int, p: float, layers: int, m0: float, q0: float = 1.0, m_hat0: float | None = None) -> MajorityTrajectory:
    """Eqs. 13-14 for L layers from m^_0 (default m_0), m_0 and q_0 (default 1, the same input).

    m^_l = M_k(m^_(l-1)), m_l = M_k((1-2p) m_(l-1)), q_l = Q_k(m^_(l-1), (1-2p) m_(l-1), (1-2p) q_(l-1)).
    """
    k, p = check_k(k), check_p(p)
    if isinstance(layers, bool) or not isinstance(layers, (int, np.integer)) or layers < 1:
        raise ValueError(f"layers must be an integer >= 1, got {layers!r}")
    work = float(layers) * ((k + 1) ** 3 / 6.0 + 1000.0)
    if work > MAX_RECURSION_WORK:
        raise ValueError(
            f"layers = {layers} at k = {k} needs {work:.2g} operations (layers x ((k+1)^3/6 + 1000)), more than "
            f"{MAX_RECURSION_WORK:.0e}; use fewer layers or a smaller k"
        )
    m0 = check_unit(m0, "m0")
    q0 = check_unit(q0, "q0")
    m_hat0 = m0 if m_hat0 is None else check_unit(m_hat0, "m_hat0")
    if min(gen.majority_pair_probabilities(m_hat0, m0, q0)) < -1e-15:
        raise ValueError(f"(m_hat0, m0, q0) = ({m_hat0}, {m0}, {q0}) is not the moment set of two +-1 spins")
    L = int(layers)
    m_hat, m, q, err = (np.empty(L + 1) for _ in range(4))
    m_hat[0], m[0], q[0], err[0] = m_hat0, m0, q0, (1.0 - q0) / 2.0
    for l in range(1, L + 1):
        m_eff, q_eff = gen.majority_effective_inputs(m[l - 1], q[l - 1], p)
        up, down = majority_split(k, m_hat[l - 1])
        m_hat[l] = up - down
        up, down = majority_split(k, m_eff)
        m[l] = up - down
        agree, disagree = overlap_split(k, m_hat[l - 1], m_eff, q_eff)
        q[l] = agree - disagree
        err[l] = disagree
    return MajorityTrajectory(k=k, p=p, m_hat=m_hat, m=m, q=q, error_per_layer=err)


def critical_perturbation(k: int) -> float:
    """p_c = (1 - 1/M_k'(0))/2 with M_k'(0) = (2n+1)!/(4^n n!^2), k = 2n + 1 (1/6 for k = 3)."""
    return float(gen.majority_critical_perturbation((check_k(k) - 1) // 2))


@dataclass(frozen=True)
class MajorityStationary:
    """L -> oo state from m^_0 = m_0 > 0, q_0 = 1: m^ = 1, q = m (ordered for p < p_c, else 0)."""

    k: int
    p: float
    m: float
    q: float
    error: float  # (1 - q)/2
    p_c: float


@cache
def _legendre_rule(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1], computed once per size (an eigenproblem of order nodes)."""
    t, w = np.polynomial.legendre.leggauss(nodes)
    t.flags.writeable = w.flags.writeable = False
    return t, w


def _gauss_legendre_mean(f, lo: float, hi: float, nodes: int) -> float:
    """(1/(hi - lo)) int_lo^hi f(t) dt by Gauss-Legendre (exact for polynomials of degree < 2 nodes)."""
    t, w = _legendre_rule(nodes)
    mid, half = 0.5 * (hi + lo), 0.5 * (hi - lo)
    return 0.5 * float(np.dot(w, f(mid + half * t)))


def majority_stationary(k: int, p: float) -> MajorityStationary:
    """Stationary magnetization and overlap of the perturbed MAJ-k network (Fig. 2d).

    The nonzero fixed point m = M_k(a m), a = 1 - 2p, solves one of theory.majority's two equations
    (generated): for small m (near p_c) <1 - (1 - t^2)^n>_[0, X] = 2 (p_c - p)/a in X = a m, for
    m near 1 M_k'(0) int_0^w (v (2 - v))^n dv = u in u = 1 - m, w = 2p + u - 2pu. Both integrands are
    generated without cancellation and integrated exactly by Gauss-Legendre with n + 1 nodes.
    """
    k, p = check_k(k), check_p(p)
    n = (k - 1) // 2
    slope = float(gen.majority_slope(n))
    p_c = critical_perturbation(k)
    if p >= p_c:
        return MajorityStationary(k=k, p=p, m=0.0, q=0.0, error=0.5, p_c=p_c)
    a = 1.0 - 2.0 * p
    nodes = n + 1

    def small_m(X):
        mean = _gauss_legendre_mean(lambda t: gen.majority_deficit_integrand(t, n), 0.0, X, nodes)
        return gen.majority_small_m_residual(mean, p, p_c)

    def complement(u):
        w = gen.majority_complement_limit(u, p)
        with np.errstate(divide="ignore"):  # a node that underflows to 0 (subnormal w): log 0 = -inf, exp(-inf) = 0 is right
            integral = w * _gauss_legendre_mean(lambda v: gen.majority_complement_integrand(v, n), 0.0, w, nodes) if w > 0.0 else 0.0
        return gen.majority_complement_residual(integral, u, slope)

    X_half = 0.5 * a
    if small_m(X_half) >= 0.0:  # root at m <= 1/2: small-m form
        X = brentq(small_m, 0.0, X_half, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
        m = X / a
        u = 1.0 - m
    else:  # m > 1/2: complement form
        u = brentq(complement, 0.0, 0.5, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500) if p > 0 else 0.0
        m = 1.0 - u
    return MajorityStationary(k=k, p=p, m=m, q=m, error=u / 2.0, p_c=p_c)
