"""The max-entropy binary gate (Milletari et al., sections 2.3-2.4).

Each result is computed by sympy from the previous one:

    max entropy -> P(s|h) = e^{beta s h} / Z,  Z = sum_{s in {0,1}} e^{beta s h} = 1 + e^{beta h}
    <s> = (1/beta) d log Z / d b = sigma(beta h)                          (Eq. 5)
    <j> = <h s> = d log Z / d beta = h sigma(beta h)   (ESP, Swish)       (Eq. 6)
    g(h) = d<j>/dh = sigma(beta h) [1 + beta h sigma(-beta h)]
    d<j>/d beta = h^2 sigma(beta h) sigma(-beta h)
    beta -> oo: <j> -> max(h, 0) (ReLU, Eq. 7), g -> Heaviside(h)
    beta << 1:  <j> = h/2 + beta h^2/4 - beta^3 h^4/48 + O(beta^5)
    sigmoid unit: g = beta sigma sigma(-) -> 0 for h >> 1/beta, against ESP's g -> 1.
"""

from __future__ import annotations

import sympy as sp

from theory.activations import sigmoid
from theory.derivation import Derivation

h = sp.Symbol("h", real=True)
beta = sp.Symbol("beta", positive=True)  # an inverse temperature
w, xin, b = sp.symbols("w x b", real=True)  # one input: h = w x + b
s = sp.Symbol("s", integer=True, nonnegative=True)
lam0 = sp.Symbol("lambda_0", real=True)  # Lagrange multiplier of normalization
p0, p1 = sp.symbols("p_0 p_1", positive=True)

GATE_STATES = (0, 1)


def to_sigmoid(expr: sp.Expr) -> sp.Expr:
    """Rewrite a rational function of exp(beta h) in logistic functions.

    Substitutes e^{a} = sigma(a) / (1 - sigma(a)), cancels, and writes
    1 - sigma(a) back as sigma(-a); the result is checked equal to the input.
    """
    exps = sorted(expr.atoms(sp.exp), key=sp.default_sort_key)
    sig = {e: sigmoid(e.args[0]) for e in exps}
    u = {e: sp.Dummy("u") for e in exps}
    out = sp.factor(sp.cancel(expr.subs({e: u[e] / (1 - u[e]) for e in exps})))
    out = out.subs({1 - u[e]: sigmoid(-e.args[0]) for e in exps}).subs({u[e] - 1: -sigmoid(-e.args[0]) for e in exps})
    out = out.subs({u[e]: sig[e] for e in exps})
    if sp.simplify((out - expr).rewrite(sp.exp)) != 0:
        raise ArithmeticError(f"to_sigmoid changed the value of {expr}")
    return out


def _limit_piecewise(expr: sp.Expr) -> sp.Expr:
    """lim_{beta -> oo} of expr, separately for h > 0 and h < 0, as a Piecewise in h."""
    hp = sp.Symbol("h_p", positive=True)
    hn = sp.Symbol("h_n", negative=True)
    e = expr.rewrite(sp.exp)
    pos = sp.limit(e.subs(h, hp), beta, sp.oo).subs(hp, h)
    neg = sp.limit(e.subs(h, hn), beta, sp.oo).subs(hn, h)
    return sp.Piecewise((pos, h > 0), (neg, True))


def derivation() -> Derivation:
    d = Derivation("The max-entropy gate: from Z to ESP")
    field = w * xin + b  # h = w x + b

    # Maximum entropy over p(s), s in {0, 1}, with normalization and mean energy <-beta s h> fixed.
    entropy = -(p0 * sp.log(p0) + p1 * sp.log(p1))
    lagrangian = entropy + lam0 * (p0 + p1 - 1) + beta * (p0 * 0 * h + p1 * h)
    stationary = sp.solve([sp.diff(lagrangian, p0), sp.diff(lagrangian, p1)], [p0, p1], dict=True)[0]
    normalization = sp.solve(stationary[p0] + stationary[p1] - 1, lam0)[0]
    p_open = sp.simplify(stationary[p1].subs(lam0, normalization))
    d.add("gate_probability", "max-entropy P(s=1|h): stationary point of the Lagrangian, normalized", p_open)

    Z = sp.simplify(sum(sp.exp(beta * k * h) for k in GATE_STATES))
    if sp.simplify(p_open - sp.exp(beta * h) / Z) != 0:
        raise ArithmeticError("P(s=1|h) is not e^{beta h}/Z")
    d.add("partition_function", "Z = sum over s in {0,1} of exp(beta s h)", Z)

    logZ_b = sp.log(Z.subs(h, field))
    mean_gate = to_sigmoid(sp.simplify(sp.diff(logZ_b, b) / beta).subs(field, h))
    d.add("mean_gate", "<s> = (1/beta) d log Z / d b, with h = w x + b", mean_gate)

    mean_signal = to_sigmoid(sp.simplify(sp.diff(sp.log(Z), beta)))
    d.add("mean_signal", "<j> = <h s> = d log Z / d beta (ESP)", mean_signal)

    gradient = sp.factor(sp.diff(mean_signal, h))
    d.add("gradient", "back-propagated factor g(h) = d<j>/dh", gradient)
    d.add("beta_gradient", "d<j>/d beta", sp.factor(sp.diff(mean_signal, beta)))
    d.add("d_hh", "d^2<j>/dh^2", sp.factor(sp.diff(mean_signal, h, 2)))
    d.add("d_hbeta", "d^2<j>/dh dbeta", sp.factor(sp.diff(mean_signal, h, beta)))
    d.add("d_betabeta", "d^2<j>/dbeta^2", sp.factor(sp.diff(mean_signal, beta, 2)))

    d.add("noiseless_limit", "lim beta->oo <j>: ReLU", _limit_piecewise(mean_signal))
    d.add("noiseless_gradient", "lim beta->oo g(h): Heaviside step", _limit_piecewise(gradient))
    series = sp.series(mean_signal.rewrite(sp.exp), beta, 0, 5)
    d.add("noisy_series", "beta << 1: <j> to O(beta^5) (linear unit)", sp.expand(series.removeO()) + sp.O(beta**5))

    sigmoid_gradient = sp.factor(sp.diff(mean_gate, h))
    d.add("sigmoid_gradient", "sigmoid unit: g = d<s>/dh", sigmoid_gradient)
    d.add("sigmoid_gradient_large_field", "sigmoid unit: g for h >> 1/beta (vanishes)",
          sp.limit(sigmoid_gradient.rewrite(sp.exp), h, sp.oo))
    d.add("esp_gradient_large_field", "ESP: g for h >> 1/beta (tends to 1)", sp.limit(gradient.rewrite(sp.exp), h, sp.oo))
    return d
