"""Function space of deep networks: two coupled copies (Li & Saad, PRL 120, 248301 (2018)).

A reference network (weights w^) and a perturbed copy (weights w) read the same
input. At layer l their fields (h^, h) are jointly Gaussian with covariance
Sigma_l = sigma^2 [[1, c_l q_{l-1}], [c_l q_{l-1}, 1]] (Eqs. 7, 10), where
c_l = <w^ w> / sigma^2 is the weight correlation of the perturbation, and the
overlap of the two outputs is the bivariate Gaussian integral of Eq. 6.

Derived here (sympy): the weight correlations c = sqrt(1 - eta^2) (continuous)
and 1 - 2p (binary); Price's theorem d/drho E[f(u) g(v)] = E[f'(u) g'(v)] and
from it the arcsine law (Eqs. 8, 11), the arc-cosine kernel of ReLU and the erf
kernel; the overlap map in the error variable r = 1 - q (exact in float64 for
tiny perturbations); its inverse and the error-budget parametrization used by
the maximum-entropy solver; the entropies (Eqs. 9, 12); the small-error
asymptotics of the maximum entropy and of the annealed generalization curve.
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy import stats
from sympy.codegen.cfunctions import expm1

from theory.activations import REGISTRY
from theory.activations import beta as act_beta
from theory.activations import h as act_h
from theory.derivation import Derivation

WEIGHTS = ("continuous", "binary")

rho, t = sp.symbols("rho t", real=True)
u, v, z = sp.symbols("u v z", real=True)
q, c = sp.symbols("q c", real=True)
x, r, y, theta = sp.symbols("x r y theta", nonnegative=True)
eta, p = sp.symbols("eta p", nonnegative=True)
sigma, a, alpha, epsilon = sp.symbols("sigma a alpha epsilon", positive=True)
beta = sp.Symbol("beta", positive=True)
log_eps = sp.Symbol("log_epsilon", real=True)


def check_weights(weights: str) -> str:
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    return weights


@cache
def weight_statistics(weights: str) -> tuple[sp.Expr, sp.Expr]:
    """(c, Var(w)/Var(w^)): correlation of reference and perturbed weights, and the variance ratio.

    Continuous: w = sqrt(1-eta^2) w^ + eta dw with w^, dw ~ N(0, sigma^2) (Li & Saad, before Eq. 7).
    Binary: w^ = +-1, w = -w^ with probability p (before Eq. 10).
    """
    check_weights(weights)
    if weights == "continuous":
        w_hat = stats.Normal("w_hat", 0, sigma)
        dw = stats.Normal("dw", 0, sigma)
        w = sp.sqrt(1 - eta**2) * w_hat + eta * dw
        corr = stats.E(w_hat * w) / sigma**2
        ratio = stats.E(w**2) / sigma**2
    else:
        w_hat = stats.FiniteRV("w_hat", {1: sp.Rational(1, 2), -1: sp.Rational(1, 2)})
        flip = stats.FiniteRV("flip", {1: 1 - p, -1: p})
        w = flip * w_hat
        corr = stats.E(w_hat * w)
        ratio = stats.E(w**2) / stats.E(w_hat**2)
    return sp.simplify(corr), sp.simplify(ratio)


def field_covariance(weights: str) -> sp.Matrix:
    """Sigma_l of the field doublet (h^_l, h_l) given the previous overlap q (Eqs. 7, 10).

    Cov(h^, h) = (1/N) sum_j <w^_j w_j> <s^_j s_j> = sigma^2 c q; Var = sigma^2 (spins are +-1).
    """
    corr, ratio = weight_statistics(weights)
    scale = sigma**2 if weights == "continuous" else sp.Integer(1)
    return scale * sp.Matrix([[1, corr * q], [corr * q, ratio]])


def bivariate_density() -> sp.Expr:
    """Density of two unit-variance Gaussians with correlation rho."""
    s2 = 1 - rho**2
    return sp.exp(-(u**2 - 2 * rho * u * v + v**2) / (2 * s2)) / (2 * sp.pi * sp.sqrt(s2))


def price_identity() -> sp.Expr:
    """d p / d rho - d^2 p / du dv (identically zero): Price's theorem follows by parts."""
    dens = bivariate_density()
    return sp.simplify(sp.diff(dens, rho) - sp.diff(dens, u, v))


def _integrate_in_rho(derivative: sp.Expr, at_zero: sp.Expr) -> sp.Expr:
    """E(rho) = E(0) + int_0^rho E'(t) dt for E' given by Price's theorem."""
    return sp.simplify(at_zero + sp.integrate(derivative.subs(rho, t), (t, 0, rho)))


def _gauss(expr: sp.Expr, var: sp.Symbol = u) -> sp.Expr:
    """E[expr] over a standard Gaussian variable ``var``."""
    return sp.simplify(sp.integrate(expr * sp.exp(-(var**2) / 2) / sp.sqrt(2 * sp.pi), (var, -sp.oo, sp.oo)))


@cache
def sign_kernel() -> sp.Expr:
    """E[sgn(u) sgn(v)] = (2/pi) asin(rho): Price with sgn' = 2 delta gives 4 p(0, 0; rho); E(0) = 0."""
    return _integrate_in_rho(4 * bivariate_density().subs({u: 0, v: 0}), sp.Integer(0))


@cache
def heaviside_kernel() -> sp.Expr:
    """E[H(u) H(v)] = 1/4 + asin(rho)/(2 pi) (orthant probability): Price gives p(0, 0; rho)."""
    return _integrate_in_rho(bivariate_density().subs({u: 0, v: 0}), sp.Rational(1, 4))


@cache
def relu_kernel() -> sp.Expr:
    """E[relu(u) relu(v)] (arc-cosine kernel): Price with relu' = H; E(0) = E[relu(u)]^2."""
    mean = _gauss(sp.Piecewise((u, u > 0), (0, True)))
    return _integrate_in_rho(heaviside_kernel(), mean**2)


@cache
def relu_overlap() -> sp.Expr:
    """Normalized ReLU overlap E[relu(u) relu(v)] / E[relu(u)^2] (Cho & Saul arc-cosine, degree 1)."""
    self_overlap = _gauss(sp.Piecewise((u**2, u > 0), (0, True)))
    return sp.simplify(relu_kernel() / self_overlap)


@cache
def erf_kernel() -> sp.Expr:
    """E[erf(a u) erf(a v)] = (2/pi) asin(2 a^2 rho / (1 + 2 a^2)).

    Price: E[f'(u) f'(v)] = (4 a^2 / pi) E[exp(-a^2 (u^2 + v^2))] = (4 a^2/pi) det(1 + 2 a^2 Sigma)^(-1/2).
    """
    cov = sp.Matrix([[1, rho], [rho, 1]])
    det = sp.expand((sp.eye(2) + 2 * a**2 * cov).det())
    B, C = sp.symbols("B C", positive=True)  # det = B^2 - C^2 rho^2
    b_val, c_val = sp.sqrt(det.subs(rho, 0)), sp.sqrt(-sp.diff(det, rho, 2) / 2)
    if sp.expand(b_val**2 - c_val**2 * rho**2 - det) != 0:
        raise ArithmeticError("det(1 + 2 a^2 Sigma) is not of the form B^2 - C^2 rho^2")
    integral = sp.integrate(4 * a**2 / sp.pi / sp.sqrt(B**2 - C**2 * t**2), (t, 0, rho))
    return sp.simplify(integral.subs({B: sp.factor(b_val), C: c_val}))


@cache
def overlap_map(weights: str) -> sp.Expr:
    """q_l(q_{l-1}, perturbation) in the noiseless limit beta -> oo: (2/pi) asin(c q) (Eqs. 8, 11)."""
    corr, _ = weight_statistics(weights)
    return sign_kernel().subs(rho, corr * q)


@cache
def error_step() -> sp.Expr:
    """r_l(r_{l-1}, x) = 1 - q_l with r = 1 - q, x = 1 - c: (4/pi) asin(sqrt((x + (1-x) r) / 2)).

    From 1 - (2/pi) asin(1 - w) = (4/pi) asin(sqrt(w/2)) (:func:`half_angle_identity`), with
    w = 1 - c q = x + (1 - x) r. No cancellation for tiny x and r.
    """
    w = sp.expand(1 - (1 - x) * (1 - r))
    return 4 / sp.pi * sp.asin(sp.sqrt(sp.factor_terms(w) / 2))


def half_angle_identity() -> tuple[sp.Expr, sp.Expr]:
    """(d/dw of, value at w = 0 of) asin(1 - w) - pi/2 + 2 asin(sqrt(w/2)); both vanish on 0 <= w <= 2."""
    w = sp.Symbol("w", positive=True)
    diff = sp.asin(1 - w) - sp.pi / 2 + 2 * sp.asin(sp.sqrt(w / 2))
    return sp.simplify(sp.diff(diff, w)), diff.subs(w, 0)


@cache
def error_step_inverse() -> sp.Expr:
    """y = A^-1(r), where r = A(y) = (4/pi) asin(sqrt(y/2)) is the error step at r_{l-1} = 0."""
    (sol,) = sp.solve(sp.Eq(error_step().subs(r, 0).subs(x, y), sp.Symbol("r_out", positive=True)), y)
    return sol.subs(sp.Symbol("r_out", positive=True), r)


@cache
def budget_perturbation() -> sp.Expr:
    """x_l given y_l = A^-1(r_l) and r_{l-1} = theta y_l (theta in [0, 1]): solves x + (1-x) theta y = y."""
    (sol,) = sp.solve(sp.Eq(x + (1 - x) * theta * y, y), x)
    return sp.factor(sol)


@cache
def x_of_perturbation(weights: str) -> sp.Expr:
    """x = 1 - c in terms of the perturbation: eta^2 / (1 + sqrt(1 - eta^2)) (continuous), 2p (binary)."""
    corr, _ = weight_statistics(weights)
    # 1 - c = (1 - c^2) / (1 + c): for continuous weights 1 - c^2 = eta^2 exactly
    out = sp.expand(1 - corr**2) / (1 + corr)
    return out if weights == "continuous" else sp.cancel(out)


@cache
def perturbation_of_x(weights: str) -> sp.Expr:
    """Inverse of :func:`x_of_perturbation`: eta = sqrt(x (2 - x)), p = x / 2."""
    var = eta if check_weights(weights) == "continuous" else p
    sols = [s for s in sp.solve(sp.Eq(x_of_perturbation(weights), x), var) if s.subs(x, sp.Rational(1, 2)) >= 0]
    return sp.factor(sols[0])


@cache
def layer_entropy(weights: str) -> sp.Expr:
    """Entropy of one layer in terms of x: log eta (Eq. 9) or H2(p) (Eq. 12).

    S_con = (1/L) sum_l log eta_l; S_bin = (1/L) sum_l [-p_l log p_l - (1-p_l) log(1-p_l)].
    """
    pert = perturbation_of_x(weights)
    if weights == "continuous":
        return sp.expand_log(sp.log(pert), force=True)
    return -pert * sp.log(pert) - (1 - pert) * sp.log(1 - pert)


def finite_beta_integrand() -> sp.Expr:
    """Integrand of Eq. 6 at inverse temperature beta, fields of variance sigma^2 and correlation rho."""
    return sp.tanh(beta * sigma * u) * sp.tanh(beta * sigma * v) * bivariate_density()


def tanh_pair_identity() -> tuple[sp.Expr, sp.Expr]:
    """tanh(A + D) + tanh(A - D) and its form 2 sinh(2A) / (cosh(2A) + cosh(2D)).

    Pairing w with -w (and u with -u) turns Eq. 6 into an integral of positive terms for rho > 0,
    so small overlaps keep their relative accuracy.
    """
    A, D = sp.symbols("A D", real=True)
    return sp.tanh(A + D) + sp.tanh(A - D), 2 * sp.sinh(2 * A) / (sp.cosh(2 * A) + sp.cosh(2 * D))


def tanh_pair_scaled() -> sp.Expr:
    """tanh(A + D) + tanh(A - D) without overflow: with X = 2|A|, Y = 2|D|, M = max(X, Y),

    2 sinh(2A) / (cosh 2A + cosh 2D) = sgn(A) (-2 e^(X-M) expm1(-2X)) / (e^(X-M) + e^(-X-M) + e^(Y-M) + e^(-Y-M))

    (numerator and denominator of :func:`tanh_pair_identity` times 2 e^(-M): every exponent is <= 0;
    expm1 keeps small A accurate). Checked against the identity at points with M = X and M = Y.
    """
    A, D = sp.symbols("A D", real=True)
    X, Y = 2 * sp.Abs(A), 2 * sp.Abs(D)
    M = sp.Max(X, Y)
    num = -2 * sp.exp(X - M) * expm1(-2 * X)
    den = sp.exp(X - M) + sp.exp(-X - M) + sp.exp(Y - M) + sp.exp(-Y - M)
    scaled = sp.sign(A) * num / den
    lhs, _ = tanh_pair_identity()
    for a_val, d_val in ((sp.Rational(3, 2), sp.Rational(-1, 3)), (sp.Rational(-1, 5), sp.Rational(7, 4))):
        point = {sp.Symbol("A", real=True): a_val, sp.Symbol("D", real=True): d_val}
        if abs(sp.N((scaled - lhs).subs(point).rewrite(sp.exp), 30)) > 1e-25:
            raise ArithmeticError("scaled tanh pair differs from tanh(A + D) + tanh(A - D)")
    return scaled


def activation_maps(name: str) -> dict[str, sp.Expr]:
    """Overlap map of deterministic units a = phi(h, beta) (any registry activation), as Gaussian integrals.

    Q_l = E[phi(sigma sqrt(Q_{l-1}) z)^2] (self-overlap), C_l = E[phi(h^) phi(h)] with
    Var h^ = Var h = sigma^2 Q_{l-1}, Cov = sigma^2 c C_{l-1}; the overlap is q_l = C_l / Q_l.
    Inputs are +-1 spins: Q_0 = C_0 = 1. Returned with the standard-normal integration variables u, v
    (v correlated with u by rho = c C_{l-1} / Q_{l-1}).
    """
    phi = REGISTRY[name]
    Q_prev, C_prev = sp.symbols("Q_prev C_prev", positive=True)
    scale = sigma * sp.sqrt(Q_prev)
    self_overlap = sp.Integral(
        phi.subs(act_h, scale * u) ** 2 * sp.exp(-(u**2) / 2) / sp.sqrt(2 * sp.pi), (u, -sp.oo, sp.oo)
    )
    cross = sp.Integral(
        phi.subs(act_h, scale * u) * phi.subs(act_h, scale * v) * bivariate_density(),
        (u, -sp.oo, sp.oo),
        (v, -sp.oo, sp.oo),
    )
    return {"Q": self_overlap, "C": cross, "rho": c * C_prev / Q_prev, "q": sp.Symbol("C") / sp.Symbol("Q")}


@cache
def activation_scaling(name: str) -> tuple[int, int]:
    """(k, m) with phi(s h, beta) = s^k phi(h, s beta) for every s > 0, and phi(h, b) ~ b^m as b -> 0.

    The overlap map then depends on the field scale s = sigma sqrt(Q_(l-1)) only through b = beta s:
    Q_l = s^(2k) Q~(b), C_l = s^(2k) C~(b), q_l = C~(b) / Q~(b) with Q~, C~ the integrals of
    :func:`activation_maps` at unit scale. Carrying log s and log b keeps q_l finite for any
    sigma and depth; Q~(b) ~ b^(2m) below float64 range and tends to a constant as b -> oo.
    Checked on both half-lines h = +w, h = -w (w > 0) so that piecewise units resolve.
    """
    phi = REGISTRY[name]
    s, w = sp.symbols("s w", positive=True)
    degrees = []
    for k in (0, 1):
        diff = phi.subs(act_h, s * act_h) - s**k * phi.subs(act_beta, s * act_beta)
        if all(sp.simplify(diff.subs(act_h, sgn * w).rewrite(sp.exp)) == 0 for sgn in (1, -1)):
            degrees.append(k)
    if len(degrees) != 1:
        raise ArithmeticError(f"activation {name!r} is not homogeneous of degree 0 or 1 in (h, 1/beta)")
    m = 0 if sp.limit(phi, act_beta, 0) != 0 else 1
    if m == 1 and sp.limit(phi / act_beta, act_beta, 0) == 0:
        raise ArithmeticError(f"activation {name!r} vanishes faster than beta as beta -> 0")
    return degrees[0], m


@cache
def small_error_asymptote(layers: int) -> dict[str, sp.Expr]:
    """Continuous weights, epsilon -> 0: S_con(epsilon) = K log(epsilon) + C + o(1).

    Leading order of the chain (A^-1(r) ~ pi^2 r^2 / 8, eta^2 ~ 2x) in the budget fractions
    theta_j = r_j / y_{j+1}: log x_l is linear in log(epsilon), log theta_j and log(1 - theta_j),
    so the maximum over each theta_j is separate. Returns K = (2^L - 1)/L, theta_j* and C.
    """
    L = int(layers)
    lead = sp.series(error_step_inverse(), r, 0, 3).removeO()  # pi^2 r^2 / 8
    coef = sp.simplify(lead / r**2)
    thetas = sp.symbols(f"theta1:{L}", positive=True)
    log_y = {L: sp.log(coef) + 2 * (sp.log(2) + log_eps)}  # r_L = 2 epsilon
    for l in range(L, 1, -1):
        log_y[l - 1] = sp.log(coef) + 2 * (sp.log(thetas[l - 2]) + log_y[l])
    log_x = {1: log_y[1]}
    for l in range(2, L + 1):
        log_x[l] = sp.log(1 - thetas[l - 2]) + log_y[l]
    # eta^2 = x (2 - x) ~ 2 x
    entropy = sp.expand(sum((sp.log(2) + log_x[l]) / 2 for l in range(1, L + 1)) / L)
    K = sp.simplify(entropy.coeff(log_eps))
    rest = sp.expand(entropy - K * log_eps)
    best = {}
    for th in thetas:
        (sol,) = sp.solve(sp.diff(rest, th), th)
        best[th] = sol
    C = sp.simplify(sp.expand_log(rest.subs(best), force=True))
    return {"K": K, "C": C, "thetas": tuple(best[th] for th in thetas)}


def entropy_growth_exponent() -> sp.Expr:
    """K(L) = (1/L) sum_{l=1}^{L} 2^(L-l) = (2^L - 1)/L, the coefficient of log(epsilon) in S_con."""
    L, l = sp.symbols("L l", positive=True, integer=True)
    return sp.simplify(sp.summation(2 ** (L - l), (l, 1, L)) / L)


def annealed_objective() -> sp.Expr:
    """S(eps) + alpha log(1 - eps): P = alpha L N^2 examples of the reference reshape the weight volume at
    error eps to Omega_0(eps) (1 - eps)^P (annealed approximation, Li & Saad); eps* maximizes it."""
    return sp.Symbol("S", real=True) + alpha * sp.log(1 - epsilon)


def generalization_asymptote() -> tuple[sp.Expr, sp.Expr]:
    """Annealed generalization with S ~ K log(eps) + C: (eps*(alpha), its large-alpha series).

    eps* = argmax_eps [S(eps) + alpha log(1 - eps)] solves K/eps = alpha/(1 - eps): eps* = K/(alpha + K),
    so eps* ~ K/alpha (Li & Saad, Fig. 2c inset).
    """
    K = sp.Symbol("K", positive=True)
    objective = annealed_objective().subs(sp.Symbol("S", real=True), K * sp.log(epsilon))
    (sol,) = sp.solve(sp.diff(objective, epsilon), epsilon)
    return sol, sp.series(sol, alpha, sp.oo, 3).removeO()


def binary_small_error_entropy() -> sp.Expr:
    """Binary weights, epsilon -> 0: only the last layer is perturbed, p_L = A^-1(2 eps) / 2, S_bin = H2(p_L)/L."""
    L = sp.Symbol("L", positive=True, integer=True)
    p_last = sp.simplify(error_step_inverse().subs(r, 2 * epsilon) / 2)
    return layer_entropy("binary").subs(x, 2 * p_last) / L


def derivation() -> Derivation:
    """Overlap maps, entropies and small-error asymptotics of two coupled networks (Li & Saad 2018)."""
    d = Derivation("Function space of deep networks: overlap maps and entropies (Li & Saad 2018)")
    for weights in WEIGHTS:
        corr, ratio = weight_statistics(weights)
        d.add(f"c.{weights}", f"{weights} weights: correlation c = <w^ w>/<w^2>", corr)
        d.add(f"variance_ratio.{weights}", f"{weights} weights: Var(w)/Var(w^) (perturbation keeps the variance)", ratio)
        d.add(f"Sigma.{weights}", f"{weights} weights: covariance of (h^, h) given q_(l-1) (Eqs. 7, 10)", field_covariance(weights))
    d.add("density", "bivariate Gaussian density p(u, v; rho)", bivariate_density())
    d.add("price", "dp/drho - d2p/du dv = 0 (Price's theorem: dE[f g]/drho = E[f' g'])", price_identity())
    d.add("sign_kernel", "E[sgn u sgn v] = int_0^rho 4 p(0,0;t) dt (arcsine law)", sign_kernel())
    for weights in WEIGHTS:
        d.add(f"overlap_map.{weights}", f"q_l, beta -> oo, {weights} weights (Eqs. 8, 11)", overlap_map(weights))
        d.add(f"x.{weights}", f"x = 1 - c, {weights} weights (cancellation-free)", x_of_perturbation(weights))
        d.add(f"perturbation.{weights}", f"perturbation in terms of x, {weights} weights", perturbation_of_x(weights))
        d.add(f"layer_entropy.{weights}", f"entropy of one layer, {weights} weights (Eqs. 9, 12)", layer_entropy(weights))
    dd, d0 = half_angle_identity()
    d.add("half_angle.derivative", "d/dw [asin(1-w) - pi/2 + 2 asin(sqrt(w/2))] on 0 < w < 2", dd)
    d.add("half_angle.at_zero", "... and its value at w = 0", d0)
    d.add("error_step", "r_l = 1 - q_l in terms of r_(l-1) and x_l", error_step())
    d.add("error_step_inverse", "y = A^-1(r), the error step at r_(l-1) = 0 inverted", error_step_inverse())
    d.add("budget", "x_l for r_(l-1) = theta y_l", budget_perturbation())
    d.add("finite_beta", "Eq. 6 integrand at finite beta", finite_beta_integrand())
    lhs, rhs = tanh_pair_identity()
    d.add("tanh_pair", "tanh(A+D) + tanh(A-D) - 2 sinh 2A/(cosh 2A + cosh 2D)", sp.simplify((lhs - rhs).rewrite(sp.exp)))
    d.add("tanh_pair_scaled", "tanh(A+D) + tanh(A-D) without overflow (X = 2|A|, Y = 2|D|, M = max(X, Y))", tanh_pair_scaled())
    d.add("heaviside_kernel", "E[H(u) H(v)] (orthant probability)", heaviside_kernel())
    d.add("relu_kernel", "E[relu(u) relu(v)] by Price from E[H H]", relu_kernel())
    d.add("relu_overlap", "normalized ReLU overlap (arc-cosine kernel)", relu_overlap())
    d.add("erf_kernel", "E[erf(a u) erf(a v)]", erf_kernel())
    for name in REGISTRY:
        k, m = activation_scaling(name)
        d.add(f"scaling.{name}", f"{name}: (k, m), phi(s h, beta) = s^k phi(h, s beta), phi ~ beta^m as beta -> 0", sp.Tuple(k, m))
    d.add("K", "S_con ~ K log(epsilon): K(L) = (1/L) sum 2^(L-l)", entropy_growth_exponent())
    for L in (1, 2, 3, 4):
        asym = small_error_asymptote(L)
        d.add(f"small_error.L{L}.thetas", f"L = {L}: optimal budget fractions theta_j = r_j / y_(j+1)", sp.Tuple(*asym["thetas"]))
        d.add(f"small_error.L{L}.C", f"L = {L}: S_con - K log(epsilon) -> C", asym["C"])
    d.add("annealed_objective", "S(eps) + alpha log(1 - eps), maximized by the annealed error eps*", annealed_objective())
    eps_star, series = generalization_asymptote()
    d.add("generalization.eps_star", "argmax_eps [K log eps + alpha log(1-eps)]", eps_star)
    d.add("generalization.series", "large-alpha series of eps*", series)
    d.add("binary_small_error", "binary weights, eps -> 0: S_bin (last layer only)", binary_small_error_entropy())
    return d
