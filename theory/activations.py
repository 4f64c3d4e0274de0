"""Activation registry: one sympy expression per unit, in the field h and inverse temperature beta.

Adding an activation is one entry of :data:`REGISTRY`; its derivatives
(:func:`derivatives`), generated kernels, verification rows and CLI entries
follow from it.
"""

from __future__ import annotations

import sympy as sp

from theory.derivation import Derivation

h = sp.Symbol("h", real=True)
beta = sp.Symbol("beta", real=True)


class sigmoid(sp.Function):
    """Logistic function sigma(x) = 1 / (1 + exp(-x)), with sigma'(x) = sigma(x) sigma(-x)."""

    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sigmoid(x) * sigmoid(-x)

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.Rational(1, 2)
        if x is sp.oo:
            return sp.Integer(1)
        if x is sp.S.NegativeInfinity:
            return sp.Integer(0)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        if self.args[0].is_real:
            return True

    def _mpmath_(self, prec):
        import mpmath

        with mpmath.workprec(prec):
            x = self.args[0]._to_mpmath(prec)
            return 1 / (1 + mpmath.exp(-x))


REGISTRY: dict[str, sp.Expr] = {
    # Expected signal propagation <j> = h sigma(beta h) (Milletari et al., Eq. 6); Swish.
    "esp": h * sigmoid(beta * h),
    # Mean gate <s> = sigma(beta h) (Eq. 5).
    "sigmoid": sigmoid(beta * h),
    # tanh(beta h) = 2 sigma(2 beta h) - 1.
    "tanh": sp.tanh(beta * h),
    # Noiseless limit of ESP (Eq. 7); does not depend on beta.
    "relu": sp.Piecewise((h, h > 0), (0, True)),
    # Noisy (beta << 1) limit of ESP up to scale; does not depend on beta.
    "linear": h,
}

# Derivative names, as (name, order in h, order in beta).
DERIVATIVES = (
    ("value", 0, 0),
    ("d_h", 1, 0),
    ("d_beta", 0, 1),
    ("d_hh", 2, 0),
    ("d_hbeta", 1, 1),
    ("d_betabeta", 0, 2),
)


def expression(name: str) -> sp.Expr:
    """The registered sympy expression of activation ``name``."""
    if name not in REGISTRY:
        raise ValueError(f"activation {name!r} is not known; known activations: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def derivatives(name: str) -> dict[str, sp.Expr]:
    """Value and first and second derivatives in h and beta, as sympy expressions."""
    f = expression(name)
    out = {}
    for key, nh, nb in DERIVATIVES:
        d = f
        if nh:
            d = sp.diff(d, h, nh)
        if nb:
            d = sp.diff(d, beta, nb)
        out[key] = sp.factor_terms(sp.expand(d))
    return out


def derivation() -> Derivation:
    """Value, gradient and beta-gradient of every registered activation."""
    d = Derivation("Activation registry: phi(h, beta) and its derivatives")
    for name in REGISTRY:
        for key, expr in derivatives(name).items():
            d.add(f"{name}.{key}", f"{name}: {key}", expr)
    return d
