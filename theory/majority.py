"""Sparse majority-gate (MAJ-k) networks: reference and perturbed copies (Li & Saad 2018, Eqs. 13-14).

Every unit reads k random units of the previous layer through weights w^ = 1
(reference) or w = -1 with probability p (perturbed) and outputs the sign of
the sum: in the noiseless limit a k-majority gate. On the tree-like random
graph (N -> oo) the inputs of a gate are independent, so the magnetizations
m^_l, m_l and the overlap q_l obey closed polynomial maps of degree k.

Derived here (sympy): the effective input moments (1-2p) m and (1-2p) q, the
pair distribution P(s^, s) = (1 + s^ m^ + s m + s^ s q)/4, the maps of Eqs. 13
and 14 for any given odd k (grouped by counts, checked against the literal
sum over configurations), the integral form
M_k(x) = M_k'(0) int_0^x (1 - t^2)^n dt (k = 2n + 1), the slope M_k'(0) and the
critical perturbation p_c = (1 - 1/M_k'(0))/2 in closed form for every odd k
(p_c = 1/6 for k = 3), and the ordered states m = +-sqrt((1-6p)/(1-2p)^3) of
MAJ-3 with q = m on the reference's stationary state m^ = 1.

The nonzero stationary state m = M_k((1-2p) m) is written as two equations whose
integrals stay unevaluated (the solver chooses the quadrature): for small m, in
X = (1-2p) m, the mean of 1 - (1 - t^2)^n over [0, X] equals 2 (p_c - p)/(1 - 2p)
(= 1 - 1/((1-2p) M_k'(0)), without cancellation near p_c); for m near 1, in
u = 1 - m, M_k'(0) int_0^w (v (2 - v))^n dv = u with w = 2p + u - 2pu (t = 1 - v
turns 1 - M_k(x) into M_k'(0) int_0^(1-x) (v (2 - v))^n dv).
"""

from __future__ import annotations

import itertools
from functools import cache

import sympy as sp
from sympy import stats
from sympy.concrete.gosper import gosper_sum

from theory.derivation import Derivation

m, m_hat, q, p = sp.symbols("m m_hat q p", real=True)
m_eff, q_eff, x, t = sp.symbols("m_eff q_eff x t", real=True)
n = sp.Symbol("n", integer=True, nonnegative=True)
X = sp.Symbol("X", positive=True)  # (1-2p) m, the effective input of the small-m equation
u, v = sp.symbols("u v", nonnegative=True)  # u = 1 - m; v = 1 - t, the integration variable of the complement
slope, p_c = sp.symbols("slope p_c", positive=True)  # M_k'(0) and p_c as numbers the solver holds
s_hat, s = sp.symbols("s_hat s", integer=True)


def check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int,)) or k < 3 or k % 2 == 0:
        raise ValueError(f"k must be an odd integer >= 3, got {k!r}")
    return int(k)


@cache
def effective_inputs() -> tuple[sp.Expr, sp.Expr]:
    """(<w s>, <s^ w s>) for an input spin s (mean m, overlap q with s^) through a weight flipped with prob. p."""
    flip = stats.FiniteRV("flip", {1: 1 - p, -1: p})
    return sp.expand(stats.E(flip) * m), sp.expand(stats.E(flip) * q)


def pair_probability() -> sp.Expr:
    """P(s^, s) = (1 + s^ m^ + s m + s^ s q)/4: the distribution of two +-1 spins with these moments."""
    return (1 + s_hat * m_hat + s * m_eff + s_hat * s * q_eff) / 4


def pair_probability_moments() -> tuple[sp.Expr, ...]:
    """(total, <s^>, <s>, <s^ s>) of :func:`pair_probability`: 1, m^, m, q."""
    P = pair_probability()
    pairs = list(itertools.product((1, -1), repeat=2))
    return tuple(
        sp.simplify(sum(P.subs({s_hat: a, s: b}) * f(a, b) for a, b in pairs))
        for f in (lambda a, b: 1, lambda a, b: a, lambda a, b: b, lambda a, b: a * b)
    )


@cache
def magnetization_map_literal(k: int) -> sp.Expr:
    """Eq. 13 as written: sum over the 2^k input configurations, in the effective magnetization m_eff."""
    check_k(k)
    total = 0
    for cfg in itertools.product((1, -1), repeat=k):
        total += sp.Mul(*[(1 + sj * m_eff) / 2 for sj in cfg]) * sp.sign(sum(cfg))
    return sp.expand(total)


@cache
def magnetization_map(k: int) -> sp.Expr:
    """M_k(m_eff): Eq. 13 grouped by the number j of +1 inputs (binomial)."""
    check_k(k)
    plus, minus = (1 + m_eff) / 2, (1 - m_eff) / 2
    return sp.expand(sum(sp.binomial(k, j) * plus**j * minus ** (k - j) * sp.sign(2 * j - k) for j in range(k + 1)))


@cache
def overlap_map_literal(k: int) -> sp.Expr:
    """Eq. 14 as written: sum over the 4^k configurations of (s^_j, s_j)."""
    check_k(k)
    P = pair_probability()
    total = 0
    for cfg in itertools.product(itertools.product((1, -1), repeat=2), repeat=k):
        weight = sp.Mul(*[P.subs({s_hat: a, s: b}) for a, b in cfg])
        total += weight * sp.sign(sum(a for a, _ in cfg)) * sp.sign(sum(b for _, b in cfg))
    return sp.expand(total)


PAIR_TYPES = ((1, 1), (1, -1), (-1, 1), (-1, -1))


@cache
def overlap_map(k: int) -> sp.Expr:
    """Q_k(m^, m_eff, q_eff): Eq. 14 grouped by the counts (n_++, n_+-, n_-+, n_--) (multinomial)."""
    check_k(k)
    P = [pair_probability().subs({s_hat: a, s: b}) for a, b in PAIR_TYPES]
    total = 0
    for counts in _compositions(k, 4):
        sum_hat = sum(c * a for c, (a, _) in zip(counts, PAIR_TYPES))
        sum_pert = sum(c * b for c, (_, b) in zip(counts, PAIR_TYPES))
        coeff = sp.factorial(k) / sp.Mul(*[sp.factorial(c) for c in counts])
        total += coeff * sp.Mul(*[Pt**c for Pt, c in zip(P, counts)]) * sp.sign(sum_hat) * sp.sign(sum_pert)
    return sp.expand(total)


def _compositions(total: int, parts: int):
    """All tuples of ``parts`` nonnegative integers summing to ``total``."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _compositions(total - first, parts - 1):
            yield (first,) + rest


@cache
def slope_at_zero() -> sp.Expr:
    """M_k'(0) = E|s_1 + ... + s_k| for k = 2n + 1 uniform +-1 spins: (2n+1)! / (4^n n!^2).

    d/dm_eff of Eq. 13 at 0 is 2^-k sum_s (sum_j s_j) sgn(sum_j s_j); grouping by the number i of -1
    spins, 2^(1-k) sum_{i=0}^{n} C(k, i)(k - 2i), a Gosper-summable sum.
    """
    i = sp.Symbol("i", integer=True, nonnegative=True)
    k = 2 * n + 1
    total = gosper_sum(sp.binomial(k, i) * (k - 2 * i), (i, 0, n))
    return sp.simplify(sp.combsimp(2 ** (1 - k) * total))


@cache
def critical_perturbation() -> sp.Expr:
    """p_c(n) for k = 2n + 1: the zero state m = 0 of m -> M_k((1-2p) m) loses stability, (1-2p) M_k'(0) = 1."""
    (sol,) = sp.solve(sp.Eq((1 - 2 * p) * slope_at_zero(), 1), p)
    half = sp.Rational(1, 2)
    return half + sp.combsimp(sp.expand(sol - half))


def integral_form(k: int) -> sp.Expr:
    """M_k'(0) int_0^x (1 - t^2)^n dt, k = 2n + 1 (equal to M_k(x), :func:`integral_form_residual`)."""
    nk = (check_k(k) - 1) // 2
    return slope_at_zero().subs(n, nk) * sp.integrate((1 - t**2) ** nk, (t, 0, x))


def integral_form_residual(k: int) -> sp.Expr:
    """M_k(x) - integral_form(k): zero for every odd k (checked per k)."""
    return sp.expand(magnetization_map(k).subs(m_eff, x) - integral_form(k))


def deficit_integrand() -> sp.Expr:
    """1 - (1 - t^2)^n: its mean over [0, x] is 1 - M_k(x)/(M_k'(0) x) (:func:`deficit_form_residual`)."""
    return 1 - (1 - t**2) ** n


def deficit_mean() -> sp.Expr:
    """(1/X) int_0^X (1 - (1 - t^2)^n) dt, the integral left for the solver's quadrature."""
    return sp.Integral(deficit_integrand(), (t, 0, X)) / X


def deficit_form_residual(k: int) -> sp.Expr:
    """deficit_mean - (1 - M_k(X)/(M_k'(0) X)): zero for every odd k (checked per k)."""
    nk = (check_k(k) - 1) // 2
    mean = deficit_mean().subs(n, nk).doit()
    return sp.simplify(mean - (1 - magnetization_map(k).subs(m_eff, X) / (slope_at_zero().subs(n, nk) * X)))


def stationary_gap() -> sp.Expr:
    """1 - 1/((1-2p) M_k'(0)) = 2 (p_c - p)/(1 - 2p): zero at p_c, no cancellation near it (:func:`stationary_gap_residual`)."""
    return 2 * (p_c - p) / (1 - 2 * p)


def stationary_gap_residual() -> sp.Expr:
    """1 - 1/((1-2p) M_k'(0)) - stationary_gap() with the closed-form p_c(n): zero for every n."""
    return sp.simplify(1 - 1 / ((1 - 2 * p) * slope_at_zero()) - stationary_gap().subs(p_c, critical_perturbation()))


def small_m_equation() -> sp.Eq:
    """m = M_k(X), X = (1-2p) m, m != 0, divided by M_k'(0) X: <1 - (1 - t^2)^n>_[0, X] = 2 (p_c - p)/(1 - 2p)."""
    return sp.Eq(deficit_mean(), stationary_gap())


def small_m_equation_residual(k: int) -> sp.Expr:
    """(lhs - rhs of :func:`small_m_equation`) (1-2p) m M_k'(0) - (m - M_k((1-2p) m)) at X = (1-2p) m: zero."""
    nk = (check_k(k) - 1) // 2
    eq, m_in = small_m_equation(), effective_inputs()[0]
    values = {n: nk, p_c: critical_perturbation().subs(n, nk), X: m_in}
    lhs, rhs = (side.subs(values).doit() for side in (eq.lhs, eq.rhs))
    return sp.simplify((lhs - rhs) * m_in * slope_at_zero().subs(n, nk) - (m - magnetization_map(k).subs(m_eff, m_in)))


def complement_substitution() -> sp.Integral:
    """int_x^1 (1 - t^2)^n dt with t = 1 - v: int_0^(1-x) (v (2 - v))^n dv (limits put in order)."""
    moved = sp.Integral((1 - t**2) ** n, (t, x, 1)).transform(t, 1 - v)
    ((var, hi, lo),) = moved.limits
    flipped = sp.Integral(-moved.function, (var, lo, hi))
    if sp.expand(flipped.function.base - v * (2 - v)) != 0 or flipped.function.exp != n:
        raise ArithmeticError(f"t = 1 - v gave {flipped}")
    return sp.Integral(complement_integrand(), (v, lo, hi))


def complement_integrand() -> sp.Expr:
    """(v (2 - v))^n = (1 - t^2)^n at t = 1 - v."""
    return (v * (2 - v)) ** n


def complement_form_residual(k: int) -> sp.Expr:
    """1 - M_k(x) - M_k'(0) int_0^(1-x) (v (2 - v))^n dv: zero for every odd k (checked per k)."""
    nk = (check_k(k) - 1) // 2
    integral = complement_substitution().subs(n, nk).doit()
    return sp.expand(1 - magnetization_map(k).subs(m_eff, x) - slope_at_zero().subs(n, nk) * integral)


def complement_limit() -> sp.Expr:
    """w = 1 - (1-2p)(1 - u): the upper limit 1 - x of the complement form at x = (1-2p) m, m = 1 - u."""
    return sp.expand(1 - effective_inputs()[0].subs(m, 1 - u))


def complement_integral() -> sp.Integral:
    """int_0^w (v (2 - v))^n dv, the integral left for the solver's quadrature."""
    return sp.Integral(complement_integrand(), (v, 0, complement_limit()))


def complement_equation() -> sp.Eq:
    """m = M_k((1-2p) m) for u = 1 - m: M_k'(0) int_0^w (v (2 - v))^n dv = u, w = 2p + u - 2pu."""
    return sp.Eq(slope * complement_integral(), u)


def complement_equation_residual(k: int) -> sp.Expr:
    """(lhs - rhs of :func:`complement_equation`) - (m - M_k((1-2p) m)) at m = 1 - u: zero (checked per k)."""
    nk = (check_k(k) - 1) // 2
    eq, m_in = complement_equation(), effective_inputs()[0].subs(m, 1 - u)
    lhs = eq.lhs.subs({n: nk, slope: slope_at_zero().subs(n, nk)}).doit()
    return sp.expand(lhs - eq.rhs - ((1 - u) - magnetization_map(k).subs(m_eff, m_in)))


@cache
def ordered_states_k3() -> tuple[sp.Expr, ...]:
    """Nonzero fixed points of m -> M_3((1-2p) m): +-sqrt((1-6p)/(1-2p)^3)."""
    m_in, _ = effective_inputs()
    fixed = sp.factor(magnetization_map(3).subs(m_eff, m_in) - m)
    sols = [sp.sqrt(sp.factor(-sp.expand(-sol**2))) * sp.sign(sol.subs(p, sp.Rational(1, 10))) for sol in sp.solve(sp.cancel(fixed / m), m)]
    return tuple(sorted(sols, key=lambda e: float(e.subs(p, sp.Rational(1, 10)))))


def overlap_on_reference_fixed_point(k: int) -> sp.Expr:
    """Q_k(m^ = 1, m_eff, q_eff = m_eff) - M_k(m_eff): zero, so q = m is preserved when m^ = 1."""
    return sp.expand(overlap_map(k).subs({m_hat: 1, q_eff: m_eff}) - magnetization_map(k))


def derivation() -> Derivation:
    """Magnetization and overlap maps of MAJ-k networks, critical perturbation, ordered states."""
    d = Derivation("Sparse MAJ-k networks: magnetization, overlap, critical perturbation (Li & Saad 2018)")
    m_in, q_in = effective_inputs()
    d.add("m_eff", "<w s> through a weight flipped with probability p", m_in)
    d.add("q_eff", "<s^ w s>", q_in)
    d.add("pair", "P(s^, s) with moments m^, m_eff, q_eff", pair_probability())
    d.add("pair.moments", "(sum P, <s^>, <s>, <s^ s>) of that P", sp.Tuple(*pair_probability_moments()))
    for k in (3, 5):
        d.add(f"M{k}", f"Eq. 13, k = {k}: m_l = M_{k}(m_eff)", sp.factor(magnetization_map(k)))
        d.add(f"M{k}.literal_minus_grouped", "literal 2^k sum minus grouped form", sp.expand(magnetization_map_literal(k) - magnetization_map(k)))
    d.add("Q3", "Eq. 14, k = 3: q_l = Q_3(m^, m_eff, q_eff)", overlap_map(3))
    d.add("Q3.literal_minus_grouped", "literal 4^k sum minus grouped form", sp.expand(overlap_map_literal(3) - overlap_map(3)))
    d.add("slope", "M_k'(0) for k = 2n + 1", slope_at_zero())
    d.add("p_c", "critical perturbation p_c(n), k = 2n + 1", critical_perturbation())
    d.add("p_c.k3", "p_c for k = 3", critical_perturbation().subs(n, 1))
    d.add("p_c.k5", "p_c for k = 5", critical_perturbation().subs(n, 2))
    for k in (3, 5, 7):
        d.add(f"integral_form.k{k}.residual", f"M_{k}(x) - M_{k}'(0) int_0^x (1-t^2)^n dt", integral_form_residual(k))
    d.add("deficit_integrand", "1 - (1 - t^2)^n: its mean over [0, x] is 1 - M_k(x)/(M_k'(0) x)", deficit_integrand())
    for k in (3, 5, 7):
        d.add(f"deficit_form.k{k}.residual", f"<1 - (1-t^2)^n>_[0, X] - (1 - M_{k}(X)/(M_{k}'(0) X))", deficit_form_residual(k))
    d.add("gap", "1 - 1/((1-2p) M_k'(0)) in p_c = (1 - 1/M_k'(0))/2, no cancellation near p_c", stationary_gap())
    d.add("gap.residual", "1 - 1/((1-2p) M_k'(0)) minus that, p_c(n) in closed form", stationary_gap_residual())
    d.add("small_m_equation", "m = M_k(X), X = (1-2p) m != 0, divided by M_k'(0) X (the mean left to quadrature)",
          small_m_equation())
    for k in (3, 5, 7):
        d.add(f"small_m_equation.k{k}.residual", f"(lhs - rhs) (1-2p) m M_{k}'(0) - (m - M_{k}((1-2p) m))",
              small_m_equation_residual(k))
    d.add("complement_substitution", "1 - M_k(x) = M_k'(0) int_x^1 (1-t^2)^n dt, with t = 1 - v", complement_substitution())
    d.add("complement_integrand", "(1 - t^2)^n at t = 1 - v", complement_integrand())
    for k in (3, 5, 7):
        d.add(f"complement_form.k{k}.residual", f"1 - M_{k}(x) - M_{k}'(0) int_0^(1-x) (v(2-v))^n dv", complement_form_residual(k))
    d.add("complement_limit", "w = 1 - (1-2p)(1 - u), the upper limit at m = 1 - u", complement_limit())
    d.add("complement_equation", "m = M_k((1-2p) m) for u = 1 - m (the integral left to quadrature)", complement_equation())
    for k in (3, 5, 7):
        d.add(f"complement_equation.k{k}.residual", f"(lhs - rhs) - (m - M_{k}((1-2p) m)) at m = 1 - u",
              complement_equation_residual(k))
    d.add("ordered.k3", "nonzero stationary m for k = 3", sp.Tuple(*ordered_states_k3()))
    d.add("q_equals_m.k3", "Q_3(1, m_eff, m_eff) - M_3(m_eff) (q = m on m^ = 1)", overlap_on_reference_fixed_point(3))
    return d
