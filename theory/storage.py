"""Gardner's storage problem in replica symmetry (talk: "Perceptron learning and the
storage problem", "Replica symmetric solution").

Spherical perceptron, N couplings with J.J = N, P = alpha N random patterns
with random labels, stability kappa. With H(x) = int_x^oo Dt the Gaussian
tail, M(x) = G(x)/H(x) its inverse Mills ratio (G the standard normal
density) and the local field x = (kappa + sqrt(q) t)/sqrt(1 - q), the RS
log-volume (the typical fraction of the sphere that stores the patterns) is

    S(q) = 1/2 ln(1 - q) + q/(2 (1 - q)) + alpha int Dt ln H(x).

Because the number of replicas goes to zero, the saddle point is a MINIMUM
of S in q (at alpha = 0, S is increasing with S(0) = 0). Derived here:

* dS/dq by differentiation and Gaussian integration by parts (Stein's lemma,
  int Dt t f(t) = int Dt f'(t)): the saddle point q/(1-q) = alpha <M(x)^2>;
* every root: with I(q) = <(1-q) M(x)^2>_t the saddle point reads
  alpha = alpha(q) = q/I(q), explicit in q, and
  dS/dq = I(q) (alpha(q) - alpha) / (2 (1-q)^2). So S decreases where
  alpha(q) < alpha and increases where alpha(q) > alpha: a root on a rising
  part of alpha(q) is a local minimum of S, one on a falling part a local
  maximum. alpha(q) rises from 0 (q = 0) to alpha_c (q -> 1); for kappa below
  kappa_3 ~ -2.89 it has a local maximum and a local minimum (the spinodals,
  I - q I' = 0, with I' and I'' derived by parts), and in the window between
  their alpha values there are three roots: a small-q minimum, a middle
  maximum and a large-q minimum. The physical RS saddle is the LOWEST
  minimum of S: for n -> 0 the number n(n-1)/2 of overlaps is negative, the
  maximum of the replicated integrand over q turns into a minimum, and the
  dominant saddle is the one with the smallest S; it also keeps Jensen's
  bound S <= S(q = 0) = alpha ln H(kappa) (the annealed log-volume). The
  selected root jumps from the small-q to the large-q branch where their
  entropies are equal (a first-order transition); the upper spinodal may lie
  above alpha_c, but for alpha > alpha_c S -> -oo as q -> 1, so the volume
  vanishes there and alpha_c stays the capacity;
* q -> 1: (1-q) M(x)^2 -> (kappa+t)^2 for t > -kappa, so
  alpha_c(kappa) = 1 / int_{-kappa}^oo Dt (t+kappa)^2 (erfc and exp), alpha_c(0) = 2,
  for kappa < 0 in logarithms, ln alpha_c = kappa^2/2 + ln sqrt(2 pi) + ln M(-kappa) - ln D(-kappa)
  with D(a) = 1 - a (M(a) - a), and the approach 1 - q ~ delta / (1 + alpha_c H(-kappa))
  at alpha = alpha_c (1 - delta);
* de Almeida-Thouless: RS is stable while the replicon ratio
  lambda = alpha <[(ln H)''(x)]^2> = alpha <M^2 (M - x)^2> stays below 1 (written with
  E = M - x and D, the forms without cancellation for x -> +-oo); on the
  branch that reaches capacity lambda -> alpha_c H(-kappa), which is < 1
  exactly for kappa > 0 (kappa = 0 is marginal). So RS holds up to alpha_c
  for kappa >= 0; for kappa_3 < kappa < 0 the single branch crosses the AT
  line below alpha_c; below kappa_3 the onset of RS instability is the
  smaller of an AT crossing on the selected branch and the first-order jump
  onto the large-q branch, whose replicon exceeds 1 throughout for kappa
  below about -3.1 (there is then no continuous AT crossing).

Ising couplings J_i = +-1 (entropy = log of the number of solutions / N):

    s(q, qhat) = -qhat (1-q)/2 + int Dz ln 2cosh(sqrt(qhat) z) + alpha int Dt ln H(x),

    1 - q = <sech^2(sqrt(qhat) z)>_z,   qhat = alpha <M(x)^2>_t / (1 - q).

Its q -> 1 limit gives Gardner and Derrida's alpha = 2 alpha_c(kappa)/pi (4/pi at
kappa = 0), larger than the information bound 1: the RS entropy becomes
negative first, and Krauth and Mezard's capacity is where it vanishes
(computed numerically, numerics.solvers.storage). The replicon ratio picks up the
spin factor <sech^4>/(1-q)^2 in place of 1.

Teacher-student Gibbs learning (spherical teacher and student, labels from
the teacher, the student drawn uniformly from the version space): at the
Nishimori point q = R, with y = sqrt(R/(1-R)),

    s(R) = 1/2 ln(1 - R) + R/2 + 2 alpha int Dt H(-y t) ln H(-y t),
    R/sqrt(1 - R) = alpha sqrt(2/pi) <M(sqrt(R) s)>_s
                  = (alpha/pi) int Ds exp(-R s^2/2) / H(sqrt(R) s)   (Engel & Van den Broeck),

generalization error eps = arccos(R)/pi and eps ~ c/alpha for alpha -> oo with
c = sqrt(2) / (pi sqrt(2/pi) <M(s)>_s).
"""

from __future__ import annotations

from functools import cache

import mpmath
import sympy as sp

from theory.derivation import Derivation

t, z, s = sp.symbols("t z s", real=True)  # Gaussian integration variables
x, u = sp.symbols("x u", real=True)  # a local field; a generic argument
q = sp.Symbol("q", positive=True)  # overlap between two solutions, 0 < q < 1
qhat = sp.Symbol("qhat", positive=True)  # its conjugate (Ising couplings)
kappa = sp.Symbol("kappa", real=True)  # stability
alpha = sp.Symbol("alpha", positive=True)  # patterns per coupling, P/N
R = sp.Symbol("R", positive=True)  # teacher-student overlap, 0 < R < 1
y = sp.Symbol("y", positive=True)  # sqrt(R/(1-R))
delta = sp.Symbol("delta", positive=True)  # alpha = alpha_c (1 - delta)

SQRT2PI = sp.sqrt(2 * sp.pi)


def density(v: sp.Expr) -> sp.Expr:
    """Standard normal density G(v)."""
    return sp.exp(-(v**2) / 2) / SQRT2PI


def gaussian_average(expr: sp.Expr, v: sp.Symbol) -> sp.Integral:
    """<expr>_v = int Dv expr, unevaluated."""
    return sp.Integral(density(v) * expr, (v, -sp.oo, sp.oo))


class H(sp.Function):
    """Gaussian tail H(x) = int_x^oo Dt = erfc(x/sqrt 2)/2, H'(x) = -G(x)."""

    nargs = 1

    @classmethod
    def eval(cls, v):
        if v.is_zero:
            return sp.Rational(1, 2)

    def fdiff(self, argindex=1):
        return -density(self.args[0])

    def _eval_rewrite_as_erfc(self, v, **kwargs):
        return sp.erfc(v / sp.sqrt(2)) / 2

    _eval_rewrite_as_exp = _eval_rewrite_as_erfc


class LogH(sp.Function):
    """ln H(x), with (ln H)'(x) = -M(x)."""

    nargs = 1

    @classmethod
    def eval(cls, v):
        if v.is_zero:
            return -sp.log(2)

    def fdiff(self, argindex=1):
        return -Mills(self.args[0])

    def _eval_rewrite_as_erfc(self, v, **kwargs):
        return sp.log(sp.erfc(v / sp.sqrt(2)) / 2)

    _eval_rewrite_as_exp = _eval_rewrite_as_erfc


class Mills(sp.Function):
    """Inverse Mills ratio M(x) = G(x)/H(x); it obeys the Riccati equation M' = M (M - x)."""

    nargs = 1

    @classmethod
    def eval(cls, v):
        if v.is_zero:
            return sp.sqrt(2 / sp.pi)

    def fdiff(self, argindex=1):
        v = self.args[0]
        return Mills(v) * (Mills(v) - v)

    def _eval_rewrite_as_erfc(self, v, **kwargs):
        return sp.sqrt(2 / sp.pi) * sp.exp(-(v**2) / 2) / sp.erfc(v / sp.sqrt(2))

    _eval_rewrite_as_exp = _eval_rewrite_as_erfc


class MillsExcess(sp.Function):
    """E(x) = M(x) - x, the excess of the inverse Mills ratio over its asymptote (E ~ 1/x for x -> oo)."""

    nargs = 1

    def _eval_rewrite_as_Mills(self, v, **kwargs):
        return Mills(v) - v

    def _eval_rewrite_as_exp(self, v, **kwargs):
        return (Mills(v) - v).rewrite(sp.exp)


class MillsDefect(sp.Function):
    """D(x) = 1 - x E(x) = 1 - x (M(x) - x) (D ~ 2/x^2 for x -> oo)."""

    nargs = 1

    def _eval_rewrite_as_Mills(self, v, **kwargs):
        return 1 - v * (Mills(v) - v)

    def _eval_rewrite_as_exp(self, v, **kwargs):
        return (1 - v * (Mills(v) - v)).rewrite(sp.exp)


class LogTwoCosh(sp.Function):
    """ln(2 cosh y), with derivative tanh y."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.tanh(self.args[0])

    def _eval_rewrite_as_exp(self, v, **kwargs):
        return sp.log(sp.exp(v) + sp.exp(-v))


OWN_FUNCTIONS = (H, LogH, Mills, MillsExcess, MillsDefect, LogTwoCosh)


def field() -> sp.Expr:
    """The local field x = (kappa + sqrt(q) t)/sqrt(1 - q) of the spherical/Ising RS theory."""
    return (kappa + sp.sqrt(q) * t) / sp.sqrt(1 - q)


def by_parts(integrand: sp.Expr, v: sp.Symbol, arg: sp.Expr, eliminate: sp.Symbol | None = None) -> sp.Expr:
    """Apply Stein's lemma int Dv v f(v) = int Dv f'(v) to an integrand linear in v.

    ``arg`` is the argument (linear in v) of the functions in the integrand. It
    is replaced by a placeholder X, explicit occurrences are folded into X by
    solving arg = X for ``eliminate``, the coefficient of v is differentiated
    along v, and the result is returned in terms of ``arg``.
    """
    X = sp.Dummy("X")
    e = integrand.xreplace({arg: X})
    if eliminate is not None:
        e = e.subs(eliminate, sp.solve(sp.Eq(arg, X), eliminate)[0])
    poly = sp.Poly(sp.expand(e), v)
    if poly.degree() > 1:
        raise ValueError(f"integrand is not linear in {v}: {integrand}")
    a0, a1 = poly.coeff_monomial(1), poly.coeff_monomial(v)
    out = a0 + sp.diff(a1.xreplace({X: arg}), v).xreplace({arg: X})
    if eliminate is not None:
        out = out.subs(eliminate, sp.solve(sp.Eq(arg, X), eliminate)[0])
    out = sp.factor(sp.simplify(out))
    if v in out.free_symbols:
        raise ArithmeticError(f"by-parts result still depends on {v} outside the field: {out}")
    return out.xreplace({X: arg})


def stable_form(expr: sp.Expr, arg: sp.Expr, eliminate: sp.Symbol) -> sp.Expr:
    """Rewrite a polynomial in M(arg) and arg as M^k P(arg, E, D), P free of products arg*E.

    With E = M - x and D = 1 - x E (x = arg), M^k P has no cancellation for
    x -> -oo (M is tiny, E ~ |x|, all of P's terms of one sign) and only O(1)
    cancellation for x -> +oo (E ~ 1/x, D ~ 2/x^2): P is the remainder of
    the expansion in x and E modulo x E - (1 - D).
    """
    X, M, E, D = sp.Dummy("X"), sp.Dummy("M"), sp.Dummy("E"), sp.Dummy("D")
    e = expr.xreplace({arg: X}).subs(eliminate, sp.solve(sp.Eq(arg, X), eliminate)[0])
    e = sp.expand(e.subs(Mills(X), M))
    if e.free_symbols & {t, eliminate}:
        raise ArithmeticError(f"expression is not a function of the field and q alone: {expr}")
    k = min(m[0] for m in sp.Poly(e, M).monoms())
    cof = sp.expand(sp.cancel(e / M**k).subs(M, X + E))
    _, rem = sp.reduced(cof, [X * E - 1 + D], X, E, D)
    out = (M**k * sp.factor(rem)).subs({M: Mills(X), E: MillsExcess(X), D: MillsDefect(X)}).xreplace({X: arg})
    back = out.rewrite(Mills) - expr
    if sp.simplify(sp.expand(back)) != 0:
        raise ArithmeticError("stable form changed the value")
    return out


def _tail_power_integral(k: int) -> sp.Expr:
    """int_R sech(y)^(2k) dy, with u = tanh y (du = sech^2 y dy)."""
    return sp.integrate((1 - u**2) ** (k - 1), (u, -1, 1))


def _mills_asymptote(order: int) -> sp.Expr:
    """M(x) = x + sum_k c_k x^(1-2k) for x -> oo, from the Riccati equation M' = M (M - x).

    In w = 1/x the residual M' - M (M - x) is a series in w^2 whose first
    ``order`` coefficients fix c_1..c_order.
    """
    w = sp.Dummy("w", positive=True)
    cs = sp.symbols(f"c1:{order + 1}")
    trial = 1 / w + sum(c * w ** (2 * k + 1) for k, c in enumerate(cs))
    residual = sp.expand(-(w**2) * sp.diff(trial, w) - trial * (trial - 1 / w))
    eqs = [residual.coeff(w, 2 * k) for k in range(order)]
    sol = sp.solve(eqs, cs, dict=True)[0]
    return trial.subs(sol).subs(w, 1 / x)


def _spherical_saddle(d: Derivation, xq) -> sp.Expr:
    """Spherical perceptron: RS entropy, saddle point, every root as alpha(q), the branch rule, spinodals; returns dS/dq's integrand."""
    d.add("field", "local field of a pattern at overlap q: x = (kappa + sqrt(q) t)/sqrt(1-q)", xq)
    entropic = sp.log(1 - q) / 2 + q / (2 * (1 - q))
    d.add("entropic_part", "entropic part of S: volume of the sphere at overlap q", entropic)
    d.add("energetic_integrand", "energetic integrand: ln H(x), the log-fraction of fields above kappa", LogH(xq))
    d.add("entropy", "RS log-volume S(q) (minimized over q)",
                    entropic + alpha * gaussian_average(LogH(xq), t))

    d_entropic = d.add("dS_dq_entropic", "d/dq of the entropic part", sp.factor(sp.diff(entropic, q)))
    raw = d.add("dS_dq_integrand_raw", "d/dq of the energetic integrand, before integration by parts",
                sp.diff(LogH(xq), q))
    dint = d.add("dS_dq_integrand", "... after Gaussian integration by parts in t", by_parts(raw, t, xq, kappa))
    dS = d.add("dS_dq", "dS/dq", d_entropic + alpha * gaussian_average(dint, t))
    mean_m2 = gaussian_average(Mills(xq) ** 2, t)
    saddle = d.add("saddle", "saddle point dS/dq = 0, times 2(1-q)", sp.Eq(q / (1 - q), alpha * mean_m2))
    check = sp.expand(2 * (1 - q) * dS.subs(gaussian_average(dint, t), -mean_m2 / (2 * (1 - q))))
    if sp.simplify(check - (saddle.lhs - saddle.rhs)) != 0:
        raise ArithmeticError("saddle-point equation is not 2(1-q) dS/dq = 0")
    d.add("saddle_integrand", "integrand of the scaled saddle point q = alpha <(1-q) M(x)^2>_t",
          (1 - q) * Mills(xq) ** 2)
    d.add("curvature_alpha0", "d^2S/dq^2 at alpha = 0, q = 0: positive, so the saddle is a minimum of S",
          sp.diff(entropic, q, 2).subs(q, 0))

    # Every RS root: alpha(q) = q / I(q), I(q) = <(1-q) M(x)^2>, is explicit.
    I, dI = sp.symbols("I_q dI_q", positive=True)  # I(q) and I'(q)
    d.add("alpha_of_q", "the saddle point solved for alpha: alpha(q) = q / I(q), I(q) = <(1-q) M(x)^2>_t",
          q / gaussian_average((1 - q) * Mills(xq) ** 2, t))
    ds_alpha = I * (q / I - alpha) / (2 * (1 - q) ** 2)
    if sp.simplify(dS.subs(gaussian_average(dint, t), -I / (2 * (1 - q) ** 2)) - ds_alpha) != 0:
        raise ArithmeticError("dS/dq is not I (alpha(q) - alpha) / (2 (1-q)^2)")
    d.add("dS_dq_alpha_form", "dS/dq = I(q) (alpha(q) - alpha) / (2 (1-q)^2): its sign is that of alpha(q) - alpha",
          ds_alpha)
    d.add("branch_rule",
          "roots with alpha'(q) > 0 are local minima of S, with alpha'(q) < 0 local maxima; "
          "the physical RS saddle is the lowest minimum (n -> 0 turns the maximum over q into a minimum; "
          "the lower S also keeps the bound S <= S(q=0) = alpha ln H(kappa), the annealed log-volume)",
          sp.Symbol("min_q_S"))
    slope_i = by_parts(sp.diff((1 - q) * Mills(xq) ** 2, q), t, xq, kappa)
    slope_i = d.add("saddle_slope_integrand", "I'(q) = <this>_t (d/dq of (1-q) M(x)^2, by parts in t; "
                    "E = M - x, D = 1 - x E)", stable_form(slope_i, xq, kappa))
    curv_i = by_parts(sp.diff(slope_i.rewrite(Mills), q), t, xq, kappa)
    d.add("saddle_curvature_integrand", "I''(q) = <this>_t (by parts in t again)", stable_form(curv_i, xq, kappa))
    d.add("spinodal", "stationary points of alpha(q) (spinodals, ends of the root brackets): I - q I' = 0",
          sp.Eq(I - q * dI, 0))
    i_of_q = sp.Function("I")(q)
    log_slope = sp.expand(sp.diff(q / i_of_q, q) * i_of_q)  # q alpha'(q) / alpha(q), alpha = q / I
    d.add("spinodal_gap", "q alpha'(q)/alpha(q) = 1 - q I'/I: the sign of alpha'(q), zero at the spinodals",
          log_slope.subs(sp.Derivative(i_of_q, q), dI).subs(i_of_q, I))
    return dint


def _spherical_capacity(d: Derivation, xq) -> sp.Expr:
    """Spherical perceptron, q -> 1: Mills-ratio asymptotics, alpha_c(kappa) (and its log form), the approach to capacity; returns alpha_c."""
    # q -> 1: asymptotics of the Mills ratio
    d.add("mills_riccati", "M'(x) = M (M - x) (checked against the erfc form)", sp.diff(Mills(x), x))
    mp = d.add("mills_limit_pos", "lim_{x->oo} M(x)/x", sp.limit((Mills(x) / x).rewrite(sp.erfc), x, sp.oo))
    mn = d.add("mills_limit_neg", "lim_{x->-oo} M(x)", sp.limit(Mills(x).rewrite(sp.erfc), x, -sp.oo))
    d.add("mills_asymptote", "M(x) for x -> oo, from the Riccati equation with M ~ x", _mills_asymptote(3))
    scale = sp.limit(sp.sqrt(1 - q) * xq, q, 1)
    d.add("saddle_integrand_q1", "lim_{q->1} (1-q) M(x)^2: (kappa+t)^2 for t > -kappa, 0 below",
          sp.Piecewise((scale**2 * mp**2, t > -kappa), (mn, True)))
    cap_integral = sp.integrate(density(t) * (t + kappa) ** 2, (t, -kappa, sp.oo))
    cap_integral = _tail_form(cap_integral)
    d.add("capacity_integral", "int_{-kappa}^oo Dt (t+kappa)^2", cap_integral)
    alpha_c = d.add("capacity", "alpha_c(kappa): q -> 1 in q = alpha <(1-q) M^2>", 1 / cap_integral)
    d.add("capacity_kappa0", "alpha_c(0)", sp.nsimplify(sp.simplify(alpha_c.subs(kappa, 0))))
    # kappa < 0: t = s - kappa, G(s - kappa) = G(kappa) exp(kappa s - s^2/2), and
    # int_0^oo s^2 exp(-a s - s^2/2) ds = D(a)/M(a) (a = -kappa): alpha_c = 1/(G(kappa) D(-kappa)/M(-kappa))
    if sp.simplify(density(s - kappa) / (density(kappa) * sp.exp(kappa * s - s**2 / 2))) != 1:
        raise ArithmeticError("Gaussian shift identity failed")
    log_cap = kappa**2 / 2 + sp.log(SQRT2PI) + sp.log(Mills(-kappa)) - sp.log(MillsDefect(-kappa))
    check = (sp.exp(log_cap.rewrite(Mills)) - alpha_c).rewrite(sp.erfc)
    if abs(complex(sp.N(check.subs(kappa, sp.Rational(-7, 3)), 30))) > 1e-25:
        raise ArithmeticError("log form of alpha_c differs from the closed form")
    d.add("log_capacity_negative", "ln alpha_c for kappa <= 0 without cancellation or overflow: "
          "kappa^2/2 + ln sqrt(2 pi) + ln M(-kappa) - ln D(-kappa)", log_cap)

    # approach to capacity: (1-q) M^2 = (kappa + sqrt(q) t)^2 + 2(1-q) + O((1-q)^2/x^2) for t > -kappa
    eps = sp.Symbol("epsilon", positive=True)  # 1 - q
    m_asym = _mills_asymptote(3)
    first = sp.series(sp.expand(m_asym**2), x, sp.oo, 2).removeO()  # x^2 + 2 + O(1/x^2)
    local = sp.expand(eps * first.subs(x, xq.subs(q, 1 - eps)))
    slope_integrand = sp.simplify(sp.series(local, eps, 0, 2).removeO().coeff(eps, 1))
    d.add("near_capacity_integrand", "d/d(1-q) of (1-q) M(x)^2 at q = 1, t > -kappa", slope_integrand)
    k_coef = _tail_form(sp.integrate(density(t) * slope_integrand, (t, -kappa, sp.oo)))
    d.add("near_capacity_coefficient",
          "K(kappa) = int_{-kappa}^oo Dt (2 - t (t+kappa)): <(1-q)M^2> = 1/alpha_c + K (1-q)",
          k_coef)
    # q = alpha I(q), alpha = alpha_c (1 - delta), I = 1/alpha_c + K (1-q): linear order in delta
    lin = sp.solve(sp.Eq(1 - eps, alpha_c * (1 - delta) * (1 / alpha_c + k_coef * eps)), eps)[0]
    slope = sp.limit(lin / delta, delta, 0)
    compact = 1 / (1 + alpha_c * k_coef)
    if sp.simplify((slope - compact).rewrite(sp.erfc)) != 0:
        raise ArithmeticError("near-capacity slope is not 1/(1 + alpha_c K)")
    d.add("near_capacity_slope", "lim (1-q)/delta at alpha = alpha_c (1 - delta), delta -> 0: 1/(1 + alpha_c K)",
          compact)
    return alpha_c


def _spherical_replicon(d: Derivation, xq, alpha_c) -> sp.Expr:
    """Spherical perceptron: the de Almeida-Thouless replicon, at capacity too; returns (ln H)''(x)."""
    # de Almeida-Thouless
    curv = d.add("log_tail_curvature", "(ln H)''(x)", sp.diff(LogH(x), x, 2))
    d.add("replicon_integrand", "replicon integrand [(ln H)''(x)]^2 = M^2 E^2 (E = M - x: no cancellation)",
          stable_form(curv.subs(x, xq) ** 2, xq, kappa))
    d.add("replicon", "replicon ratio lambda = alpha <[(ln H)''(x)]^2>; RS is stable while lambda < 1",
          alpha * gaussian_average(curv.subs(x, xq) ** 2, t))
    curv_pos = sp.limit(curv.subs(Mills(x), _mills_asymptote(3)), x, sp.oo)
    d.add("log_tail_curvature_pos", "lim_{x->oo} (ln H)''(x) (asymptote of M)", curv_pos)
    at_cap = alpha_c * _tail_form(sp.integrate(density(t) * curv_pos**2, (t, -kappa, sp.oo)))
    d.add("replicon_at_capacity", "lambda at q -> 1, alpha = alpha_c: alpha_c(kappa) H(-kappa)", at_cap)
    d.add("replicon_at_capacity_kappa0", "... at kappa = 0: marginal", sp.nsimplify(sp.simplify(at_cap.subs(kappa, 0))))
    return curv


def _ising(d: Derivation, xq, alpha_c, dint, curv) -> None:
    """Ising couplings: RS equations with the conjugate qhat, entropy, Gardner-Derrida q -> 1 value, AT."""
    yq = sp.sqrt(qhat) * z
    spin_entropic = d.add("ising_entropic_part", "-qhat (1-q)/2", -qhat * (1 - q) / 2)
    d.add("ising_spin_integrand", "spin integrand ln 2cosh(sqrt(qhat) z)", LogTwoCosh(yq))
    spin = spin_entropic + gaussian_average(LogTwoCosh(yq), z)
    d.add("ising_entropy", "RS entropy s(q, qhat) for J_i = +-1",
          spin + alpha * gaussian_average(LogH(xq), t))
    ds_dqhat = by_parts(sp.diff(LogTwoCosh(yq), qhat), z, yq)
    d.add("ising_dqhat_integrand", "d/dqhat of ln 2cosh(sqrt(qhat) z), by parts in z", ds_dqhat)
    sech2 = sp.factor(2 * ds_dqhat)
    if sp.simplify(sech2 - sp.sech(yq) ** 2) != 0:
        raise ArithmeticError("1 - tanh^2 is not sech^2")
    d.add("ising_overlap", "ds/dqhat = 0: 1 - q = <sech^2(sqrt(qhat) z)>_z",
          sp.Eq(1 - q, gaussian_average(sp.sech(yq) ** 2, z)))
    d.add("ising_overlap_integrand", "integrand of 1 - q = <sech^2(sqrt(qhat) z)>_z", sp.sech(yq) ** 2)
    mean_scaled = gaussian_average((1 - q) * Mills(xq) ** 2, t)
    per_scaled = sp.simplify(dint / ((1 - q) * Mills(xq) ** 2))  # d/dq ln H(x) = per_scaled (1-q) M^2, by parts
    conj = sp.solve(sp.diff(spin, q) + alpha * sp.Symbol("D"), qhat)[0].subs(sp.Symbol("D"), per_scaled * mean_scaled)
    d.add("ising_conjugate", "ds/dq = 0: qhat = alpha <(1-q) M(x)^2>_t / (1-q)^2", sp.Eq(qhat, conj))
    d.add("ising_spin_replicon_integrand", "spin factor of the replicon: sech^4(sqrt(qhat) z)", sp.sech(yq) ** 4)
    d.add("ising_replicon", "replicon ratio alpha <[(ln H)'']^2>_t <sech^4>_z / (1-q)^2",
          alpha * gaussian_average(curv.subs(x, xq) ** 2, t) * gaussian_average(sp.sech(yq) ** 4, z) / (1 - q) ** 2)
    # q -> 1: <sech^2(sqrt(qhat) z)> = int du G(u/sqrt(qhat)) sech^2(u)/sqrt(qhat) -> 2/sqrt(2 pi qhat)
    overlap_q1 = sp.simplify(density(0) * _tail_power_integral(1))  # lim sqrt(qhat) (1-q)
    d.add("ising_q1_overlap", "lim_{qhat->oo} sqrt(qhat) (1-q)", overlap_q1)
    d.add("ising_q1_overlap_qhat", "hence (1-q)^2 qhat -> 2/pi", overlap_q1**2)
    d.add("ising_q1_conjugate", "and (1-q)^2 qhat -> alpha <(kappa+t)^2 theta(kappa+t)> = alpha/alpha_c",
          alpha / alpha_c)
    gd = sp.solve(sp.Eq(overlap_q1**2, alpha / alpha_c), alpha)[0]
    if sp.simplify((gd - 2 * alpha_c / sp.pi).rewrite(sp.erfc)) != 0:
        raise ArithmeticError("q -> 1 Ising capacity is not 2 alpha_c/pi")
    gd = d.add("ising_rs_capacity", "q -> 1 value of alpha (Gardner-Derrida): 2 alpha_c(kappa)/pi", 2 * alpha_c / sp.pi)
    d.add("ising_rs_capacity_kappa0", "... at kappa = 0 (exceeds the bound alpha <= 1)",
          sp.nsimplify(sp.simplify(gd.subs(kappa, 0))))


def _teacher_student(d: Derivation) -> None:
    """Gibbs learning of a teacher perceptron: R/sqrt(1-R) = alpha sqrt(2/pi) <M(sqrt(R) s)>, eps = arccos(R)/pi."""
    # rho = 1 - R > 0 while manipulating square roots; written back in R at the end.
    rho = sp.Symbol("rho", positive=True)
    back = {rho: 1 - R}
    ts_entropic = sp.log(1 - R) / 2 + R / 2
    ts_integrand = 2 * H(-y * t) * LogH(-y * t)
    y_of_r = sp.sqrt((1 - rho) / rho)
    d.add("ts_entropy", "Gibbs learning at q = R, y = sqrt(R/(1-R)): s(R)",
          ts_entropic + alpha * gaussian_average(ts_integrand, t).subs(y, sp.sqrt(R / (1 - R))))
    dy = sp.diff(ts_integrand, y).replace(Mills, lambda v: density(v) / H(v))
    dy = sp.expand(sp.simplify(dy))
    d.add("ts_dy_integrand", "d/dy of 2 H(-yt) ln H(-yt)", dy)
    odd = dy.coeff(LogH(-y * t), 0)
    if sp.integrate(density(t) * odd, (t, -sp.oo, sp.oo)) != 0:
        raise ArithmeticError("the term without ln H does not integrate to zero")
    rest = dy.coeff(LogH(-y * t), 1)  # 2 t G(yt), times ln H(-yt)
    a = 1 + y**2
    gauss = sp.exp(-a * t**2 / 2)
    kernel = sp.simplify(density(t) * rest / (t * gauss))  # Dt 2 t G(yt) = kernel t exp(-a t^2/2) dt
    if t in kernel.free_symbols:
        raise ArithmeticError("unexpected t-dependence of the Gaussian kernel")
    # t exp(-a t^2/2) = -(1/a) d/dt exp(-a t^2/2): int dt t e L = (1/a) int dt e L'
    by_t = sp.simplify(kernel / a * gauss * sp.diff(LogH(-y * t), t))
    d.add("ts_dy_by_parts", "int Dt ... = int dt of this (by parts in t; odd part dropped)", by_t)
    # d/dR = (dy/dR) d/dy, then t = -sqrt(1-R) s
    dR = (by_t * sp.diff(y_of_r, rho) * sp.diff(1 - R, R)).subs(y, y_of_r)
    sub = sp.simplify(dR.subs(t, -sp.sqrt(rho) * s) * sp.sqrt(rho) / density(s))
    d.add("ts_dR_integrand", "d/dR of the energetic term: int Ds of this (t = -sqrt(1-R) s)", sub.subs(back))
    ts_rhs = sp.simplify(sub * 2 * rho / sp.sqrt(rho))
    d.add("ts_saddle_integrand", "integrand of the saddle point R/sqrt(1-R) = alpha <.>_s", ts_rhs.subs(back))
    lhs = sp.simplify(-sp.diff(ts_entropic, R).subs(R, 1 - rho) * 2 * rho / sp.sqrt(rho))
    ts_saddle = d.add("ts_saddle", "ds/dR = 0, times 2 sqrt(1-R)",
                      sp.Eq(lhs.subs(back), alpha * gaussian_average(ts_rhs.subs(back), s)))
    engel = sp.simplify(ts_rhs.replace(Mills, lambda v: density(v) / H(v)) * density(s))
    d.add("ts_saddle_engel", "the same integrand with Ds: (1/pi) exp(-(1+R) s^2/2)/H(sqrt(R) s)", engel.subs(back))
    if sp.simplify(ts_saddle.lhs - R / sp.sqrt(1 - R)) != 0:
        raise ArithmeticError("entropic derivative does not give R/sqrt(1-R)")
    d.add("ts_error", "generalization error", sp.acos(R) / sp.pi)
    stable = 2 * sp.asin(sp.sqrt((1 - R) / 2)) / sp.pi
    if sp.simplify(sp.diff(stable - sp.acos(R) / sp.pi, R)) != 0 or (stable - sp.acos(R) / sp.pi).subs(R, 1) != 0:
        raise ArithmeticError("arccos(R) != 2 arcsin(sqrt((1-R)/2))")
    d.add("ts_error_stable", "generalization error as 2 arcsin(sqrt((1-R)/2))/pi, accurate for R -> 1", stable)
    c_int = gaussian_average(ts_rhs.subs(rho, 0), s)
    d.add("ts_large_alpha_overlap", "alpha -> oo: R -> 1 and (1-R) alpha^2 -> 1/C^2, C = this", c_int)
    eps_series = sp.series(stable.subs(R, 1 - delta), delta, 0, 2).removeO()  # delta = 1 - R
    lead = sp.simplify(sp.limit(eps_series / sp.sqrt(delta), delta, 0))
    const = lead / c_int
    d.add("ts_asymptote_constant", "eps ~ c/alpha, c = sqrt(2)/(pi C)", const)
    c_mp = sp.lambdify(s, density(s) * ts_rhs.subs(rho, 0).rewrite(sp.erfc), "mpmath")
    with mpmath.workdps(40):
        value = mpmath.quad(c_mp, [-mpmath.inf, -5, 0, 5, mpmath.inf])
        d.add("ts_asymptote_value", "c numerically (mpmath quadrature, 30 digits)",
              sp.Float(str(sp.N(lead, 40) / sp.Float(str(value), 40)), 30))


@cache
def derivation() -> Derivation:
    d = Derivation("Gardner's storage problem: replica-symmetric solution")
    xq = field()
    dint = _spherical_saddle(d, xq)
    alpha_c = _spherical_capacity(d, xq)
    curv = _spherical_replicon(d, xq, alpha_c)
    _ising(d, xq, alpha_c, dint, curv)
    _teacher_student(d)
    return d


def _tail_form(expr: sp.Expr) -> sp.Expr:
    """Write erf/erfc of kappa through H(-kappa) = erfc(-kappa/sqrt 2)/2 (no cancellation for kappa < 0)."""
    e = sp.expand(sp.powsimp(sp.expand(expr.rewrite(sp.erfc))))
    e = sp.expand(e.subs(sp.erfc(sp.sqrt(2) * kappa / 2), 2 - 2 * H(-kappa)))
    out = sp.collect(e, H(-kappa), sp.factor)
    if sp.simplify((out - expr).rewrite(sp.erfc)) != 0:
        raise ArithmeticError("tail form changed the value")
    return out
