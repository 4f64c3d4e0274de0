"""Generate numerics/_generated/storage.py from theory/storage.py.

Run ``python -m numerics.codegen``; a test fails when the committed
file differs from a fresh generation. Two kinds of functions:

* integrands (``KERNELS``), vectorized over the Gaussian variable: theory steps
  printed as numpy code, with the Gaussian-tail functions of the theory (H,
  ln H, the inverse Mills ratio M, ln 2cosh, sech) mapped to the stable
  primitives of numerics.solvers.gaussian (E = M - x and D = 1 - x E, the forms
  without cancellation that theory.storage writes, to ``mills_excess`` and
  ``mills_defect``);
* equations (``EQUATIONS``), scalar: the saddle points, entropies and replicon
  ratios of theory.storage with each Gaussian average <f>_v an argument
  (``AVERAGES`` names it and the integrand kernel whose average it is).
"""

from __future__ import annotations

import random
from pathlib import Path

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from numerics.codegen.emit import averages_as_arguments, banner, check_arguments, function_source
from theory import storage as ts

OUTPUT = Path(__file__).parents[1] / "_generated" / "storage.py"

PRIMITIVES = {"H": "tail", "LogH": "log_tail", "Mills": "mills", "LogTwoCosh": "log_two_cosh", "sech": "sech",
              "MillsExcess": "mills_excess", "MillsDefect": "mills_defect"}

# name: (theory step, arguments)
KERNELS = {
    "gardner_saddle_integrand": ("saddle_integrand", (ts.t, ts.q, ts.kappa)),
    "gardner_saddle_slope_integrand": ("saddle_slope_integrand", (ts.t, ts.q, ts.kappa)),
    "gardner_saddle_curvature_integrand": ("saddle_curvature_integrand", (ts.t, ts.q, ts.kappa)),
    "gardner_energetic_integrand": ("energetic_integrand", (ts.t, ts.q, ts.kappa)),
    "gardner_replicon_integrand": ("replicon_integrand", (ts.t, ts.q, ts.kappa)),
    "gardner_capacity": ("capacity", (ts.kappa,)),
    "gardner_log_capacity_negative": ("log_capacity_negative", (ts.kappa,)),
    "gardner_near_capacity_slope": ("near_capacity_slope", (ts.kappa,)),
    "gardner_replicon_at_capacity": ("replicon_at_capacity", (ts.kappa,)),
    "ising_overlap_integrand": ("ising_overlap_integrand", (ts.z, ts.qhat)),
    "ising_spin_integrand": ("ising_spin_integrand", (ts.z, ts.qhat)),
    "ising_spin_replicon_integrand": ("ising_spin_replicon_integrand", (ts.z, ts.qhat)),
    "ising_rs_capacity": ("ising_rs_capacity", (ts.kappa,)),
    "teacher_saddle_integrand": ("ts_saddle_integrand", (ts.s, ts.R)),
    "teacher_error": ("ts_error_stable", (ts.R,)),
}

# argument name: (kernel whose average over its first argument it is)
AVERAGES = {
    "mean_saddle": "gardner_saddle_integrand",
    "mean_saddle_slope": "gardner_saddle_slope_integrand",
    "mean_log_tail": "gardner_energetic_integrand",
    "mean_replicon": "gardner_replicon_integrand",
    "mean_sech2": "ising_overlap_integrand",
    "mean_log_two_cosh": "ising_spin_integrand",
    "mean_sech4": "ising_spin_replicon_integrand",
    "mean_teacher": "teacher_saddle_integrand",
}
_I, _DI = sp.symbols("I_q dI_q", positive=True)  # theory.storage's names for <(1-q) M^2>_t and its q-derivative
RENAMED = {_I: "mean_saddle", _DI: "mean_saddle_slope"}

# name: (theory step, arguments, form); form "value": the expression (an Eq: lhs - rhs),
# "rhs": the right-hand side of an Eq that defines its left-hand side, "log": its logarithm
EQUATIONS = {
    "gardner_log_alpha_of_q": ("alpha_of_q", ("q", "mean_saddle"), "log"),
    "gardner_spinodal_gap": ("spinodal_gap", ("q", "mean_saddle", "mean_saddle_slope"), "value"),
    "gardner_entropy": ("entropy", ("q", "alpha", "mean_log_tail"), "value"),
    "gardner_replicon": ("replicon", ("alpha", "mean_replicon"), "value"),
    "ising_conjugate": ("ising_conjugate", ("q", "alpha", "mean_saddle"), "rhs"),
    "ising_overlap_residual": ("ising_overlap", ("q", "mean_sech2"), "value"),
    "ising_entropy": ("ising_entropy", ("q", "qhat", "alpha", "mean_log_two_cosh", "mean_log_tail"), "value"),
    "ising_replicon": ("ising_replicon", ("q", "alpha", "mean_replicon", "mean_sech4"), "value"),
    "teacher_saddle_residual": ("ts_saddle", ("R", "alpha", "mean_teacher"), "value"),
}


def _description(key: str) -> str:
    return next(st.description for st in ts.derivation().steps if st.key == key)


def _numeric(expr: sp.Expr) -> sp.Expr:
    """expr with the theory's own functions written through erfc and exp (mpmath can evaluate it)."""
    return expr.rewrite(ts.Mills).rewrite(sp.erfc).rewrite(sp.exp)


def same_integrand(f: sp.Expr, g: sp.Expr, points: int = 3) -> bool:
    """f == g at random points of their arguments (30 digits): two ways of writing one integrand."""
    diff = _numeric(f - g)
    rng = random.Random(0)
    for _ in range(points):
        # a point inside every domain: 0 < q, R < 1, qhat > 0, fields of order one
        values = {sym: sp.Rational(rng.randint(1, 99), 100) for sym in diff.free_symbols}
        if abs(complex(sp.N(diff.subs(values), 30))) > 1e-25:
            return False
    return True


def _averages() -> dict[str, tuple[sp.Expr, sp.Symbol]]:
    d = ts.derivation()
    return {name: (d[KERNELS[kernel][0]], KERNELS[kernel][1][0]) for name, kernel in AVERAGES.items()}


def equation(name: str) -> sp.Expr:
    """The theory result behind EQUATIONS[name], in its arguments (Gaussian averages named)."""
    key, args, form = EQUATIONS[name]
    expr = ts.derivation()[key]
    expr = averages_as_arguments(expr, _averages(), same_integrand)
    expr = expr.xreplace({old: sp.Symbol(new, real=True) for old, new in RENAMED.items()})
    expr = expr.xreplace({s: sp.Symbol(s.name, positive=True) for s in expr.free_symbols if s.name in args})
    if form == "rhs":
        expr = expr.rhs
    elif form == "log":
        expr = sp.expand_log(sp.log(expr), force=True)
    return expr


def _kernel_source(name: str, key: str, args: tuple, printer: NumPyPrinter) -> str:
    expr = ts.derivation()[key]
    check_arguments(name, expr, args)
    return function_source(name, args, expr, f"{_description(key)} (theory.storage: {key}).", printer,
                           cse=True, shown=expr)


def _equation_source(name: str, printer: PythonCodePrinter) -> str:
    key, args, _ = EQUATIONS[name]
    expr = equation(name)
    check_arguments(name, expr.lhs - expr.rhs if isinstance(expr, sp.Eq) else expr, args)
    averages = "".join(f"; {a} = <{AVERAGES[a]}>" for a in args if a in AVERAGES)
    doc = f"{_description(key)} (theory.storage: {key}{averages})."
    return function_source(name, args, expr, doc, printer, shown=expr)


def generate() -> str:
    kernels = NumPyPrinter({"fully_qualified_modules": False, "user_functions": PRIMITIVES})
    scalars = PythonCodePrinter({"fully_qualified_modules": True})
    parts = [banner("Storage-problem kernels: integrands, closed forms and the RS equations in their Gaussian averages.",
                    ("theory/storage.py",),
                    ("import math", "", "from numpy import arcsin, exp, log, pi, sqrt  # noqa: F401", "",
                     f"from numerics.solvers.gaussian import {', '.join(sorted(set(PRIMITIVES.values())))}  # noqa: F401"))]
    for name, (key, args) in KERNELS.items():
        parts += ["", _kernel_source(name, key, args, kernels)]
    for name in EQUATIONS:
        parts += ["", _equation_source(name, scalars)]
    return "\n".join(parts).rstrip() + "\n"
