"""Generate numerics/_generated/output.py from theory/cross_entropy.py (``python -m numerics.codegen``).

The output layers' loss, dl/dz and d2l/dz2 (sigmoid with binary cross-entropy,
softmax with cross-entropy, linear with squared error), each in the quantities
the engine's kernels hold without cancellation (the ``*.stable`` steps of theory.cross_entropy:
sigma(+-z), softplus(+-z), p_j and the sum of the other probabilities, z_max - z_j
and log sum_k e^{z_k - z_max}), so the kernels choose how to compute those
quantities and call the generated forms for the rest.
"""

from __future__ import annotations

from pathlib import Path

from sympy.printing.pycode import PythonCodePrinter

from numerics.codegen.emit import banner, check_arguments, function_source
from theory import cross_entropy as ce

OUTPUT = Path(__file__).parents[1] / "_generated" / "output.py"

# name: (step of theory.cross_entropy.derivation(), arguments)
FUNCTIONS = {
    "sigmoid_output_loss": ("sigmoid.loss.stable", (ce.y, ce.softplus_z, ce.softplus_minus_z)),
    "sigmoid_output_gradient": ("sigmoid.dl_dz.stable", (ce.y, ce.sigma_z, ce.sigma_minus_z)),
    "sigmoid_output_curvature": ("sigmoid.d2l_dz2.stable", (ce.sigma_z, ce.sigma_minus_z)),
    "softmax_output_loss_term": ("softmax.loss_term.stable", (ce.y, ce.gap, ce.log_sum)),
    "softmax_output_gradient": ("softmax.dl_dz.stable", (ce.y, ce.p, ce.others)),
    "softmax_output_curvature": ("softmax.d2l_dz2.stable", (ce.p, ce.others)),
    "softmax_output_curvature_pair": ("softmax.d2l_dz2.pair.stable", (ce.p, ce.p_other)),
    "linear_output_loss": ("linear.loss", (ce.z, ce.y)),
    "linear_output_gradient": ("linear.dl_dz", (ce.z, ce.y)),
}


def generate() -> str:
    forms = ce.derivation()
    described = {s.key: s.description for s in forms.steps}
    head = banner("The output layers' loss, dl/dz and d2l/dz2 in cancellation-free quantities.",
                  ("theory/cross_entropy.py",), ("from numba import njit", ""))
    printer = PythonCodePrinter({"fully_qualified_modules": True})
    functions = []
    for name, (key, args) in FUNCTIONS.items():
        expr = forms[key]
        check_arguments(name, expr, args)
        functions.append(function_source(name, args, expr, f"{key}: {described[key]}.", printer,
                                         decorator="@njit(cache=True)"))
    return head + "\n" + "\n\n".join(functions).rstrip() + "\n"
