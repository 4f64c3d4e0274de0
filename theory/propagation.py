"""Mean-field signal propagation through deep random networks (Poole et al. 2016; Schoenholz et al. 2017).

Fields h_l = W_l phi(h_{l-1}) + b_l with W ~ N(0, sigma_w^2/N), b ~ N(0, sigma_b^2): the
pre-activation variance follows the variance map
    q_l = sigma_w^2 E_z[phi(sqrt(q_{l-1}) z)^2] + sigma_b^2,
and a small difference between two inputs grows or shrinks per layer by
    chi_1 = sigma_w^2 E_z[phi'(sqrt(q*) z)^2]
at the fixed point q*: chi_1 = 1 separates order (chi_1 < 1) from chaos.

Derived here: the maps as Gaussian integrals for every registry activation;
the closed forms for ReLU (E[relu^2] = q/2, chi_1 = sigma_w^2/2, critical
sigma_w = sqrt(2)) and linear units; the zero fixed point of odd-at-zero
units (critical sigma_w = 1/|phi'(0)| at sigma_b = 0: 1/beta for tanh(beta h),
2 for ESP); the slope of the variance map, f'(q) = chi_1 + sigma_w^2 E[phi phi'']
(Gaussian integration by parts); the beta scaling phi(h, beta) = g(beta) phi(beta h, 1)
that makes the ESP phase diagram depend on beta only through beta sigma_b and
beta^2 q_0; and the beta -> oo limit of ESP, ReLU.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from theory.activations import REGISTRY
from theory.activations import beta as act_beta
from theory.activations import h as act_h
from theory.derivation import Derivation

q = sp.Symbol("q", positive=True)
sigma_w, sigma_b = sp.symbols("sigma_w sigma_b", nonnegative=True)
z = sp.Symbol("z", real=True)


def _gauss(expr: sp.Expr) -> sp.Expr:
    return sp.Integral(expr * sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi), (z, -sp.oo, sp.oo))


def _phi(name: str) -> sp.Expr:
    if name not in REGISTRY:
        raise ValueError(f"activation {name!r} is not known; known activations: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def _weighted(unit: sp.Expr) -> sp.Expr:
    """sigma_w^2 E[unit(sqrt(q) z)]: a field-level average carried through the weights to the next layer."""
    return sigma_w**2 * _gauss(unit.subs(act_h, sp.sqrt(q) * z))


def variance_map(name: str) -> sp.Expr:
    """q_l = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2 (unevaluated Gaussian integral)."""
    return _weighted(_phi(name) ** 2) + sigma_b**2


def chi1(name: str) -> sp.Expr:
    """chi_1 = sigma_w^2 E[phi'(sqrt(q) z)^2] (unevaluated)."""
    return _weighted(sp.diff(_phi(name), act_h) ** 2)


def variance_map_slope(name: str) -> sp.Expr:
    """d/dq of the variance map, by Gaussian integration by parts: chi_1 + sigma_w^2 E[phi phi'']."""
    phi = _phi(name)
    return chi1(name) + _weighted(phi * sp.diff(phi, act_h, 2))


def gaussian_derivative_identity() -> sp.Expr:
    """d/dq E[F(sqrt(q) z)] - E[F''(sqrt(q) z)]/2 for F = exp(a h) (a generating test function): zero."""
    a = sp.Symbol("a", real=True)
    F = sp.exp(a * act_h)
    lhs = sp.diff(sp.integrate(F.subs(act_h, sp.sqrt(q) * z) * sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi), (z, -sp.oo, sp.oo)), q)
    rhs = sp.integrate(sp.diff(F, act_h, 2).subs(act_h, sp.sqrt(q) * z) * sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi), (z, -sp.oo, sp.oo)) / 2
    return sp.simplify(lhs - rhs)


@cache
def relu_closed_forms() -> dict[str, sp.Expr]:
    """ReLU: variance map, chi_1, fixed point q* (sigma_w < sqrt 2) and critical sigma_w."""
    vmap = variance_map("relu").doit()
    c1 = chi1("relu").doit()
    q_star = sp.Symbol("q_star", positive=True)
    (fixed,) = sp.solve(sp.Eq(vmap.subs(q, q_star), q_star), q_star)
    (critical,) = sp.solve(sp.Eq(c1, 1), sigma_w)
    return {"variance_map": sp.simplify(vmap), "chi1": sp.simplify(c1), "q_star": sp.simplify(fixed), "critical_sigma_w": critical}


@cache
def linear_closed_forms() -> dict[str, sp.Expr]:
    """Linear units: variance map, chi_1, fixed point and critical sigma_w."""
    vmap = variance_map("linear").doit()
    c1 = chi1("linear").doit()
    q_star = sp.Symbol("q_star", positive=True)
    (fixed,) = sp.solve(sp.Eq(vmap.subs(q, q_star), q_star), q_star)
    (critical,) = sp.solve(sp.Eq(c1, 1), sigma_w)
    return {"variance_map": sp.simplify(vmap), "chi1": sp.simplify(c1), "q_star": sp.simplify(fixed), "critical_sigma_w": critical}


def zero_state_critical_sigma_w(name: str) -> sp.Expr:
    """At sigma_b = 0 and phi(0) = 0, q* = 0 is a fixed point with chi_1 = sigma_w^2 phi'(0)^2: sigma_w = 1/|phi'(0)|."""
    phi = _phi(name)
    if sp.simplify(phi.subs(act_h, 0)) != 0:
        raise ValueError(f"activation {name!r} has phi(0) != 0: q = 0 is not a fixed point")
    slope = sp.limit(sp.diff(phi, act_h), act_h, 0)
    b = sp.Symbol("beta", positive=True)
    return sp.simplify(1 / sp.Abs(slope.subs(act_beta, b)))


def beta_scaling(name: str) -> sp.Expr | None:
    """g(beta) with phi(h, beta) = g(beta) phi(beta h, 1) for all h, or None if there is none.

    ESP: g = 1/beta, so (sigma_w, sigma_b, q_0, beta) and (sigma_w, beta sigma_b, beta^2 q_0, 1) are the
    same network up to the field scale beta; tanh, sigmoid: g = 1 (then sigma_w scales too).
    """
    phi = _phi(name)
    b = sp.Symbol("beta", positive=True)
    ratio = sp.simplify(phi.subs(act_beta, b) / phi.subs(act_h, b * act_h).subs(act_beta, 1))
    if act_h in ratio.free_symbols:
        return None
    return ratio


def beta_to_infinity(name: str) -> tuple[sp.Expr, sp.Expr]:
    """(lim phi for h > 0, lim phi for h < 0) as beta -> oo."""
    phi = _phi(name)
    hp = sp.Symbol("h_pos", positive=True)
    return sp.limit(phi.subs(act_h, hp), act_beta, sp.oo), sp.limit(phi.subs(act_h, -hp), act_beta, sp.oo)


def derivation() -> Derivation:
    """Variance map, chi_1 and order-to-chaos closed forms."""
    d = Derivation("Mean-field signal propagation: variance map, chi_1, order-to-chaos line")
    for name in REGISTRY:
        d.add(f"variance_map.{name}", f"{name}: q_l = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2", variance_map(name))
        d.add(f"chi1.{name}", f"{name}: chi_1 = sigma_w^2 E[phi'(sqrt(q) z)^2]", chi1(name))
    d.add("ibp", "d/dq E[F(sqrt q z)] - E[F'']/2 for F = exp(a h)", gaussian_derivative_identity())
    d.add("slope.esp", "ESP: slope of the variance map (chi_1 + sigma_w^2 E[phi phi''])", variance_map_slope("esp"))
    for key, value in relu_closed_forms().items():
        d.add(f"relu.{key}", f"ReLU: {key}", value)
    for key, value in linear_closed_forms().items():
        d.add(f"linear.{key}", f"linear: {key}", value)
    for name in ("tanh", "esp"):
        d.add(f"zero_state.{name}", f"{name}: critical sigma_w on q* = 0 (sigma_b = 0)", zero_state_critical_sigma_w(name))
    for name in ("esp", "tanh", "sigmoid"):
        d.add(f"beta_scaling.{name}", f"{name}: g(beta) in phi(h, beta) = g(beta) phi(beta h, 1)", beta_scaling(name))
    d.add("esp.beta_to_infinity", "ESP as beta -> oo, (h > 0, h < 0): ReLU", sp.Tuple(*beta_to_infinity("esp")))
    return d
