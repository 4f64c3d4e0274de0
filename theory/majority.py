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
    d.add("ordered.k3", "nonzero stationary m for k = 3", sp.Tuple(*ordered_states_k3()))
    d.add("q_equals_m.k3", "Q_3(1, m_eff, m_eff) - M_3(m_eff) (q = m on m^ = 1)", overlap_on_reference_fixed_point(3))
    return d
