"""Cross-entropy loss from a saddle point over Lagrange multipliers (Milletari et al., appendix A).

For one example with Bernoulli output probability q and label y, the
characteristic function gives the exponent (Eq. 14, per example)

    S(lambda) = i lambda y + log(q e^{-i lambda} + 1 - q).

With u = e^{-i lambda}, sympy solves dS/du = 0 and substitutes back:

    S(lambda_c) = y log q + (1 - y) log(1 - q) - [y log y + (1 - y) log(1 - y)],

the negative cross-entropy up to a constant depending only on y (the binary
entropy of y, zero for y in {0, 1}); the loss is L = -S(lambda_c).

The network's output layers follow, as functions of the output field z
(z = beta h): the sigmoid output q = sigma(z) in that loss, the softmax output
with the multi-class cross-entropy log sum_k e^{z_k} - sum_j y_j z_j (labels
summing to 1; three classes stand for any number), and the linear output with
the squared error (z - y)^2 / 2; sympy differentiates each loss once and twice
in z. The ``*.stable`` steps write each again in quantities a kernel holds
without cancellation (sigma(+-z), softplus(+-z), p_j and the sum of the other
probabilities), with residuals that sympy reduces to 0; numerics._generated.output
is generated from them.
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
z = sp.Symbol("z", real=True)  # output field of a sigmoid or linear unit
zs = sp.symbols("z0:3", real=True)  # softmax output fields
ys = sp.symbols("y0:3", nonnegative=True)  # softmax labels, summing to 1


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
    _output_layers(d, loss)
    _stable_forms(d)
    return d


def _output_layers(d: Derivation, loss: sp.Expr) -> None:
    """Loss, dl/dz and d2l/dz2 of the sigmoid, softmax and linear outputs, each in its output field z."""
    sigmoid_loss = d.add("sigmoid.loss", "binary cross-entropy at q = sigma(z)", loss.subs(q, 1 / (1 + sp.exp(-z))))
    sigmoid_gradient = d.add("sigmoid.dl_dz", "dl/dz (= sigma(z) - y)", sp.simplify(sp.diff(sigmoid_loss, z)))
    d.add("sigmoid.d2l_dz2", "d2l/dz2 (= sigma(z) sigma(-z))", sp.simplify(sp.diff(sigmoid_gradient, z)))
    labels = {ys[-1]: 1 - sum(ys[:-1])}
    softmax_loss = d.add("softmax.loss", "cross-entropy log sum_k e^{z_k} - sum_j y_j z_j, sum_j y_j = 1",
                         (sp.log(sum(sp.exp(zk) for zk in zs)) - sum(yj * zj for yj, zj in zip(ys, zs))).subs(labels))
    gradient = sp.Matrix([sp.simplify(sp.diff(softmax_loss, zj)) for zj in zs])
    d.add("softmax.dl_dz", "dl/dz_j (= p_j - y_j)", gradient.subs({v: k for k, v in labels.items()}))
    d.add("softmax.d2l_dz2", "d2l/dz_j dz_k (= p_j delta_jk - p_j p_k)",
          sp.Matrix(3, 3, lambda j, k: sp.simplify(sp.diff(gradient[j], zs[k]))))
    linear_loss = d.add("linear.loss", "squared error (z - y)^2 / 2", (z - y) ** 2 / 2)
    linear_gradient = d.add("linear.dl_dz", "dl/dz", sp.diff(linear_loss, z))
    d.add("linear.d2l_dz2", "d2l/dz2", sp.diff(linear_gradient, z))


# The quantities the output kernels hold, each without cancellation (numerics.mlp.engine):
sigma_z, sigma_minus_z = sp.symbols("sigma_z sigma_minus_z", positive=True)  # sigma(z) and sigma(-z) = 1 - sigma(z)
softplus_z, softplus_minus_z = sp.symbols("softplus_z softplus_minus_z", positive=True)  # log(1 + e^{+-z})
p, others, p_other = sp.symbols("p others p_other", positive=True)  # p_j, sum_{k != j} p_k = 1 - p_j, p_k (k != j)
gap, log_sum = sp.symbols("gap log_sum", nonnegative=True)  # z_max - z_j and log sum_k e^{z_k - z_max}
SIGMOID_PARTS = {sigma_z: 1 / (1 + sp.exp(-z)), sigma_minus_z: 1 / (1 + sp.exp(z)),
                 softplus_z: sp.log(1 + sp.exp(z)), softplus_minus_z: sp.log(1 + sp.exp(-z))}


def _stable_forms(d: Derivation) -> None:
    """The output layers' loss, dl/dz and d2l/dz2 (keys ``*.stable``) in the quantities the kernels hold, each
    a sum or product of nonnegative terms for labels in {0, 1}; every residual against the forms above is 0."""
    forms = {
        "sigmoid.loss": ("y softplus(-z) + (1 - y) softplus(z)", y * softplus_minus_z + (1 - y) * softplus_z),
        "sigmoid.dl_dz": ("dl/dz = (1 - y) sigma(z) - y sigma(-z)", (1 - y) * sigma_z - y * sigma_minus_z),
        "sigmoid.d2l_dz2": ("d2l/dz2 = sigma(z) sigma(-z)", sigma_z * sigma_minus_z),
    }
    for key, (description, form) in forms.items():
        d.add(f"{key}.stable", description, form)
        d.add(f"{key}.residual", f"minus {key}: 0",
              sp.simplify(sp.expand_log(form.subs(SIGMOID_PARTS) - d[key], force=True)))
    total = sum(sp.exp(zk) for zk in zs)
    probabilities = [sp.exp(zj) / total for zj in zs]
    m = sp.Symbol("m", real=True)  # any shift, z_max in the kernels
    loss_terms = sum(yj * (m - zj + sp.log(sum(sp.exp(zk - m) for zk in zs))) for yj, zj in zip(ys, zs))
    d.add("softmax.loss_term.stable", "y_j (gap_j + log_sum): the loss is their sum over j", y * (gap + log_sum))
    d.add("softmax.loss.residual", "sum_j y_j (z_m - z_j + log sum_k e^{z_k - z_m}) minus the loss, sum_j y_j = 1: 0",
          sp.simplify(sp.expand_log(loss_terms.subs(ys[-1], 1 - sum(ys[:-1])) - d["softmax.loss"], force=True)))
    gradient = d.add("softmax.dl_dz.stable", "dl/dz_j in p_j and the others' sum", (1 - y) * p - y * others)
    diagonal = d.add("softmax.d2l_dz2.stable", "d2l/dz_j^2 in p_j and the others' sum", p * others)
    pair = d.add("softmax.d2l_dz2.pair.stable", "d2l/dz_j dz_k, k != j", -p * p_other)
    first = {p: probabilities[0], others: probabilities[1] + probabilities[2], p_other: probabilities[1], y: ys[0]}
    d.add("softmax.residual", "the three forms at j = 0, k = 1 minus the entries of softmax.dl_dz, softmax.d2l_dz2: 0",
          sp.Tuple(*(sp.simplify(form.subs(first) - entry) for form, entry in (
              (gradient, d["softmax.dl_dz"][0]), (diagonal, d["softmax.d2l_dz2"][0, 0]),
              (pair, d["softmax.d2l_dz2"][0, 1])))))
