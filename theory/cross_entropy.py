"""Cross-entropy loss from a saddle point over Lagrange multipliers (Milletari et al., appendix A).

For one example with Bernoulli output probability q and label y, the
characteristic function gives the exponent (Eq. 14, per example)

    S(lambda) = i lambda y + log(q e^{-i lambda} + 1 - q).

With u = e^{-i lambda}, sympy solves dS/du = 0 and substitutes back:

    S(lambda_c) = y log q + (1 - y) log(1 - q) - [y log y + (1 - y) log(1 - y)],

the negative cross-entropy up to a constant depending only on y (the binary
entropy of y, zero for y in {0, 1}); the loss is L = -S(lambda_c).
"""

from __future__ import annotations

import sympy as sp

from theory.derivation import Derivation

lam = sp.Symbol("lambda", real=True)
y = sp.Symbol("y", positive=True)  # 0 < y < 1 here; y in {0, 1} is the limit
q = sp.Symbol("q", positive=True)
u = sp.Symbol("u", positive=True)  # u = exp(-i lambda) at the saddle
# 1 - q and 1 - y, positive: lets sympy split logarithms on the right branch
q_bar = sp.Symbol("qbar", positive=True)
y_bar = sp.Symbol("ybar", positive=True)


def derivation() -> Derivation:
    d = Derivation("Cross-entropy loss from the saddle point over Lagrange multipliers")
    exponent = d.add("exponent", "S(lambda) = i lambda y + log(q e^{-i lambda} + 1 - q)",
                     sp.I * lam * y + sp.log(q * sp.exp(-sp.I * lam) + 1 - q))
    in_u = sp.expand_log(exponent.subs(sp.exp(-sp.I * lam), u).subs(lam, sp.I * sp.log(u)), force=True)
    d.add("exponent_u", "the same with u = exp(-i lambda)", in_u)
    u_c = d.add("saddle", "dS/du = 0 solved for u", sp.factor(sp.solve(sp.diff(in_u, u), u)[0]))
    d.add("lambda_saddle", "lambda_c = i log u_c", sp.I * sp.log(u_c))
    # substitute back with 1 - q = qbar, 1 - y = ybar (both positive), split the logs, restore
    bars = {q: 1 - q_bar, y: 1 - y_bar}
    at_saddle = sp.simplify(in_u.subs(u, u_c).subs(bars))
    s_c = sp.expand_log(sp.factor(at_saddle), force=True).subs({q_bar: 1 - q, y_bar: 1 - y})
    s_c = d.add("exponent_at_saddle", "S(lambda_c)", sp.collect(sp.expand(s_c), [sp.log(q), sp.log(1 - q)]))
    constant = -(y * sp.log(y) + (1 - y) * sp.log(1 - y))
    loss = sp.simplify(-(s_c - constant))
    d.add("label_entropy", "the y-only constant: the binary entropy of y (0 for y in {0, 1})", constant)
    d.add("loss", "L = -[S(lambda_c) - constant]: the binary cross-entropy", loss)
    return d
