"""Generate the kernels and equations of the function-space theory (dense overlap maps, entropies,
the annealed objective, MAJ-k, and the signal-propagation maps).

Run ``python -m numerics.codegen`` to rewrite
``numerics/_generated/function_space.py``; a test fails when the committed file
differs from a fresh generation. Expressions in log variables (log r, log x,
log theta) are the theory's expressions with x = exp(lx) substituted, then
rewritten without cancellation: log(1 - exp(a)) -> log1mexp(a) and
log(c + w) -> log(c) + log1p(w/c) for a positive constant c. The variance map
and chi_1 of theory.propagation take their Gaussian average as an argument, and
the MAJ-k stationary equations their integrals; the integrands of those integrals
are emitted vectorized (numpy), each power b^n as exp(n log b) without
cancellation (:func:`without_cancellation`).
"""

from __future__ import annotations

from pathlib import Path

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from numerics.codegen.emit import banner, check_arguments, function_source
from theory import function_space as fs
from theory import majority as mj
from theory import propagation as tp

OUTPUT = Path(__file__).parents[1] / "_generated" / "function_space.py"

lr, lx, ly, ltheta = sp.symbols("lr lx ly ltheta", real=True)

LOG1MEXP = '''
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


def _kernel(name: str, args: tuple, expr, doc: str, jit: bool = True, cse: bool = False) -> str:
    check_arguments(name, expr, args)
    return function_source(name, args, expr, doc, _Printer({"fully_qualified_modules": True}), cse=cse,
                           decorator="@njit(cache=True)" if jit else None)


def without_cancellation(expr: sp.Expr, sample: dict) -> sp.Expr:
    """Each power b^e with a symbolic exponent as exp(e log b), then 1 - exp(a) as -expm1(a).

    log b is log1p(b - 1) when b = 1 + w (so (1 - t^2)^n keeps its precision at small t), otherwise the
    sum of the logs of b's factors, each made positive at ``sample`` (v (2 - v) -> log v + log(2 - v)).
    """
    def power(e):
        base = sp.expand(e.base)
        const, rest = base.as_independent(*base.free_symbols, as_Add=True)
        return sp.exp(e.exp * (log1p(rest) if const == 1 else log_of_positive(base, sample)))

    def one_minus_exp(e):
        const, rest = e.as_independent(*e.free_symbols, as_Add=True)
        return -expm1((-rest).args[0]) if const == 1 and isinstance(-rest, sp.exp) else e

    out = expr.replace(lambda e: isinstance(e, sp.Pow) and not e.exp.is_number, power)
    return out.replace(lambda e: isinstance(e, sp.Add), one_minus_exp)


def integrals_as_arguments(equation: sp.Eq, names: dict[str, sp.Expr]) -> sp.Eq:
    """``equation`` with each theory integral (or mean) in ``names`` replaced by the argument named for it."""
    out = equation.xreplace({integral: sp.Symbol(name, real=True) for name, integral in names.items()})
    if out.atoms(sp.Integral):
        raise ValueError(f"no argument declared for {out.atoms(sp.Integral)}")
    return out


def integrand_of(integral_or_mean: sp.Expr) -> tuple[sp.Expr, sp.Symbol]:
    """(f, t) of the one integral int f dt in a theory integral or mean."""
    (integral,) = integral_or_mean.atoms(sp.Integral)
    return integral.function, integral.variables[0]


# argument of a MAJ-k stationary equation: (the theory integral or mean it stands for, the generated integrand)
MAJORITY_INTEGRALS = {
    "mean_deficit": (mj.deficit_mean(), "majority_deficit_integrand"),
    "integral_complement": (mj.complement_integral(), "majority_complement_integrand"),
}


def majority_equation(equation: sp.Eq) -> sp.Eq:
    """A MAJ-k stationary equation with its integral (or mean) an argument."""
    return integrals_as_arguments(equation, {name: integral for name, (integral, _) in MAJORITY_INTEGRALS.items()})


def integrands() -> list[str]:
    """Integrands of the MAJ-k stationary equations, vectorized over numpy arrays of quadrature nodes."""
    printer = NumPyPrinter({"fully_qualified_modules": True})
    out = []
    for integral, name in MAJORITY_INTEGRALS.values():
        f, var = integrand_of(integral)
        expr = without_cancellation(f, {var: sp.Rational(1, 2)})
        check_arguments(name, expr, (var, mj.n))
        out.append(function_source(name, (var, mj.n), expr, f"{f} (theory.majority) at every {var} of an array.", printer))
    return out


def gaussian_averages_as(expr: sp.Expr, name: str) -> sp.Expr:
    """expr with its Gaussian integral (one, over z) replaced by the argument ``name``."""
    integrals = expr.atoms(sp.Integral)
    if len(integrals) != 1:
        raise ValueError(f"expected one Gaussian average in {expr}")
    return expr.xreplace({integrals.pop(): sp.Symbol(name, nonnegative=True)})


def propagation_map(which, average: str) -> sp.Expr:
    """theory.propagation's map (variance map or chi_1) with its average an argument: one form for every activation."""
    from theory.activations import REGISTRY

    forms = {gaussian_averages_as(which(name), average) for name in REGISTRY}
    if len(forms) != 1:
        raise ArithmeticError(f"{which.__name__} does not have one form for every activation: {forms}")
    return forms.pop()


def equations() -> list[str]:
    """Scalar equations the solvers call with their own averages and errors (plain Python, not jitted)."""
    L = sp.Symbol("L", positive=True, integer=True)
    S, alpha, eps = sp.Symbol("S", real=True), fs.alpha, fs.epsilon
    objective = fs.annealed_objective()
    return [
        _kernel("propagation_variance_map", (tp.sigma_w, tp.sigma_b, "mean_phi_squared"),
                propagation_map(tp.variance_map, "mean_phi_squared"),
                "q_l = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2; mean_phi_squared = E[phi(sqrt(q) z)^2] "
                "(theory.propagation).", jit=False),
        _kernel("propagation_chi1", (tp.sigma_w, "mean_dphi_squared"), propagation_map(tp.chi1, "mean_dphi_squared"),
                "chi_1 = sigma_w^2 E[phi'(sqrt(q) z)^2]; mean_dphi_squared = E[phi'(sqrt(q) z)^2] (theory.propagation).",
                jit=False),
        _kernel("entropy_growth_exponent", (L,), fs.entropy_growth_exponent(),
                "K(L) = (2^L - 1)/L: S_con ~ K log(epsilon) as epsilon -> 0.", jit=False),
        _kernel("annealed_objective", (S, alpha, eps), stable_logs(objective),
                "S(eps) + alpha log(1 - eps), maximized by the annealed error eps* (Li & Saad).", jit=False),
        _kernel("annealed_objective_of_log_error", (S, alpha, lr), in_logs(objective.subs(eps, fs.r / 2), {fs.r: lr}),
                "The annealed objective in log r_L = log(2 eps).", jit=False),
        _kernel("majority_small_m_residual", ("mean_deficit", mj.p, mj.p_c),
                majority_equation(mj.small_m_equation()),
                "MAJ-k stationary state for small m: <1 - (1 - t^2)^n>_[0, X] = 2 (p_c - p)/(1 - 2p), X = (1-2p) m; "
                "mean_deficit = the mean of majority_deficit_integrand over [0, X] (theory.majority).", jit=False),
        _kernel("majority_complement_limit", (mj.u, mj.p), mj.complement_limit(),
                "w = 1 - (1-2p)(1 - u), the upper limit of the complement integral at m = 1 - u.", jit=False),
        _kernel("majority_complement_residual", ("integral_complement", mj.u, mj.slope),
                majority_equation(mj.complement_equation()),
                "MAJ-k stationary state for u = 1 - m: M_k'(0) int_0^w (v (2 - v))^n dv = u; integral_complement = "
                "the integral of majority_complement_integrand over [0, majority_complement_limit(u, p)] (theory.majority).",
                jit=False),
    ]


def kernels() -> list[str]:
    r, x = fs.r, fs.x
    lead = sp.series(fs.error_step_inverse(), r, 0, 3).removeO()
    P = mj.pair_probability()
    pairs = tuple(P.subs({mj.s_hat: a, mj.s: b}) for a, b in mj.PAIR_TYPES)
    m_in, q_in = mj.effective_inputs()
    return [
        _kernel("tanh_pair_sum", (sp.Symbol("A", real=True), sp.Symbol("D", real=True)), fs.tanh_pair_scaled(),
                "tanh(A + D) + tanh(A - D) = 2 sinh(2A) / (cosh 2A + cosh 2D), scaled so nothing overflows.", cse=True),
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


def without_repeats(sources: list[str]) -> list[str]:
    """Each function body emitted once: a function whose decorator, arguments and body repeat an earlier
    one's becomes an alias of it (one theory result reached two ways, e.g. log eta and the layer entropy)."""
    first, out = {}, []
    for src in sources:
        lines = src.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("def "))
        name, args = lines[at][4:].split("(", 1)
        doc_end = next(i for i in range(at + 1, len(lines)) if lines[i].rstrip().endswith('"""'))
        key = (tuple(lines[:at]), args, tuple(lines[doc_end + 1:]))
        if key in first:
            doc = lines[at + 1].strip().strip('"')
            out.append(f"{name} = {first[key]}  # {doc}\n")
        else:
            first[key] = name
            out.append(src)
    return out


def generate() -> str:
    head = banner("Kernels of the function-space theory: dense overlap maps, entropies, MAJ-k pair probabilities;\n"
                  "the annealed objective, the MAJ-k stationary equations and the signal-propagation maps.",
                  ("theory/function_space.py", "theory/majority.py", "theory/propagation.py"),
                  ("import math", "", "import numpy", "from numba import njit", ""))
    functions = without_repeats(kernels() + integrands() + equations())
    return head + LOG1MEXP + "\n" + scaling_table() + "\n\n" + "\n\n".join(functions).rstrip() + "\n"
