"""Generate the numba kernels of the function-space theory (dense overlap maps, entropies, MAJ-k).

Run ``python -m numerics.generate`` to rewrite
``numerics/_generated/function_space.py``; a test fails when the committed file
differs from a fresh generation. Expressions in log variables (log r, log x,
log theta) are the theory's expressions with x = exp(lx) substituted, then
rewritten without cancellation: log(1 - exp(a)) -> log1mexp(a) and
log(c + w) -> log(c) + log1p(w/c) for a positive constant c.
"""

from __future__ import annotations

from pathlib import Path

import sympy as sp
from sympy.codegen.cfunctions import log1p
from sympy.printing.pycode import PythonCodePrinter

from theory import function_space as fs
from theory import majority as mj

OUTPUT = Path(__file__).parent / "_generated" / "function_space.py"

lr, lx, ly, ltheta = sp.symbols("lr lx ly ltheta", real=True)

HEADER = '''"""Kernels of the function-space theory: dense overlap maps, entropies, MAJ-k pair probabilities.

Generated from theory/function_space.py and theory/majority.py by
`python -m numerics.generate`; do not edit.
"""

import math

from numba import njit


@njit(cache=True)
def log1mexp(a):
    """log(1 - exp(a)) for a < 0, accurate for a near 0 and for a -> -oo."""
    if a > -0.6931471805599453:
        return math.log(-math.expm1(a))
    return math.log1p(-math.exp(a))
'''


class log1mexp(sp.Function):
    """log(1 - exp(a)), printed as the stable kernel of the generated header."""

    nargs = 1


class _Printer(PythonCodePrinter):
    def _print_log1mexp(self, expr):
        return f"log1mexp({self._print(expr.args[0])})"


def stable_logs(expr: sp.Expr) -> sp.Expr:
    """Rewrite log(1 - exp(a)) and log(c + w) (c > 0 constant) into cancellation-free forms."""

    def rule(e):
        arg = sp.expand(e.args[0], power_exp=False)
        const, rest = arg.as_independent(*arg.free_symbols, as_Add=True)
        if const == 0 or rest == 0:
            return e
        if const == 1 and isinstance(-rest, sp.exp):
            return log1mexp((-rest).args[0])
        if const.is_positive:
            return sp.log(const) + log1p(sp.expand(rest / const))
        return e

    return expr.replace(lambda e: isinstance(e, sp.log), rule)


def log_of_positive(expr: sp.Expr, sample: dict) -> sp.Expr:
    """log(expr) as a sum of logs of its factors, each sign-flipped to be positive at ``sample``."""
    num, den = sp.fraction(sp.factor(expr))
    out = 0
    for part, sign in ((num, 1), (den, -1)):
        for factor, power in sp.factor_list(part)[1]:
            positive = factor if factor.subs(sample) > 0 else sp.expand(-factor)
            out += sign * power * sp.log(positive)
        const = sp.factor_list(part)[0]
        out += sign * sp.log(abs(const))
    return out


def in_logs(expr: sp.Expr, subs: dict) -> sp.Expr:
    """expr with each variable replaced by exp(log variable), logs expanded and made stable."""
    out = sp.powsimp(expr.subs({var: sp.exp(lv) for var, lv in subs.items()}), deep=True)
    return stable_logs(sp.expand_log(out, force=True))


def exact_ratio(expr: sp.Expr) -> sp.Expr:
    """expr as one fraction of integer expressions (Python int / int rounds once, for any size)."""
    num, den = sp.fraction(sp.together(expr))
    return sp.Mul(num, sp.Pow(den, -1, evaluate=False), evaluate=False)


def _kernel(name: str, args: tuple, expr, doc: str, jit: bool = True) -> str:
    printer = _Printer({"fully_qualified_modules": True})
    if isinstance(expr, tuple):
        body = "(" + ", ".join(printer.doprint(e) for e in expr) + ")"
    else:
        body = printer.doprint(expr)
    lines = ["@njit(cache=True)"] if jit else []
    lines += [f"def {name}({', '.join(str(a) for a in args)}):", f'    """{doc}"""', f"    return {body}", ""]
    return "\n".join(lines)


def kernels() -> list[str]:
    r, x = fs.r, fs.x
    lead = sp.series(fs.error_step_inverse(), r, 0, 3).removeO()
    P = mj.pair_probability()
    pairs = tuple(P.subs({mj.s_hat: a, mj.s: b}) for a, b in mj.PAIR_TYPES)
    m_in, q_in = mj.effective_inputs()
    return [
        _kernel("sign_kernel", (fs.rho,), fs.sign_kernel(), "E[sgn u sgn v] = (2/pi) asin(rho) (arcsine law)."),
        _kernel("relu_overlap", (fs.rho,), fs.relu_overlap(), "Normalized ReLU overlap (arc-cosine kernel)."),
        _kernel("error_step", (r, x), fs.error_step(), "r_l = 1 - q_l from r_(l-1) and x_l = 1 - c_l (beta -> oo)."),
        _kernel("error_step_inverse", (r,), fs.error_step_inverse(), "y = A^-1(r): the x that gives error r from r_(l-1) = 0."),
        _kernel(
            "log_error_step_inverse_small",
            (lr,),
            in_logs(sp.log(lead), {r: lr}),
            "log A^-1(exp(lr)) to leading order, exact in float64 for exp(lr) < 1e-17.",
        ),
        _kernel("x_of_eta", (fs.eta,), fs.x_of_perturbation("continuous"), "x = 1 - sqrt(1 - eta^2) without cancellation."),
        _kernel("x_of_p", (fs.p,), fs.x_of_perturbation("binary"), "x = 1 - (1 - 2p) = 2p."),
        _kernel(
            "log_eta_of_log_x",
            (lx,),
            in_logs(sp.log(fs.perturbation_of_x("continuous")), {x: lx}),
            "log eta from log x (continuous weights).",
        ),
        _kernel("log_p_of_log_x", (lx,), in_logs(sp.log(fs.perturbation_of_x("binary")), {x: lx}), "log p from log x (binary weights)."),
        _kernel(
            "log_budget_x",
            (ltheta, ly),
            in_logs(log_of_positive(fs.budget_perturbation(), {fs.theta: 0.5, fs.y: 0.5}), {fs.theta: ltheta, fs.y: ly}),
            "log x_l for r_(l-1) = theta y_l, from log theta and log y_l.",
        ),
        _kernel(
            "layer_entropy_continuous",
            (lx,),
            in_logs(fs.layer_entropy("continuous"), {x: lx}),
            "log eta of one layer from log x (Eq. 9).",
        ),
        _kernel(
            "layer_entropy_binary",
            (lx,),
            in_logs(fs.layer_entropy("binary"), {x: lx}),
            "H2(p) of one layer from log x, p = x/2 (Eq. 12).",
        ),
        _kernel("majority_effective_inputs", (mj.m, mj.q, mj.p), (m_in, q_in), "(<w s>, <s^ w s>) after flips with probability p."),
        _kernel(
            "majority_pair_probabilities",
            (mj.m_hat, mj.m_eff, mj.q_eff),
            pairs,
            "P(s^, s) for (s^, s) = (+,+), (+,-), (-,+), (-,-).",
        ),
        _kernel("majority_slope", (mj.n,), exact_ratio(mj.slope_at_zero()), "M_k'(0) for k = 2n + 1 (exact integers).", jit=False),
        _kernel("majority_critical_perturbation", (mj.n,), exact_ratio(mj.critical_perturbation()), "p_c for k = 2n + 1.", jit=False),
    ]


def scaling_table() -> str:
    """ACTIVATION_SCALING[name] = (k, m) of theory.function_space.activation_scaling."""
    from theory.activations import REGISTRY

    rows = "".join(f"    {name!r}: {fs.activation_scaling(name)!r},\n" for name in REGISTRY)
    doc = "# (k, m): phi(s h, beta) = s^k phi(h, s beta); phi(h, b) ~ b^m as b -> 0\n"
    return doc + "ACTIVATION_SCALING = {\n" + rows + "}\n"


def generate() -> str:
    return HEADER + "\n" + scaling_table() + "\n\n" + "\n\n".join(kernels()).rstrip() + "\n"
