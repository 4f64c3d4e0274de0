"""Activation registry: one sympy expression per unit, in the field h and inverse temperature beta.

Adding an activation is one entry of :data:`REGISTRY`; its derivatives
(:func:`derivatives`), generated kernels, verification rows and CLI entries
follow from it.
"""

from __future__ import annotations

import math

import sympy as sp

from theory.derivation import Derivation

h = sp.Symbol("h", real=True)
beta = sp.Symbol("beta", real=True)


class _PositiveOfReal(sp.Function):
    """A function that is real and positive wherever its argument is real (sigmoid, softplus, Phi)."""

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        if self.args[0].is_real:
            return True


class sigmoid(_PositiveOfReal):
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


def _derivative(f: sp.Expr, nh: int, nb: int) -> sp.Expr:
    """d^(nh + nb) f / dh^nh dbeta^nb."""
    if nh:
        f = sp.diff(f, h, nh)
    if nb:
        f = sp.diff(f, beta, nb)
    return f


def derivatives(name: str) -> dict[str, sp.Expr]:
    """Value and first and second derivatives in h and beta, as sympy expressions."""
    f = expression(name)
    out = {}
    for key, nh, nb in DERIVATIVES:
        out[key] = sp.factor_terms(sp.expand(_derivative(f, nh, nb)))
    return out


def derivation() -> Derivation:
    """Value, gradient and beta-gradient of every registered activation."""
    d = Derivation("Activation registry: phi(h, beta) and its derivatives")
    for name in REGISTRY:
        for key, expr in derivatives(name).items():
            d.add(f"{name}.{key}", f"{name}: {key}", expr)
    return d


# ---- user expressions -------------------------------------------------------------------------
#
# A user activation is one expression in h and beta, parsed from text by an explicit whitelist
# (the syntax tree is walked and rebuilt in sympy; the text is never evaluated). The functions
# below carry derivatives that stay in closed, numerically stable families: the derivative of
# softplus is the logistic, of the Gaussian CDF its density, of tanh the squared secant.


class softplus(_PositiveOfReal):
    """log(1 + exp(x)), with softplus'(x) = sigma(x)."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))


class Phi(_PositiveOfReal):
    """Gaussian CDF Phi(x) = erfc(-x/sqrt 2)/2, with Phi'(x) = exp(-x^2/2)/sqrt(2 pi)."""

    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.Rational(1, 2)

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.erfc(-x / sp.sqrt(2)) / 2


class sech2(sp.Function):
    """1/cosh(x)^2 = 1 - tanh(x)^2 (without the cancellation), with sech2'(x) = -2 tanh(x) sech2(x)."""

    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return -2 * stanh(x) * sech2(x)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 4 / (sp.exp(x) + sp.exp(-x)) ** 2

    def _eval_is_real(self):
        return self.args[0].is_real


class stanh(sp.Function):
    """tanh(x), with the derivative sech2(x) rather than sympy's 1 - tanh(x)^2."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sech2(self.args[0])

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.Integer(0)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sp.tanh(x).rewrite(sp.exp)

    def _eval_is_real(self):
        return self.args[0].is_real


# Function names a user expression may call, with their arity (None: any number >= 2).
FUNCTIONS = {
    "exp": (sp.exp, 1), "log": (sp.log, 1), "sqrt": (sp.sqrt, 1), "tanh": (sp.tanh, 1),
    "sinh": (sp.sinh, 1), "cosh": (sp.cosh, 1), "sin": (sp.sin, 1), "cos": (sp.cos, 1), "atan": (sp.atan, 1),
    "erf": (sp.erf, 1), "erfc": (sp.erfc, 1), "Phi": (Phi, 1), "sigmoid": (sigmoid, 1), "softplus": (softplus, 1),
    "abs": (sp.Abs, 1), "Abs": (sp.Abs, 1), "sign": (sp.sign, 1), "Heaviside": (sp.Heaviside, 1),
    "max": (sp.Max, None), "Max": (sp.Max, None), "min": (sp.Min, None), "Min": (sp.Min, None),
    "Piecewise": (sp.Piecewise, None),
}
CONSTANTS = {"h": h, "beta": beta, "pi": sp.pi, "E": sp.E}
MAX_LENGTH = 2000  # characters of an expression
MAX_EXPONENT = 64  # largest |numeric exponent| of a power
_FUNCTION_CLASSES = {f for f, _ in FUNCTIONS.values()} | {sech2, stanh, sp.DiracDelta}


def parse(text: str) -> sp.Expr:
    """The expression of ``text`` in h and beta: numbers, + - * / **, the names h, beta, pi, E and the
    functions of :data:`FUNCTIONS` (``Piecewise((value, condition), ...)`` with comparisons and True).

    The text is parsed to a Python syntax tree and rebuilt node by node in sympy from this
    whitelist; it is never evaluated. Anything else raises ValueError naming what is refused.
    """
    tree = _syntax_tree(text)
    try:
        expr = _Rebuild(text).node(tree)
    except (TypeError, AttributeError, RecursionError) as exc:  # sympy refusing a combination, e.g. Piecewise
        raise ValueError(f"expr {text!r} is not a valid expression: {exc}") from None
    return check_expression(expr)


def _syntax_tree(text: str):
    """The Python syntax tree (``ast.Expression``) of ``text``, a str of at most MAX_LENGTH characters."""
    import ast

    if not isinstance(text, str):
        raise TypeError(f"expr must be a str or a sympy expression, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"expr is {len(text)} characters long; at most {MAX_LENGTH} are allowed")
    try:
        return ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise ValueError(f"expr {text!r} is not a valid expression: {exc.msg if isinstance(exc, SyntaxError) else exc}") from None


class _Rebuild:
    """Rebuilds a syntax tree in sympy, node by node, from the whitelist of :func:`parse`; refuses anything else."""

    def __init__(self, text: str):
        import ast

        self.ast = ast
        self.text = text
        self.ops = {ast.Add: sp.Add, ast.Sub: lambda a, b: a - b, ast.Mult: sp.Mul, ast.Div: lambda a, b: a / b}
        self.compares = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge}

    def refuse(self, what):
        raise ValueError(f"expr {self.text!r}: {what} is not allowed (allowed: numbers, + - * / **, h, beta, pi, E, "
                         f"and the functions {', '.join(sorted(set(FUNCTIONS)))})")

    def node(self, node, depth=0):
        ast = self.ast
        if depth > 100:
            self.refuse("nesting deeper than 100 levels")
        if isinstance(node, ast.Expression):
            return self.node(node.body, depth + 1)
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            if node.id not in CONSTANTS:
                self.refuse(f"the name {node.id!r}")
            return CONSTANTS[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.node(node.operand, depth + 1)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        self.refuse(f"{type(node).__name__} ({ast.unparse(node)!r})")

    def constant(self, v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.refuse(f"the constant {v!r}")
        if isinstance(v, float) and not math.isfinite(v):
            self.refuse(f"the non-finite constant {v!r}")
        return sp.Integer(v) if isinstance(v, int) else sp.Float(repr(v), 17)

    def binary(self, node, depth):
        ast = self.ast
        if isinstance(node.op, ast.BitXor):
            self.refuse("'^' (write powers as **)")
        if isinstance(node.op, ast.Pow):
            base, exponent = self.node(node.left, depth + 1), self.node(node.right, depth + 1)
            if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
                self.refuse(f"the exponent {exponent} (|exponent| <= {MAX_EXPONENT})")
            return base ** exponent
        if type(node.op) not in self.ops:
            self.refuse(f"the operator {type(node.op).__name__}")
        return self.ops[type(node.op)](self.node(node.left, depth + 1), self.node(node.right, depth + 1))

    def call(self, node, depth):
        ast = self.ast
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            self.refuse(f"the function {what!r}")
        if node.keywords:
            self.refuse(f"keyword arguments of {node.func.id}")
        func, arity = FUNCTIONS[node.func.id]
        if func is sp.Piecewise:
            pieces = [self.piece(a, depth) for a in node.args]
            if not pieces or pieces[-1][1] is not sp.true:
                self.refuse("a Piecewise whose last condition is not True (it must define every h)")
            return sp.Piecewise(*pieces)
        args = [self.node(a, depth + 1) for a in node.args]
        if (arity is None and len(args) < 2) or (arity is not None and len(args) != arity):
            self.refuse(f"{node.func.id} with {len(args)} arguments")
        return func(*args)

    def piece(self, node, depth):
        if not isinstance(node, self.ast.Tuple) or len(node.elts) != 2:
            self.refuse("a Piecewise argument that is not a pair (value, condition)")
        return self.node(node.elts[0], depth + 1), self.condition(node.elts[1], depth + 1)

    def condition(self, node, depth):
        ast = self.ast
        if isinstance(node, ast.Constant) and node.value is True:
            return sp.true
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in self.compares:
            return self.compares[type(node.ops[0])](self.node(node.left, depth + 1), self.node(node.comparators[0], depth + 1))
        self.refuse(f"the condition {ast.unparse(node)!r} (a comparison <, <=, >, >= or True)")


def check_expression(expr) -> sp.Expr:
    """``expr`` with its symbols named h and beta replaced by the theory's, after checking that it holds only
    those symbols, finite constants and the whitelisted functions; ValueError otherwise."""
    if isinstance(expr, str):
        return parse(expr)
    if not isinstance(expr, sp.Expr):
        raise TypeError(f"expr must be a str or a sympy expression, got {type(expr).__name__}")
    names = {s.name: s for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    other = sorted(n for n in names if n not in ("h", "beta"))
    if other or len(names) != len(expr.free_symbols):
        raise ValueError(f"expr {sp.sstr(expr)!r} has free symbols {', '.join(other) or 'other than symbols'}; only h and beta are allowed")
    expr = expr.xreplace({s: CONSTANTS[n] for n, s in names.items()})
    if expr.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or not all(a.is_finite and math.isfinite(float(a)) for a in expr.atoms(sp.Number)):
        raise ValueError(f"expr {sp.sstr(expr)!r} holds a non-finite constant")
    if expr.has(sp.I) or any(a.is_real is False for a in expr.atoms(sp.Number)):
        raise ValueError(f"expr {sp.sstr(expr)!r} is not real")
    for f in expr.atoms(sp.Function):
        if type(f) not in _FUNCTION_CLASSES:
            raise ValueError(f"expr {sp.sstr(expr)!r}: the function {type(f).__name__} is not allowed")
    for node in sp.preorder_traversal(expr):
        if not isinstance(node, (sp.Expr, sp.logic.boolalg.Boolean, sp.core.relational.Relational, sp.Tuple)) and not isinstance(
            node, sp.functions.elementary.piecewise.ExprCondPair
        ):
            raise ValueError(f"expr {sp.sstr(expr)!r}: {type(node).__name__} is not allowed")
    return expr


def _rewrite_stable(expr: sp.Expr) -> sp.Expr:
    """The same function with derivatives in stable families: tanh -> stanh (derivative sech2, no
    1 - tanh^2); erf(u) -> 2 Phi(sqrt2 u) - 1, erfc(u) -> 2 Phi(-sqrt2 u), and c - c Phi(v) -> c Phi(-v)
    (no cancellation of 1 +- erf in the tails), 2 Phi(v) - 1 -> erf(v/sqrt2) (none at 0)."""
    expr = expr.replace(sp.tanh, stanh)
    expr = expr.replace(sp.erf, lambda u: 2 * Phi(sp.sqrt(2) * u) - 1)
    expr = expr.replace(sp.erfc, lambda u: 2 * Phi(-sp.sqrt(2) * u))

    def complement(e):
        const, terms = e.as_coeff_Add()
        if const == 0:
            return e
        for term in sp.Add.make_args(terms):
            c, rest = term.as_coeff_Mul()
            if isinstance(rest, Phi) and c == -const:
                return e - const - term + const * Phi(-rest.args[0])
            if isinstance(rest, Phi) and c == -2 * const:  # 2 Phi(v) - 1 = erf(v / sqrt2): no cancellation at 0
                return e - const - term - const * sp.erf(rest.args[0] / sp.sqrt(2))
        return e

    return expr.replace(lambda e: e.is_Add, complement)


def user_derivatives(expr: sp.Expr, stable: bool) -> dict[str, sp.Expr]:
    """Value and first and second derivatives of a user expression: with ``stable`` False as for the
    registry (expanded; the sigmoid/tanh product forms), else in the stable families, not expanded."""
    f = _rewrite_stable(expr) if stable else expr
    out = {}
    for key, nh, nb in DERIVATIVES:
        d = _derivative(f, nh, nb).replace(sp.DiracDelta, lambda *a: sp.Integer(0))  # zero except on a set of measure zero
        out[key] = sp.factor_terms(d) if stable else sp.factor_terms(sp.expand(d))
    return out


def mpmath_functions() -> dict:
    """mpmath implementations of the functions above, for sympy.lambdify."""
    import mpmath

    def ncdf(z):
        """mpmath.ncdf below |z| = 50; beyond (where mpmath.ncdf is slow at high precision and fails past
        |z| ~ 1e8) the tail series e^(-z^2/2)/(|z| sqrt(2 pi)) sum_k (-1)^k (2k-1)!!/z^2k (A&S 26.2.12),
        60 terms: relative error below 1e-100."""
        if abs(z) < 50:
            return mpmath.ncdf(z)
        w = 1 / (z * z)
        term, total = mpmath.mpf(1), mpmath.mpf(1)
        for k in range(1, 61):
            term *= -(2 * k - 1) * w
            total += term
        tail = mpmath.exp(-z * z / 2) / (abs(z) * mpmath.sqrt(2 * mpmath.pi)) * total
        return 1 - tail if z > 0 else tail

    return {
        "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)),
        "softplus": lambda z: mpmath.log1p(mpmath.exp(z)) if z < 0 else z + mpmath.log1p(mpmath.exp(-z)),
        "Phi": ncdf,
        "stanh": mpmath.tanh,
        "sech2": lambda z: mpmath.sech(z) ** 2,
        "DiracDelta": lambda z: 0,
    }
