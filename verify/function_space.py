"""Check rows for the function space of deep networks (Li & Saad 2018), MAJ-k networks and signal propagation.

Oracles:
* mpmath quadrature: 1-D integrals at 30-40 digits (orthant probability, Gaussian averages) and nested
  tanh-sinh quadrature (mpmath.fp) of the raw bivariate integrals, with the activation taken from the
  sympy registry - independent of the numerics' adaptive Gauss-Kronrod, pairing and kernels;
* simulation: two coupled finite networks (numerics.simulate.networks), |difference| <= 4 standard errors;
* brute force: a forward grid search over the perturbations of the first L-1 layers for the maximum entropy;
  exact rational enumeration of the 4^k gate inputs for MAJ-k;
* closed forms derived by theory/ (arcsine, arc-cosine, erf kernels; small-error asymptotics; p_c; ReLU).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from functools import cache

import mpmath
import numpy as np
import sympy as sp
from hypothesis import strategies as st

from verify.registry import Check, with_budget
from verify.strategies import log_uniform

N_SIGMA = 4.0
SIM = dict(width=500, inputs=30, replicas=12)


# ----------------------------------------------------------------------------- quadrature oracles


def fp_pair_expectation(f, g, rho: float) -> float:
    """E[f(u) g(v)] for unit Gaussians with correlation rho: nested tanh-sinh (mpmath.fp), split at the kinks."""
    fp = mpmath.fp
    s = math.sqrt((1.0 - rho) * (1.0 + rho))
    c = 1.0 / math.sqrt(2.0 * math.pi)

    def inner(x):
        w0 = -rho * x / s
        pts = [-fp.inf] + sorted({0.0, w0}) + [fp.inf]
        return fp.quad(lambda w: g(rho * x + s * w) * math.exp(-w * w / 2) * c, pts)

    return fp.quad(lambda x: f(x) * math.exp(-x * x / 2) * c * inner(x), [-fp.inf, 0, fp.inf])


def fp_gauss_mean(f) -> float:
    fp = mpmath.fp
    return fp.quad(lambda z: f(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), [-fp.inf, 0, fp.inf])


_SIGMOID_MATH = {"sigmoid": lambda z: 0.5 * (1.0 + math.tanh(0.5 * z))}
_SIGMOID_MP = {"sigmoid": lambda z: 1 / (1 + mpmath.exp(-z))}


@cache
def _registry_function(name: str, module: str, derivative: bool = False):
    from theory import activations as ta

    expr = ta.REGISTRY[name]
    if derivative:
        expr = sp.diff(expr, ta.h)
    modules = [_SIGMOID_MATH, "math"] if module == "math" else [_SIGMOID_MP, "mpmath"]
    return sp.lambdify((ta.h, ta.beta), expr, modules=modules)


def _arcsine_step_error(ex):
    """error_step(r, x) vs 1 - E[sgn u sgn v] = 4 int_0^oo phi(t) Phi(-rho t / s) dt, rho = (1-x)(1-r), s^2 = 1 - rho^2."""
    from numerics._generated import function_space as gen

    r_prev, x = ex
    with mpmath.workdps(40):
        one_minus_rho = mpmath.mpf(x) + mpmath.mpf(r_prev) - mpmath.mpf(x) * mpmath.mpf(r_prev)
        rho = 1 - one_minus_rho
        s = mpmath.sqrt(one_minus_rho * (1 + rho))
        # t = s tau: the integrand lives on tau = O(1) however small s is
        ref = 4 * s * mpmath.quad(lambda tau: mpmath.npdf(s * tau) * mpmath.ncdf(-rho * tau), [0, 1, 10, mpmath.inf])
    return abs(gen.error_step(r_prev, x) / float(ref) - 1.0)


def _finite_beta_error(ex):
    from numerics.solvers.function_space import tanh_overlap

    rho, b = ex
    ref = fp_pair_expectation(lambda u: math.tanh(b * u), lambda v: math.tanh(b * v), rho)
    return abs(tanh_overlap(rho, b) / ref - 1.0)


def _arccos_error(rho):
    from numerics._generated import function_space as gen

    relu = lambda t: t if t > 0 else 0.0
    ref = 2.0 * fp_pair_expectation(relu, relu, rho)  # E[relu(u)^2] = 1/2
    return abs(gen.relu_overlap(rho) / ref - 1.0)


def _erf_error(ex):
    from theory import function_space as fs

    a, rho = ex
    closed = float(sp.lambdify((fs.a, fs.rho), fs.erf_kernel(), "mpmath")(mpmath.mpf(a), mpmath.mpf(rho)))
    ref = fp_pair_expectation(lambda u: math.erf(a * u), lambda v: math.erf(a * v), rho)
    return abs(closed / ref - 1.0)


def _activation_step_error(ex):
    from numerics.solvers.function_space import overlap_recursion

    name, beta, sigma, eta = ex
    phi = _registry_function(name, "math")
    f = lambda t: phi(sigma * t, beta)
    rho = math.sqrt((1.0 - eta) * (1.0 + eta))
    ref = fp_pair_expectation(f, f, rho) / fp_gauss_mean(lambda t: f(t) ** 2)
    return abs(overlap_recursion([eta], activation=name, beta=beta, sigma=sigma).q[0] / ref - 1.0)


def _relu_recursion_error(etas):
    from numerics._generated import function_space as gen
    from numerics.solvers.function_space import overlap_recursion

    q, ref = 1.0, []
    for e in etas:
        q = gen.relu_overlap(math.sqrt((1.0 - e) * (1.0 + e)) * q)
        ref.append(q)
    return float(np.max(np.abs(overlap_recursion(etas, activation="relu").q / np.array(ref) - 1.0)))


# ----------------------------------------------------------------------------- simulation oracles


def _simulation_error(case):
    """max_l |q_sim - q_theory| / (4 stderr): <= 1 passes."""
    from numerics.simulate.networks import simulate_overlap
    from numerics.solvers.function_space import overlap_recursion

    theory = overlap_recursion(**case).q
    measured = simulate_overlap(**case, **SIM, seed=20180612)
    return float(np.max(np.abs(measured.q - theory) / (N_SIGMA * measured.stderr)))


def _perturbation_lists(lo: float, hi: float):
    return st.lists(st.floats(lo, hi), min_size=1, max_size=3)


def _sign_cases():
    continuous = _perturbation_lists(0.3, 1.0).map(lambda v: dict(perturbations=v))
    binary = _perturbation_lists(0.1, 0.5).map(lambda v: dict(perturbations=v, weights="binary"))
    return st.one_of(continuous, binary)


def _beta_cases():
    return st.tuples(_perturbation_lists(0.3, 1.0), st.floats(0.5, 5.0)).map(lambda t: dict(perturbations=t[0], beta=t[1]))


def _activation_cases():
    return st.tuples(_perturbation_lists(0.3, 1.0), st.sampled_from(["esp", "sigmoid", "tanh", "relu"]), st.floats(0.5, 3.0)).map(
        lambda t: dict(perturbations=t[0], activation=t[1], beta=t[2])
    )


# ----------------------------------------------------------------------------- maximum entropy


def grid_max_entropy(eps: float, layers: int, weights: str, n: int) -> float:
    """Brute force: best entropy over a grid of the first L-1 perturbations (0, log- and linearly spaced);
    the last perturbation solves q_L = 1 - 2 eps exactly."""
    from numerics._generated import function_space as gen
    from numerics.solvers.function_space import entropy

    binary = weights == "binary"
    hi = 0.5 if binary else 1.0
    grid = np.unique(np.concatenate([[0.0], hi * np.geomspace(1e-8, 1.0, n // 2), np.linspace(0.0, hi, n // 2)]))
    y = gen.error_step_inverse(2.0 * eps)
    best = -math.inf
    for head in itertools.product(grid, repeat=layers - 1):
        r = 0.0
        for v in head:
            r = gen.error_step(r, gen.x_of_p(v) if binary else gen.x_of_eta(v))
        if r >= y:
            continue
        x_last = (y - r) / (1.0 - r)
        last = min(x_last / 2.0 if binary else math.sqrt(x_last * (2.0 - x_last)), hi)
        best = max(best, entropy(list(head) + [last], weights))
    return best


def brute_max_entropy(eps: float, layers: int, weights: str, n: int = 9, starts: int = 6) -> float:
    """Brute force in the perturbations themselves: a product grid over the first L-1 (0 and log-spaced;
    the last one solves q_L = 1 - 2 eps), then Nelder-Mead in log p of the nonzero ones from the best
    ``starts`` grid points. Forward recursion and entropies written out here in numpy."""
    from scipy import optimize

    binary = weights == "binary"
    hi = 0.5 if binary else 1.0
    levels = hi * np.geomspace(1e-9, 1.0, n)
    if binary:
        levels = np.concatenate([[0.0], levels])
    y = 2.0 * math.sin(math.pi * eps / 2.0) ** 2  # the x that alone gives r = 2 eps

    def entropies(heads):  # heads: (M, L-1) perturbations -> (M,) entropy, -inf where infeasible
        x = 2.0 * heads if binary else heads**2 / (1.0 + np.sqrt(1.0 - heads**2))
        r = np.zeros(heads.shape[0])
        for col in x.T:
            r = 4.0 / math.pi * np.arcsin(np.sqrt((col + (1.0 - col) * r) / 2.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            x_last = np.where(r < y, (y - r) / (1.0 - r), np.nan)
            pert = np.concatenate([heads, (x_last / 2.0 if binary else np.sqrt(x_last * (2.0 - x_last)))[:, None]], axis=1)
            if binary:
                h2 = -pert * np.log(pert) - (1.0 - pert) * np.log1p(-pert)
                s = np.mean(np.where(pert > 0.0, h2, 0.0), axis=1)
            else:
                s = np.mean(np.log(pert), axis=1)
        return np.where(np.isfinite(s) & (r < y), s, -np.inf)

    heads = np.array(list(itertools.product(levels, repeat=layers - 1))).reshape(-1, layers - 1)
    values = entropies(heads)
    best = float(values.max())
    for i in np.argsort(values)[::-1][:starts]:
        nonzero = heads[i] > 0.0
        if not nonzero.any():
            continue

        def objective(u, i=i, nonzero=nonzero):
            trial = heads[i].copy()
            trial[nonzero] = np.minimum(np.exp(u), hi)
            v = entropies(trial[None, :])[0]
            return -v if math.isfinite(v) else 1e300

        res = optimize.minimize(objective, np.log(heads[i][nonzero]), method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-14, "maxfev": 4000 * layers})
        best = max(best, -float(res.fun))
    return best


def _max_entropy_grid_error(ex):
    """(grid entropy - ours)_+ + |eps(ours)/eps - 1|: ours is never beaten and lies on the error surface."""
    from numerics.solvers.function_space import max_entropy_perturbation, overlap_recursion

    weights, layers, eps = ex
    res = max_entropy_perturbation(eps, layers, weights)
    grid = grid_max_entropy(eps, layers, weights, {2: 300, 3: 120, 4: 36}[layers])
    on_surface = abs(overlap_recursion(res.perturbation, weights).error / eps - 1.0)
    return max(grid - res.entropy, 0.0) + on_surface


def _small_error_error(ex):
    from numerics.solvers.function_space import max_entropy_perturbation
    from theory import function_space as fs

    layers, eps = ex
    asym = fs.small_error_asymptote(layers)
    expected = float(asym["K"]) * math.log(eps) + float(asym["C"])
    return abs(max_entropy_perturbation(eps, layers).entropy / expected - 1.0)


def _generalization_error(ex):
    """|eps*(alpha) / (K/(alpha + K)) - 1| (the first correction is O((K/alpha)^2) <= 1e-6 here)."""
    from numerics.solvers.function_space import generalization_curve
    from theory import function_space as fs

    layers, alpha = ex
    K = float(fs.small_error_asymptote(layers)["K"])
    eps = generalization_curve([alpha], layers, table_points=32).error[0]
    return abs(eps / (K / (alpha + K)) - 1.0)


# ----------------------------------------------------------------------------- MAJ-k


def _odd_k(lo: int, hi: int):
    return st.integers(lo, hi).map(lambda n: 2 * n + 1)


def _valid_moments():
    """(m^, m_eff, q_eff) as small rationals with all four pair probabilities >= 0."""
    frac = st.integers(-20, 20).map(lambda n: Fraction(n, 20))

    def valid(t):
        mh, me, qe = t
        return all(1 + a * mh + b * me + a * b * qe >= 0 for a in (1, -1) for b in (1, -1))

    return st.tuples(frac, frac, frac).filter(valid)


def enumerate_overlap(k: int, mh, me, qe) -> tuple[Fraction, Fraction]:
    """Eq. 14 by brute force over the 4^k configurations of k (reference, perturbed) input pairs, in exact
    rationals: the probabilities that the two majorities agree and disagree."""
    P = {(a, b): (1 + a * mh + b * me + a * b * qe) / 4 for a in (1, -1) for b in (1, -1)}
    agree = disagree = Fraction(0)
    for cfg in itertools.product(P, repeat=k):
        w = Fraction(1)
        for pair in cfg:
            w *= P[pair]
        if (sum(a for a, _ in cfg) > 0) == (sum(b for _, b in cfg) > 0):
            agree += w
        else:
            disagree += w
    return agree, disagree


def _majority_map_error(ex):
    from numerics.solvers.majority import overlap_split

    k, (mh, me, qe) = ex
    agree, disagree = enumerate_overlap(k, mh, me, qe)
    a, d = overlap_split(k, float(mh), float(me), float(qe))
    return max(abs(a - float(agree)), abs(d - float(disagree)))


def _p_c_error(k):
    from numerics.solvers.majority import critical_perturbation

    slope = Fraction(sum(math.comb(k, i) * abs(k - 2 * i) for i in range(k + 1)), 2**k)  # E|sum of k spins|
    exact = (1 - 1 / slope) / 2
    return abs(critical_perturbation(k) / float(exact) - 1.0)


def _stationary_k3_error(p):
    from numerics.solvers.majority import majority_stationary

    with mpmath.workdps(40):
        pm = mpmath.mpf(p)
        ref = mpmath.sqrt((1 - 6 * pm) / (1 - 2 * pm) ** 3)
    return abs(majority_stationary(3, p).m / float(ref) - 1.0)


def _stationary_recursion_error(ex):
    from numerics.solvers.majority import critical_perturbation, majority_recursion, majority_stationary

    k, frac = ex
    p = frac * critical_perturbation(k)
    tr = majority_recursion(k, p, 600, m0=0.5)
    st_ = majority_stationary(k, p)
    return max(abs(tr.m[-1] / st_.m - 1.0), abs(tr.q[-1] / st_.q - 1.0))


def _majority_simulation_error(ex):
    from numerics.simulate.networks import simulate_majority
    from numerics.solvers.majority import majority_recursion

    k, p, m0 = ex
    L, N, R = 5, 50_000, 12
    tr = majority_recursion(k, p, L, m0)
    sim = simulate_majority(k, p, L, m0, width=N, replicas=R, seed=20180612)
    worst = 0.0
    for value, err, ref in [(sim.m, sim.m_stderr, tr.m), (sim.q, sim.q_stderr, tr.q)]:
        floor = np.sqrt((1.0 - ref[1:] ** 2) / (N * R))  # binomial floor where every replica saturates
        scale = N_SIGMA * np.maximum(np.maximum(err[1:], floor), 1e-300)
        worst = max(worst, float(np.max(np.abs(value[1:] - ref[1:]) / scale)))
    return worst


# ----------------------------------------------------------------------------- propagation


def _propagation_maps_error(ex):
    from numerics.solvers.propagation import chi1, variance_map

    name, beta, q = ex
    phi = _registry_function(name, "mpmath")
    dphi = _registry_function(name, "mpmath", derivative=True)
    with mpmath.workdps(30):
        sq, b = mpmath.sqrt(q), mpmath.mpf(beta)
        pts = [-mpmath.inf, -1 / (b * sq), 0, 1 / (b * sq), mpmath.inf]
        e_phi = mpmath.quad(lambda z: phi(sq * z, b) ** 2 * mpmath.npdf(z), pts)
        e_dphi = mpmath.quad(lambda z: dphi(sq * z, b) ** 2 * mpmath.npdf(z), pts)
    sw, sb = 1.3, 0.2
    err_v = abs(variance_map(name, q, sw, sb, beta) / float(sw**2 * e_phi + sb**2) - 1.0)
    err_c = abs(chi1(name, q, sw, beta) / float(sw**2 * e_dphi) - 1.0)
    return max(err_v, err_c)


def _relu_critical_error(sigma_b):
    from numerics.solvers.propagation import critical_sigma_w
    from theory.propagation import relu_closed_forms

    return abs(critical_sigma_w("relu", sigma_b).sigma_w / float(relu_closed_forms()["critical_sigma_w"]) - 1.0)


def _tanh_critical_error(beta):
    from numerics.solvers.propagation import critical_sigma_w
    from theory.propagation import zero_state_critical_sigma_w

    exact = float(zero_state_critical_sigma_w("tanh").subs(sp.Symbol("beta", positive=True), beta))
    return abs(critical_sigma_w("tanh", 0.0, beta).sigma_w / exact - 1.0)


def _linear_limit_edge_error(ex):
    """Units linear in a limit: the edge is 1/|phi'(0)| (theory, sigma_b = 0 form: ESP 2, linear 1) and, with a
    bias, divergent with q* = inf (q* = sigma_b^2 / (1 - sigma_w^2 phi'(0)^2) diverges there); inf otherwise."""
    from numerics.solvers.propagation import critical_sigma_w
    from theory.propagation import zero_state_critical_sigma_w

    name, beta, sigma_b = ex
    exact = float(zero_state_critical_sigma_w(name).subs(sp.Symbol("beta", positive=True), 1))
    c = critical_sigma_w(name, sigma_b, beta if name == "esp" else None)
    if c.kind != "divergent" or c.q_star != math.inf:
        return math.inf
    return abs(c.sigma_w / exact - 1.0)


CHECKS = [
    Check(
        "overlap arcsine step vs mpmath quadrature",
        "orthant probability, 1-D mpmath quad at 40 digits",
        1e-13,
        lambda: st.tuples(st.one_of(st.just(0.0), log_uniform(-300, -1e-9, signed=False)), log_uniform(-300, 0, signed=False)),
        _arcsine_step_error,
        explicit=((0.0, 1e-300), (0.5, 0.5), (1e-20, 1e-30), (0.0, 1.0)),
        max_examples=12,
    ),
    Check(
        "overlap finite beta vs mpmath quadrature",
        "Eq. 6 by nested tanh-sinh (mpmath.fp)",
        1e-9,
        lambda: st.tuples(st.floats(0.01, 0.999), log_uniform(-1, 1.3, signed=False)),
        _finite_beta_error,
        explicit=((0.5, 3.0), (0.999, 3.0)),
        max_examples=5,
    ),
    Check(
        "overlap arc-cosine (ReLU) vs mpmath quadrature",
        "nested tanh-sinh (mpmath.fp)",
        1e-10,
        lambda: st.floats(-0.99, 0.999),
        _arccos_error,
        explicit=(0.0, 0.9),
        max_examples=6,
    ),
    Check(
        "overlap erf kernel vs mpmath quadrature",
        "nested tanh-sinh (mpmath.fp)",
        1e-10,
        lambda: st.tuples(
            log_uniform(-1, 0.7, signed=False), st.tuples(st.sampled_from((1.0, -1.0)), st.floats(0.05, 0.95)).map(lambda t: t[0] * t[1])
        ),
        _erf_error,
        max_examples=4,
    ),
    Check(
        "overlap activation units vs mpmath quadrature",
        "C/Q by nested tanh-sinh on the registry's sympy expression",
        1e-9,
        lambda: st.tuples(
            st.sampled_from(["esp", "sigmoid", "tanh"]), log_uniform(-0.7, 0.7, signed=False), st.floats(0.5, 2.0), st.floats(0.05, 1.0)
        ),
        _activation_step_error,
        explicit=(("esp", 1.0, 1.0, 0.5),),
        max_examples=4,
    ),
    Check(
        "overlap ReLU recursion (quadrature) vs arc-cosine closed form",
        "theory.function_space.relu_overlap",
        1e-9,
        lambda: _perturbation_lists(0.0, 1.0),
        _relu_recursion_error,
        max_examples=4,
    ),
    Check(
        "overlap sign units vs simulation", "coupled networks N=500, 12 x 30 inputs; 4 stderr", 1.0, _sign_cases, _simulation_error, max_examples=3
    ),
    Check(
        "overlap stochastic units vs simulation",
        "coupled networks N=500, 12 x 30 inputs; 4 stderr",
        1.0,
        _beta_cases,
        _simulation_error,
        max_examples=2,
    ),
    Check(
        "overlap activation units vs simulation",
        "coupled networks N=500, 12 x 30 inputs; 4 stderr",
        1.0,
        _activation_cases,
        _simulation_error,
        max_examples=2,
    ),
    Check(
        "max-entropy perturbation vs brute-force grid",
        "forward grid over the first L-1 layers",
        1e-10,
        lambda: st.tuples(st.sampled_from(["continuous", "binary"]), st.integers(2, 4), st.floats(0.01, 0.49)),
        _max_entropy_grid_error,
        explicit=(("binary", 4, 0.45), ("continuous", 4, 0.1)),
        max_examples=4,
    ),
    Check(
        "max-entropy small-error asymptote",
        "theory.function_space.small_error_asymptote: K log eps + C",
        1e-9,
        lambda: st.tuples(st.integers(1, 5), log_uniform(-300, -6, signed=False)),
        _small_error_error,
        explicit=((4, 1e-300), (4, 1e-6)),
        max_examples=8,
    ),
    Check(
        "generalization eps* vs K/(alpha + K)",
        "theory.function_space.generalization_asymptote",
        1e-5,
        lambda: st.tuples(st.integers(2, 4), log_uniform(3.5, 5, signed=False)),
        _generalization_error,
        explicit=((4, 10**3.5),),
        max_examples=2,
    ),
    Check(
        "majority overlap map vs enumeration",
        "exact rationals over 4^k inputs",
        1e-14,
        lambda: st.tuples(_odd_k(1, 3), _valid_moments()),
        _majority_map_error,
        max_examples=8,
    ),
    Check(
        "majority p_c vs exact counting",
        "1/2 (1 - 1/E|s_1+...+s_k|) in rationals",
        1e-15,
        lambda: _odd_k(1, 100),
        _p_c_error,
        explicit=(3, 5, 201),
        max_examples=20,
    ),
    Check(
        "majority k=3 stationary state vs closed form",
        "sqrt((1-6p)/(1-2p)^3) at 40 digits",
        1e-12,
        lambda: st.floats(0.0, 0.1666),
        _stationary_k3_error,
        explicit=(0.0, 1e-12, 0.1),
        max_examples=30,
    ),
    Check(
        "majority stationary state vs long recursion",
        "600 layers of Eqs. 13-14",
        1e-10,
        lambda: st.tuples(_odd_k(1, 7), st.floats(0.0, 0.9)),
        _stationary_recursion_error,
        max_examples=6,
    ),
    Check(
        "majority recursion vs simulation",
        "random MAJ-k networks N=50000, 12 replicas; 4 stderr",
        1.0,
        lambda: st.tuples(_odd_k(1, 2), st.floats(0.0, 0.3), st.floats(0.05, 0.9)),
        _majority_simulation_error,
        max_examples=2,
    ),
    Check(
        "propagation variance map and chi_1 vs mpmath",
        "1-D mpmath quad, 30 digits, registry expression",
        1e-10,
        lambda: st.tuples(st.sampled_from(["esp", "sigmoid", "tanh", "relu"]), log_uniform(-1, 1, signed=False), log_uniform(-2, 3, signed=False)),
        _propagation_maps_error,
        max_examples=8,
    ),
    Check(
        "propagation ReLU critical sigma_w",
        "theory: sqrt(2) for every sigma_b",
        1e-9,
        lambda: st.floats(0.0, 3.0),
        _relu_critical_error,
        explicit=(0.0,),
        max_examples=3,
    ),
    # continuous transition: chi_1 - 1 is O((sigma_w - sigma_c)^2) beyond it, which limits the bisection to ~1e-8
    Check(
        "propagation tanh critical sigma_w at sigma_b=0",
        "theory: 1/beta",
        1e-7,
        lambda: log_uniform(-0.7, 0.7, signed=False),
        _tanh_critical_error,
        max_examples=3,
    ),
    Check(
        "propagation divergent edge of units linear in a limit (ESP beta -> 0, linear)",
        "theory: 1/|phi'(0)|, q* = inf",
        1e-9,
        lambda: st.tuples(st.just("esp"), st.sampled_from([1e-300, 1e-100, 1e-30]), st.floats(0.1, 2.0)),
        _linear_limit_edge_error,
        explicit=(("esp", 1e-300, 0.5), ("linear", 1.0, 0.5)),
        max_examples=3,
    ),
]
CHECKS = with_budget(CHECKS, 3)
