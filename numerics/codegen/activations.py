"""Generate numba kernels from the theory's activation derivatives.

Run ``python -m numerics.codegen`` to rewrite ``numerics/_generated/activations.py``;
a test fails when the committed file differs from a fresh generation.

Every kernel f(h, beta) of the sigmoid and tanh families is brought by sympy
into the product form

    f = c * h**a * beta**b * s**i * t**j * tau**k * prod_m R_m(x)**n_m,

with x = beta*h, s = sigma(g x), t = sigma(-g x), tau = tanh(g x / 2)
(g = 1 for sigmoid, 2 for tanh) and residual factors R_m, each written in
whichever of s, t, tau gives it the fewest terms. The generated code then

* evaluates the product directly where no factor can under- or overflow,
  bounded factors first and then x, beta and h one at a time (x**m is split
  off h**a beta**b, so extreme h with tiny beta stay finite);
* in the tails (|g x| > 700, where s or t is subnormal) sums logarithms:
  log_sigmoid for the small factor, log|h|, log|beta|, log|R_m|;
* near each real root x_r of a residual factor (|x - x_r| < ROOT_RADIUS)
  replaces R_m by its Taylor series in d = x - x_r, with x = beta*h and x_r
  both carried to twice double precision, so that the cancellation at the
  root does not cost relative accuracy (down to |x - x_r| ~ 1e-19, where
  the 1e-32 precision of d sets the limit). Roots and Taylor coefficients
  come from mpmath at 50 digits.
Kernels without sigmoid or tanh (ReLU, linear) are printed as they are.

Besides one function per kernel, ``{name}_first`` (value, d_h, d_beta) and
``{name}_second`` (d_hh, d_hbeta, d_betabeta) evaluate three kernels from a
single exponential without branches, so that loops over samples calling them
compile to SIMD code. They return a flag ``fast`` as fourth element: the
values are the kernels' to a few ulp where it is set (|g x| <= 64, |h| and
|beta| in [2^-64, 2^64] or zero; near the roots of residual factors the same
Taylor patches, selected rather than branched to); elsewhere the caller
takes the kernels above. ``{name}_first_rows``/``{name}_second_rows`` run them
over a block of fields, one beta per unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import mpmath
import sympy as sp

from numerics.codegen.emit import banner
from theory import activations as act

OUTPUT = Path(__file__).parents[1] / "_generated" / "activations.py"
TAIL = 700.0  # |g x| beyond which s or t may be subnormal
ZERO_TAIL = 1e4  # |g x| beyond which every tail term underflows to 0
ROOT_RADIUS = 0.05
ROOT_TERMS = 16  # most Taylor terms: ROOT_RADIUS**ROOT_TERMS ~ 1e-21
ROOT_TRUNCATION = 1e-18  # fewer where the next term is below this, relative to the first, on the radius
ROOT_SCAN = (-60.0, 60.0)

x, S, T, TAU = sp.symbols("x s t tau", real=True)


@dataclass
class Residual:
    expr: sp.Expr  # in x and s, t, tau
    power: int
    roots: list  # [(hi, lo, [taylor coefficients c_1..c_K])]


@dataclass
class ProductForm:
    g: int
    const: sp.Rational
    m: int  # power of x
    a: int  # remaining power of h
    b: int  # remaining power of beta
    i: int  # power of s
    j: int  # power of t
    k: int  # power of tau
    residuals: list


def _family(expr: sp.Expr) -> int | None:
    """g = 1 for expressions in sigmoid(+-beta h), 2 for tanh(beta h), None for neither."""
    xs = act.beta * act.h
    sig = expr.atoms(act.sigmoid)
    tanh = expr.atoms(sp.tanh)
    if sig and tanh:
        raise NotImplementedError(f"mixed sigmoid and tanh in {expr}")
    for f in sig | tanh:
        if f.args[0] not in (xs, -xs):
            raise NotImplementedError(f"argument {f.args[0]} is not +-beta*h")
    if sig:
        return 1
    if tanh:
        return 2
    return None


def _representations(r_s: sp.Expr) -> sp.Expr:
    """Rewrite a polynomial in s (s + t = 1, tau = s - t) with the fewest terms."""
    candidates = [
        sp.expand(r_s),
        sp.expand(r_s.subs(S, 1 - T)),
        sp.expand(r_s.subs(S, (1 + TAU) / 2)),
    ]
    return min(candidates, key=lambda e: (len(sp.Add.make_args(e)), candidates.index(e)))


def _residual_mpmath(expr: sp.Expr, g: int):
    f = sp.lambdify((x, S, T, TAU), expr, modules="mpmath")

    def r(xv):
        gx = g * xv
        return f(xv, 1 / (1 + mpmath.exp(-gx)), 1 / (1 + mpmath.exp(gx)), mpmath.tanh(gx / 2))

    return r


def _roots(expr: sp.Expr, g: int) -> list:
    """Real roots of a residual factor in ROOT_SCAN as (hi, lo, Taylor coefficients c_1..c_K)."""
    out = []
    with mpmath.workdps(50):
        r = _residual_mpmath(expr, g)
        step = mpmath.mpf("0.01")
        grid = [mpmath.mpf(ROOT_SCAN[0]) + n * step for n in range(int((ROOT_SCAN[1] - ROOT_SCAN[0]) / 0.01) + 1)]
        vals = [r(v) for v in grid]
        for v0, v1, f0, f1 in zip(grid, grid[1:], vals, vals[1:]):
            if f0 != 0 and f0 * f1 > 0:
                continue
            root = v0 if f0 == 0 else mpmath.findroot(r, (v0, v1), solver="anderson")
            hi = float(root)
            coeffs = [float(c) for c in mpmath.taylor(r, root, ROOT_TERMS)[1:]]
            while len(coeffs) > 1 and abs(coeffs[-1]) * ROOT_RADIUS ** (len(coeffs) - 1) < ROOT_TRUNCATION * abs(coeffs[0]):
                coeffs.pop()
            out.append((hi, float(root - hi), coeffs))
    return out


@cache  # the kernels and the registry's root table both ask; a form is never modified once made
def product_form(expr: sp.Expr) -> ProductForm | None:
    """The product form of a kernel, or None when it has no sigmoid or tanh."""
    g = _family(expr)
    if g is None:
        return None
    xs = act.beta * act.h
    if g == 1:
        poly = expr.subs({act.sigmoid(-xs): 1 - S}).subs({act.sigmoid(xs): S})
    else:
        poly = expr.subs({sp.tanh(xs): 2 * S - 1})
    const, factors = sp.factor_list(sp.expand(poly), act.h, act.beta, S)
    form = ProductForm(g, sp.Rational(const), 0, 0, 0, 0, 0, 0, [])
    for fac, n in factors:
        if fac == act.h:
            form.a += n
        elif fac == act.beta:
            form.b += n
        elif fac == S:
            form.i += n
        elif fac in (S - 1, 1 - S):
            form.j += n
            form.const *= (-1) ** n if fac == S - 1 else 1
        elif fac in (2 * S - 1, 1 - 2 * S):
            form.k += n
            form.const *= (-1) ** n if fac == 1 - 2 * S else 1
        else:
            in_x = sp.expand(fac.subs(act.h, x / act.beta))
            if act.beta in in_x.free_symbols:
                raise NotImplementedError(f"factor {fac} is not a function of beta*h")
            rep = _representations(in_x)
            form.residuals.append(Residual(rep, n, _roots(rep, g)))
    form.m = min(form.a, form.b)
    form.a -= form.m
    form.b -= form.m
    return form


def _pow(name: str, n: int) -> list[str]:
    """Repeated factors, so that a product multiplied left to right never overflows early."""
    return [name] * n


def _direct(expr: sp.Expr) -> str:
    """A kernel without sigmoid or tanh, printed as it is."""
    return f"float({sp.pycode(expr, fully_qualified_modules=False)})"


def _product(form: ProductForm, names: list[str]) -> str:
    """The product c s^i t^j tau^k prod R^n x^m beta^b h^a: bounded factors first, then x, beta and h
    one at a time, so that a zero factor (tau at x = 0) is never multiplied by an overflowed power."""
    c = form.const
    factors = ([] if c == 1 else [repr(float(c))]) + _pow("s", form.i) + _pow("t", form.j) + _pow("tau", form.k)
    factors += [f for n, r in zip(names, form.residuals) for f in _pow(n, r.power)]
    factors += _pow("x", form.m) + _pow("beta", form.b) + _pow("h", form.a)
    return " * ".join(factors) or "1.0"


def _kernel_source(fname: str, expr: sp.Expr) -> str:
    """A scalar kernel: the product form with its residual root patches (:func:`_product_lines`), where a
    sigmoid factor can underflow guarded and finished in the log domain (:func:`_log_tail`)."""
    form = product_form(expr)
    head = [
        "@njit(cache=True)",
        f"def {fname}(h, beta):",
        f'    """{sp.sstr(expr)}"""',
    ]
    if form is None:
        return "\n".join(head + [f"    return {_direct(expr)}", ""])
    lines, names = _product_lines(form)
    product = _product(form, names)
    if form.i == 0 and form.j == 0:  # no factor that can underflow
        return "\n".join(head + lines + [f"    return {product}", ""])
    lines += [
        f"    if abs(gx) <= {TAIL}:",
        f"        out = {product}",
        "        if math.isfinite(out):",
        "            return out",
    ]
    if form.j == 0:
        lines += ["    if gx > 0.0:", f"        return {product}"]
    if form.i == 0:
        lines += ["    if gx < 0.0:", f"        return {product}"]
    return "\n".join(head + lines + _log_tail(form))


def _product_lines(form: ProductForm) -> tuple[list[str], list[str]]:
    """Lines forming x = beta h, g x and its rounding error, the sigmoids and tanh the form uses and its
    residual factors r0, r1, ... (Taylor series in d = x - x_r near each real root); and the residuals' names."""
    g = form.g
    lines = ["    x = field(beta, h)", f"    gx = {g}.0 * x" if g != 1 else "    gx = x"]
    if form.i or form.j or any(r.expr.free_symbols & {S, T} for r in form.residuals):
        lines.append(f"    gxl = {g}.0 * product_low(beta, h, x)" if g != 1 else "    gxl = product_low(beta, h, x)")
    used = {S: form.i, T: form.j, TAU: form.k}
    for r in form.residuals:
        for sym in (S, T, TAU):
            used[sym] = used[sym] or (sym in r.expr.free_symbols)
    if used[S] or used[T]:
        lines.append("    s, t = sigmoid_pair(gx, gxl)")
    if used[TAU]:
        lines.append("    tau = math.tanh(0.5 * gx)")
    names = [f"r{n}" for n in range(len(form.residuals))]
    lines += [f"    {n} = {sp.pycode(r.expr)}" for n, r in zip(names, form.residuals)]
    for n, r in enumerate(form.residuals):
        for hi, lo, coeffs in r.roots:
            horner = repr(coeffs[-1])
            for c in reversed(coeffs[:-1]):
                horner = f"({horner} * d + {c!r})"
            lines += [
                f"    if abs(x - {hi!r}) < {ROOT_RADIUS}:",
                "        xh, xl = two_product(beta, h)",
                f"        d = (xh - {hi!r}) + (xl - {lo!r})",
                f"        r{n} = {horner} * d",
            ]
    return lines, names


def _log_tail(form: ProductForm) -> list[str]:
    """The product as sign * exp(sum of logarithms), for |g x| beyond TAIL or an underflowed factor: the
    small sigmoid's log added exactly (double-double), 0 beyond ZERO_TAIL."""
    c = form.const
    logs = [] if abs(c) == 1 else [repr(math.log(abs(float(c))))]
    signs = [] if c > 0 else ["-1.0"]
    for name, power in (("h", form.a + form.m), ("beta", form.b + form.m)):
        if power:
            logs.append(f"{power} * math.log(abs({name}))")
            if power % 2:
                signs.append(f"sign({name})")
    if form.k:
        logs.append(f"{form.k} * math.log(abs(tau))")
        if form.k % 2:
            signs.append("sign(tau)")
    for n, r in enumerate(form.residuals):
        logs.append(f"{r.power} * math.log(abs(r{n}))")
        if r.power % 2:
            signs.append(f"sign(r{n})")
    lines = [
        f"    if abs(gx) > {ZERO_TAIL}:",
        "        return 0.0",
        f"    lg = {' + '.join(logs) or '0.0'}",
        "    if lg == -math.inf:",
        "        return 0.0",
        "    lo = 0.0",
    ]
    for power, arg in ((form.i, "gx, gxl"), (form.j, "-gx, -gxl")):
        if power:
            lines += [
                f"    p, q = log_sigmoid({arg})",
                f"    lg, e = two_sum(lg, {power}.0 * p)",
                f"    lo += e + {power}.0 * q",
            ]
    return lines + [f"    return {' * '.join(signs) or '1.0'} * math.exp(lg) * (1.0 + lo)", ""]


FUSED = {"first": ("value", "d_h", "d_beta"), "second": ("d_hh", "d_hbeta", "d_betabeta")}


def _estrin(coeffs: list[float], var: str) -> tuple[list[str], str]:
    """sum_n coeffs[n] var^n by Estrin's scheme (short dependency chains, fused multiply-adds): lines
    defining the powers var2, var4, ... and the expression."""
    terms = [repr(c) for c in coeffs]
    lines, power = [], var
    while len(terms) > 1:
        terms = [f"mul_add({terms[n + 1]}, {power}, {terms[n]})" if n + 1 < len(terms) else terms[n]
                 for n in range(0, len(terms), 2)]
        if len(terms) > 1:
            square = f"{var}{2 ** (len(lines) + 1)}"
            lines.append(f"    {square} = {power} * {power}")
            power = square
    return lines, terms[0]


def _positive(form: ProductForm | None) -> ProductForm | None:
    """The same product with a positive constant where a residual of odd power can take the sign
    (R -> -R, its Taylor coefficients negated): one negation fewer in the fused kernels."""
    if form is None or form.const > 0:
        return form
    for n, r in enumerate(form.residuals):
        if r.power % 2:
            negated = Residual(-r.expr, r.power, [(hi, lo, [-c for c in coeffs]) for hi, lo, coeffs in r.roots])
            residuals = form.residuals[:n] + [negated] + form.residuals[n + 1 :]
            return replace(form, const=-form.const, residuals=residuals)
    return form


def _residual_code(expr: sp.Expr) -> str:
    """A residual c + k a b as one fused multiply-add, mul_add(k a, b, c); any other form as sympy prints it."""
    if expr.is_Add and len(expr.args) == 2:
        c, term = sorted(expr.args, key=lambda a: not a.is_Number)
        if c.is_Number and term.is_Mul:
            k, factors = term.as_coeff_mul()
            if len(factors) == 2:
                a = sp.pycode(factors[0]) if k == 1 else f"{'-' if k == -1 else repr(float(k)) + ' * '}{sp.pycode(factors[0])}"
                return f"mul_add({a}, {sp.pycode(factors[1])}, {float(c)!r})"
    return sp.pycode(expr)


def _fused_source(name: str, group: str, derivatives: dict) -> str:
    """``{name}_{group}(h, beta)`` -> (three kernels of the group, fast): one exponential, no branches;
    the Taylor patches at the residual roots are selected, not branched to."""
    exprs = {key: expr for key, expr in derivatives.items() if key in FUSED[group]}
    forms = {key: _positive(product_form(expr)) for key, expr in exprs.items()}
    lines = [
        '@njit(cache=True, error_model="numpy", inline="always")',
        f"def {name}_{group}(h, beta):",
        f'    """({", ".join(FUSED[group])}, fast) of {name}; exact where fast, see the module docstring."""',
    ]
    families = {form.g for form in forms.values() if form is not None}
    if not families:
        values = ", ".join(_direct(expr) for expr in exprs.values())
        return "\n".join(lines + [f"    return {values}, True", ""])
    (g,) = families
    lines += [
        "    x = beta * h",
        "    xl = exact_product_low(beta, h, x)",
        f"    gx = {g}.0 * x" if g != 1 else "    gx = x",
        f"    s, t, tau, _ = sigmoid_tanh(gx, {g}.0 * xl)" if g != 1 else "    s, t, tau, _ = sigmoid_tanh(gx, xl)",
    ]
    residuals: dict = {}  # residual expression -> variable name, shared between the group's kernels
    products = []
    for key, expr in exprs.items():
        form = forms[key]
        if form is None:
            products.append(_direct(expr))
            continue
        names = []
        for r in form.residuals:
            if r.expr not in residuals:
                name_r = residuals[r.expr] = f"r{len(residuals)}"
                lines.append(f"    {name_r} = {_residual_code(r.expr)}")
                for hi, lo, coeffs in r.roots:
                    powers, series = _estrin(coeffs, "d")
                    lines += [f"    d = (x - {hi!r}) + (xl - {lo!r})", *powers,
                              f"    {name_r} = d * {series} if abs(x - {hi!r}) < {ROOT_RADIUS} else {name_r}"]
            names.append(residuals[r.expr])
        products.append(_product(form, names))
    return "\n".join(lines + [f"    return {', '.join(products)}, fast_range(h, beta, gx)", ""])


def _rows_source(name: str, group: str) -> str:
    """``{name}_{group}_rows(h, beta, out1, out2, out3)``: the fused kernel over the (units, samples) block h,
    unit j at beta[j], in a SIMD loop over the samples; where it does not hold (out of range: rare), the
    scalar kernels. One call per layer: no array views per unit."""
    keys = FUSED[group]
    fused = f"{name}_{group}"
    at = "[j, s]"
    return "\n".join([
        '@njit(cache=True, error_model="numpy")',
        f"def {fused}_rows(h, beta, {', '.join(keys)}):",
        f'    """{", ".join(k + at for k in keys)} at (h[j, s], beta[j]) for every j, s: {fused} in a SIMD loop',
        '    over s, the scalar kernels where it does not hold."""',
        "    for j in range(h.shape[0]):",
        "        b = beta[j]",
        "        slow = False",
        "        for s in range(h.shape[1]):",
        f"            {', '.join(k + at for k in keys)}, fast = {fused}(h[j, s], b)",
        "            slow |= not fast",
        "        if slow:",
        "            for s in range(h.shape[1]):",
        f"                if not {fused}(h[j, s], b)[3]:",
        *[f"                    {k}{at} = {name}_{k}(h[j, s], b)" for k in keys],
        "",
    ])


def _registry_lines() -> list[str]:
    """The registry's names, derivative keys, beta dependence and residual roots, for the modules that list
    them (numerics.kernels.activations, numerics.solvers.function_space, verify.gate)."""
    roots = {}
    for name in act.REGISTRY:
        found = []
        for expr in act.derivatives(name).values():
            form = product_form(expr)
            found += [hi for r in (form.residuals if form else []) for hi, _, _ in r.roots]
        if found:
            roots[name] = tuple(dict.fromkeys(found))
    beta_dependent = tuple(name for name, expr in act.REGISTRY.items() if act.beta in expr.free_symbols)
    return [
        f"NAMES = {tuple(act.REGISTRY)!r}  # the built-in activations, in registry order",
        f"KEYS = {tuple(key for key, _, _ in act.DERIVATIVES)!r}  # the kernels of each",
        f"BETA_DEPENDENT = {beta_dependent!r}  # the activations whose value depends on beta",
        "# real roots in x = beta*h of the residual factors whose kernels patch them by Taylor series",
        "ROOTS = {",
        *[f"    {name!r}: {r!r}," for name, r in roots.items()],
        "}",
        "",
    ]


def generate() -> str:
    """Source of numerics/_generated/activations.py."""
    imports = (
        "import math",
        "",
        "from numba import njit",
        "",
        "from numerics.kernels._primitives import (  # noqa: F401",
        "    exact_product_low, fast_range, field, log_sigmoid, mul_add, product_low, sigmoid_pair, sigmoid_tanh,",
        "    sign, two_product, two_sum,",
        ")",
    )
    parts = [banner("Activation kernels: value and first and second derivatives in h and beta.",
                    ("theory/activations.py",), imports), *_registry_lines()]
    for name in act.REGISTRY:
        for key, expr in act.derivatives(name).items():
            parts += ["", _kernel_source(f"{name}_{key}", expr)]
        for group in FUSED:
            parts += ["", _fused_source(name, group, act.derivatives(name)), "", _rows_source(name, group)]
    return "\n".join(parts).rstrip() + "\n"


# ---- user activations: one module per expression, written to the user's cache -------------------
#
# A user expression built from sigmoid(+-beta h) or tanh(beta h) alone gets the product forms above.
# Any other is differentiated in the stable families of theory.activations (softplus, Phi, sech2:
# no 1 - tanh^2, no 1 + erf) and printed with stable primitives (expm1, log1p, logistic, softplus; the
# branch-free exp_fast, gauss_fast, ndtr_fast, erfc_fast); where that direct evaluation is not a normal float (overflow in an intermediate, an
# underflowed factor), each term c prod f_m^n_m is summed as sign * exp(sum n_m log|f_m|), with the
# logarithms in closed form (log of exp(u) is u, of Phi(u) log_ndtr(u), ...).

USER_PRIMITIVES = (
    "erfc_fast, exact_product_low, exp_fast, fast_range, field, gauss_fast, gauss_product, heaviside, log_abs_sinh, "
    "log_cosh, log_erfc, log_logistic, log_ndtr, log_sigmoid, log_softplus, log_sum_exp, log_tanh_ratio, logistic, "
    "mul_add, ndtr_fast, ndtr_gauss, ndtr_gauss_product, ndtr_product, normal, product_low, sech2, sgn, sigmoid_pair, "
    "sigmoid_tanh, sign, softplus, two_product, two_sum"
)
_ROWS_SIGNATURE = "types.void(P, types.int64, types.int64, P, P, P, P)"


def _gaussian_argument(e: sp.Expr) -> sp.Expr | None:
    """u where ``e`` is exp(-u^2/2) with u a product of powers (the Gaussian density's factor), else None."""
    if not isinstance(e, sp.exp):
        return None
    c, m = e.args[0].as_coeff_Mul()
    powers = m.as_powers_dict()
    if c != sp.Rational(-1, 2) or not all(n.is_Integer and n > 0 and n % 2 == 0 for n in powers.values()):
        return None
    return sp.Mul(*[b ** (n // 2) for b, n in powers.items()])


def _two_factors(u: sp.Expr) -> tuple | None:
    """(a, b) where u = a*b with neither a number (beta*h): the primitives then take the product's rounding
    error into account; else None."""
    if u.is_Mul and len(u.args) == 2 and not any(a.is_Number for a in u.args):
        return u.args
    return None


def _printer():
    """Printer of kernel bodies, with the stable primitives for the activation functions; e^u, e^(-u^2/2), Phi
    and erfc by the branch-free primitives exp_fast, gauss_fast, ndtr_fast, erfc_fast (loops over samples
    calling them compile to SIMD code), for u = a*b (beta*h) with the product's rounding error."""
    from sympy.printing.pycode import PythonCodePrinter

    class Printer(PythonCodePrinter):
        """Python source numba compiles, with the stable primitives for the activation functions."""

        def _call(self, name, e):
            return f"{name}({', '.join(self._print(a) for a in e.args)})"

        def _print_exp(self, e):
            u = _gaussian_argument(e)
            if u is None:
                return self._call("exp_fast", e)
            ab = _two_factors(u)
            return f"gauss_fast({self._print(u)})" if ab is None else f"gauss_product({self._print(ab[0])}, {self._print(ab[1])})"

        def _print_erfc(self, e):
            return self._call("erfc_fast", e)

        def _print_sigmoid(self, e):
            return self._call("logistic", e)

        def _print_softplus(self, e):
            return self._call("softplus", e)

        def _print_Phi(self, e):
            ab = _two_factors(e.args[0])
            return self._call("ndtr_fast", e) if ab is None else f"ndtr_product({self._print(ab[0])}, {self._print(ab[1])})"

        def _print_stanh(self, e):
            return self._call("math.tanh", e)

        def _print_sech2(self, e):
            return self._call("sech2", e)

        def _print_Heaviside(self, e):
            return f"heaviside({self._print(e.args[0])})"

        def _print_sign(self, e):
            return self._call("sgn", e)

        def _print_DiracDelta(self, e):
            return "0.0"

    return Printer({"fully_qualified_modules": True, "standard": "python3"})


def _stable(expr: sp.Expr) -> sp.Expr:
    """exp(u) - 1 -> expm1(u), log(1 + u) -> log1p(u) (sympy.codegen rewriting)."""
    from sympy.codegen.rewriting import expm1_opt, log1p_opt, optimize

    return optimize(expr, [expm1_opt, log1p_opt])


_LOG_FORMS = {
    sp.exp: lambda p, u: p(u),
    act.Phi: lambda p, u: f"log_ndtr({p(u)})",
    act.sigmoid: lambda p, u: f"log_logistic({p(u)})",
    act.softplus: lambda p, u: f"log_softplus({p(u)})",
    sp.erfc: lambda p, u: f"log_erfc({p(u)})",
    act.sech2: lambda p, u: f"-2.0 * log_cosh({p(u)})",
    sp.cosh: lambda p, u: f"log_cosh({p(u)})",
}
# Where the direct form of these functions keeps full relative precision (beyond: subnormal or overflowed).
_SAFE = {
    act.sigmoid: "({} >= -700.0)", act.softplus: "({} >= -700.0)", sp.exp: "({} >= -700.0)",
    act.Phi: "({} >= -37.0)", sp.erfc: "({} <= 26.0)", act.sech2: "abs({}) <= 350.0",
    sp.cosh: "abs({}) <= 700.0", sp.sinh: "abs({}) <= 700.0",
}


def _guards(exprs, p) -> list[str]:
    """Conditions under which no exponential-type factor of ``exprs`` is subnormal or overflowed."""
    atoms = sorted({a for e in exprs for a in e.atoms(sp.Function) if type(a) in _SAFE}, key=sp.default_sort_key)
    return list(dict.fromkeys("(" + _SAFE[type(a)].format(p(a.args[0])) + ")" for a in atoms))


_POSITIVE = (sp.exp, act.Phi, act.sigmoid, act.softplus, sp.erfc, act.sech2, sp.cosh)


def _exponentials(base: sp.Expr):
    """[(u, c)] with base = sum c e^u, c > 0, where base is a sum of positive constants and positive multiples of
    exp and cosh (the partition functions of gates); None otherwise."""
    out = []
    for term in sp.Add.make_args(base):
        c, rest = term.as_independent(act.h, act.beta, as_Add=False)
        if not (c.is_number and c > 0):
            return None
        if rest == 1:
            out.append((sp.Integer(0), c))
        elif isinstance(rest, sp.exp):
            out.append((rest.args[0], c))
        elif isinstance(rest, sp.cosh):
            out += [(rest.args[0], c / 2), (-rest.args[0], c / 2)]
        else:
            return None
    return out if len(out) > 1 else None


def _log_term(term: sp.Expr, p) -> str:
    """sign * exp(sum log|factor|) of one term c prod f^n: the term where its factors over- or underflow."""
    const, rest = term.as_independent(act.h, act.beta, as_Add=False)
    coeff = float(const)
    logs, signs = [], [] if coeff > 0 else ["-1.0"]
    if abs(coeff) != 1:
        logs.append(repr(math.log(abs(coeff))))
    for factor in sp.Mul.make_args(rest):
        base, n = (factor, sp.Integer(1)) if isinstance(factor, sp.exp) else factor.as_base_exp()
        if isinstance(base, sp.exp):  # exp(u)^n = exp(n u)
            base, n = sp.exp(n * base.args[0]), sp.Integer(1)
        if not n.is_Integer:
            logs.append(f"{p(n)} * math.log({p(base)})")
            continue
        f = type(base)
        if f in _LOG_FORMS:
            log = _LOG_FORMS[f](p, base.args[0])
        elif isinstance(base, sp.sinh):
            log = f"log_abs_sinh({p(base.args[0])})"
        elif isinstance(base, act.stanh) and type(base.args[0]) in _LOG_FORMS:  # tanh(u) = u (tanh(u)/u), u > 0
            u = base.args[0]
            log = f"{_LOG_FORMS[type(u)](p, u.args[0])} + log_tanh_ratio({p(u)})"
        elif base.is_Add and _exponentials(base):
            pairs = _exponentials(base)
            log = (f"log_sum_exp(({', '.join(f'float({p(u)})' for u, _ in pairs)},), "
                   f"({', '.join(repr(float(c)) for _, c in pairs)},))")
        else:
            log = f"math.log(abs({p(base)}))"
        logs.append(log if n == 1 else f"{p(n)} * ({log})")
        if n % 2 and not (isinstance(base, _POSITIVE) or base.is_Add and _exponentials(base)):
            signs.append(f"sign({p(base.args[0])})" if isinstance(base, sp.sinh) else f"sign({p(base)})")
    return f"{' * '.join(signs + [''])}math.exp({' + '.join(logs) or '0.0'})"


def _calls(exprs) -> dict:
    """Every function application in ``exprs`` (Piecewise aside), inner ones first, -> a name f0, f1, ...: the
    scalar and fused kernels compute each once, under the same name, so that they print (and round) alike."""
    atoms = {a for e in exprs for a in e.atoms(sp.Function) if not isinstance(a, sp.Piecewise)}
    ordered = sorted(atoms, key=lambda a: (sp.count_ops(a), sp.default_sort_key(a)))
    return {a: sp.Symbol(f"f{n}", real=True) for n, a in enumerate(ordered)}


def _call_lines(exprs, calls: dict, p, indent: str) -> list[str]:
    """Definitions of the named function applications that ``exprs`` use; Phi(u) and e^(-u^2/2) together from
    one exponential (ndtr_gauss)."""
    used = [a for a in calls if any(e.has(a) for e in exprs)]
    lines, done = [], set()
    for a in used:
        if a in done:
            continue
        density = sp.exp(-a.args[0] ** 2 / 2) if isinstance(a, act.Phi) else None
        if density in used:
            u = a.args[0].xreplace(calls)
            ab = _two_factors(u)
            pair = f"ndtr_gauss({p(u)})" if ab is None else f"ndtr_gauss_product({p(ab[0])}, {p(ab[1])})"
            lines.append(f"{indent}{calls[a]}, {calls[density]} = {pair}")
            done.add(density)
        else:
            lines.append(f"{indent}{calls[a]} = {p(type(a)(*(b.xreplace(calls) for b in a.args)))}")
    return lines


def _generic_body(expr: sp.Expr, calls: dict, p, indent: str) -> list[str]:
    """Lines returning ``expr``: direct evaluation, and the log-sum of its terms where that is not a normal
    float or a factor is out of its safe range; a Piecewise branch by branch."""
    if isinstance(expr, sp.Piecewise):
        lines = []
        for value, cond in expr.args:
            if cond == sp.true:
                return lines + _generic_body(value, calls, p, indent)
            lines += [f"{indent}if {p(cond)}:", *_generic_body(value, calls, p, indent + "    ")]
        return lines + [f"{indent}return math.nan"]
    lines = _call_lines([expr], calls, p, indent) + [f"{indent}out = float({p(expr.xreplace(calls))})"]
    if expr.is_Number:
        return lines + [f"{indent}return out"]
    tail = " + ".join(_log_term(t, p) for t in sp.Add.make_args(sp.expand_mul(expr)))
    return lines + [
        f"{indent}if {' & '.join(['normal(out)'] + _guards([expr], p))}:",
        f"{indent}    return out",
        f"{indent}tail = {tail}",
        f"{indent}return tail if math.isfinite(tail) else out",
    ]


def _generic_kernel_source(fname: str, expr: sp.Expr, calls: dict) -> str:
    """A kernel outside the sigmoid/tanh product forms (see _generic_body)."""
    lines = [
        '@njit(cache=True, error_model="numpy")',
        f"def {fname}(h, beta):",
        f'    """{sp.sstr(expr)}"""',
        *_generic_body(_prepared(expr), calls, _printer().doprint, "    "),
        "",
    ]
    return "\n".join(lines)


def _irrational_constant(e: sp.Expr) -> bool:
    return e.is_number and not e.is_Rational and isinstance(e, (sp.Pow, sp.NumberSymbol, sp.Function))


def _prepared(expr: sp.Expr) -> sp.Expr:
    """The expression as printed: stable forms, Piecewise folded, and irrational constants (sqrt(2), 1/sqrt(pi),
    ...) as 25-digit floats that sympy multiplies into one coefficient, printed as one correctly rounded
    float64 (no division by a constant in the compiled code)."""
    folded = sp.piecewise_fold(_stable(expr))
    return folded.replace(_irrational_constant, lambda e: sp.Float(e.evalf(25), 25))


def _generic_fused_source(name: str, group: str, derivatives: dict, calls: dict) -> str:
    """``{name}_{group}(h, beta)`` -> (three kernels, fast): the direct evaluations of the scalar kernels, each
    function application once and printed alike (so equal to them where fast); fast where all three are
    normal floats, h and beta in the fast range and no exponential-type factor out of range."""
    keys = FUSED[group]
    p = _printer().doprint
    exprs = [_prepared(derivatives[k]) for k in keys]
    lines = [
        '@njit(cache=True, error_model="numpy", inline="always")',
        f"def {name}_{group}(h, beta):",
        f'    """({", ".join(keys)}, fast) of {name}: the direct evaluations of the kernels."""',
        *_call_lines(exprs, calls, p, "    "),
        *[f"    v{n} = float({p(e.xreplace(calls))})" for n, e in enumerate(exprs)],
        f"    fast = {' & '.join(['normal(v0)', 'normal(v1)', 'normal(v2)', 'fast_range(h, beta, 0.0)'] + _guards(exprs, p))}",
        "    return v0, v1, v2, fast",
        "",
    ]
    return "\n".join(lines)


def _cfunc_source(name: str, group: str) -> str:
    """``{name}_{group}_cfunc``: the rows function behind a C pointer (h, units, samples, beta, out1, out2,
    out3), for the dispatch of numerics.kernels.activations.first_rows/second_rows."""
    block = "(units, samples)"
    return "\n".join([
        f"@cfunc({_ROWS_SIGNATURE}, cache=True)",
        f"def {name}_{group}_cfunc(h, units, samples, beta, o1, o2, o3):",
        f"    {name}_{group}_rows(carray(h, {block}), carray(beta, (units,)), carray(o1, {block}), carray(o2, {block}),",
        f"                       carray(o3, {block}))",
        "",
    ])


def user_derivatives(expr: sp.Expr) -> tuple[dict, bool]:
    """(derivatives, product) of a user expression: the sigmoid/tanh product forms where every derivative
    has one (product True), else the stable families."""
    derivs = act.user_derivatives(expr, stable=False)
    try:
        forms = [product_form(d) for d in derivs.values()]
        if any(f is not None for f in forms) and all(
                f is not None or not d.atoms(sp.Function) for f, d in zip(forms, derivs.values())):
            return derivs, True
    except (NotImplementedError, sp.PolynomialError, TypeError, ValueError):
        pass
    return act.user_derivatives(expr, stable=True), False


def generate_user(expr: sp.Expr, header: str = "") -> str:
    """Source of the kernel module of the user activation ``expr``: functions ``act_value`` ... ``act_d_betabeta``,
    ``act_first``/``act_second`` and their rows, and the rows functions as C callbacks ``act_first_cfunc``,
    ``act_second_cfunc``."""
    derivs, product = user_derivatives(expr)
    parts = [
        f'"""Activation kernels of phi(h, beta) = {sp.sstr(expr)}.',
        "",
        f"Generated by numerics.codegen.activations ({'product forms' if product else 'stable families'}); do not edit.{header}",
        '"""',
        "",
        "import math",
        "",
        "from numba import carray, cfunc, njit, types",
        "",
        f"from numerics.kernels._primitives import (  # noqa: F401\n    {USER_PRIMITIVES},\n)",
        "",
        "P = types.CPointer(types.float64)",
        "",
    ]
    calls = None if product else _calls([_prepared(d) for d in derivs.values()])
    for key, d in derivs.items():
        parts += ["", _kernel_source(f"act_{key}", d) if product else _generic_kernel_source(f"act_{key}", d, calls)]
    for group in FUSED:
        fused = _fused_source("act", group, derivs) if product else _generic_fused_source("act", group, derivs, calls)
        parts += ["", fused, "", _rows_source("act", group), "", _cfunc_source("act", group)]
    return "\n".join(parts).rstrip() + "\n"
