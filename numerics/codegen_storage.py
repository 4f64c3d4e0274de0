"""Generate numerics/_generated/storage.py from theory/storage.py.

Run ``python -m numerics.generate``; a test fails when the committed
file differs from a fresh generation. Each kernel is a theory step printed
as numpy code, with the Gaussian-tail functions of the theory (H, ln H, the
inverse Mills ratio M, ln 2cosh, sech) mapped to the stable primitives of
numerics.gaussian (E = M - x and D = 1 - x E, the forms without cancellation
that theory.storage writes, to ``mills_excess`` and ``mills_defect``).
"""

from __future__ import annotations

from pathlib import Path

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from theory import storage as ts

OUTPUT = Path(__file__).parent / "_generated" / "storage.py"

PRIMITIVES = {"H": "tail", "LogH": "log_tail", "Mills": "mills", "LogTwoCosh": "log_two_cosh", "sech": "sech",
              "MillsExcess": "mills_excess", "MillsDefect": "mills_defect"}

# name: (theory step, arguments)
KERNELS = {
    "gardner_saddle_integrand": ("saddle_integrand", (ts.t, ts.q, ts.kappa)),
    "gardner_saddle_slope_integrand": ("saddle_slope_integrand", (ts.t, ts.q, ts.kappa)),
    "gardner_saddle_curvature_integrand": ("saddle_curvature_integrand", (ts.t, ts.q, ts.kappa)),
    "gardner_energetic_integrand": ("energetic_integrand", (ts.t, ts.q, ts.kappa)),
    "gardner_entropic_part": ("entropic_part", (ts.q,)),
    "gardner_replicon_integrand": ("replicon_integrand", (ts.t, ts.q, ts.kappa)),
    "gardner_capacity": ("capacity", (ts.kappa,)),
    "gardner_log_capacity_negative": ("log_capacity_negative", (ts.kappa,)),
    "gardner_near_capacity_slope": ("near_capacity_slope", (ts.kappa,)),
    "gardner_replicon_at_capacity": ("replicon_at_capacity", (ts.kappa,)),
    "ising_overlap_integrand": ("ising_overlap_integrand", (ts.z, ts.qhat)),
    "ising_spin_integrand": ("ising_spin_integrand", (ts.z, ts.qhat)),
    "ising_entropic_part": ("ising_entropic_part", (ts.q, ts.qhat)),
    "ising_spin_replicon_integrand": ("ising_spin_replicon_integrand", (ts.z, ts.qhat)),
    "ising_rs_capacity": ("ising_rs_capacity", (ts.kappa,)),
    "teacher_saddle_integrand": ("ts_saddle_integrand", (ts.s, ts.R)),
    "teacher_error": ("ts_error_stable", (ts.R,)),
}


def _kernel_source(name: str, key: str, args: tuple, printer: NumPyPrinter) -> str:
    expr = ts.derivation()[key]
    description = next(st.description for st in ts.derivation().steps if st.key == key)
    extra = expr.free_symbols - set(args)
    if extra:
        raise ValueError(f"kernel {name}: {key} depends on {sorted(map(str, extra))} beyond its arguments")
    replacements, (reduced,) = sp.cse(expr, symbols=sp.numbered_symbols("x"))
    lines = [
        f"def {name}({', '.join(map(str, args))}):",
        f'    """{description} (theory.storage: {key}).',
        "",
        f"    {sp.sstr(expr)}",
        '    """',
    ]
    lines += [f"    {sym} = {printer.doprint(val)}" for sym, val in replacements]
    lines.append(f"    return {printer.doprint(reduced)}")
    return "\n".join(lines) + "\n"


def generate() -> str:
    printer = NumPyPrinter({"fully_qualified_modules": False, "user_functions": PRIMITIVES})
    parts = [
        '"""Storage-problem kernels: integrands of the RS saddle points and closed forms.',
        "",
        "Generated from theory/storage.py by `python -m numerics.generate`; do not edit.",
        '"""',
        "",
        "from numpy import arcsin, exp, log, pi, sqrt  # noqa: F401",
        "",
        f"from numerics.gaussian import {', '.join(sorted(set(PRIMITIVES.values())))}  # noqa: F401",
        "",
    ]
    for name, (key, args) in KERNELS.items():
        parts += ["", _kernel_source(name, key, args, printer)]
    return "\n".join(parts).rstrip() + "\n"
