"""Check rows for the gate theory and the generated activation kernels.

Oracles:
* mpmath: the activation's value expression evaluated in mpmath and
  differentiated numerically (mpmath.diff, steps relative to |h| and |beta|),
  with the working precision doubled until two evaluations agree, so it is
  independent of sympy's differentiation and of the kernels' rewriting;
* JAX: autodiff of the activation written directly in jax.numpy;
* high-precision evaluation of the derived limits, series and identities.
"""

from __future__ import annotations

from functools import cache

import mpmath
import numpy as np
import sympy as sp
from hypothesis import strategies as st

from numerics._generated.activations import ROOTS as ROOTS_BY_NAME
from numerics.kernels.activations import BUILTIN, KEYS, NAMES, activation, first_rows, second_rows
from theory import activations as ta
from verify.metrics import relative_error
from verify.registry import Check, with_budget
from verify.strategies import log_uniform, moderate_or_extreme

ORDERS = {key: (nh, nb) for key, nh, nb in ta.DERIVATIVES}
MP_MAX_DPS = 5120
MP_ZERO_DPS = 2560


_MP_SIGMOID = {"sigmoid": lambda z: 1 / (1 + mpmath.exp(-z))}


@cache
def derived(name: str) -> dict:
    """The sympy value and derivatives the kernels of ``name`` were generated from: the theory's for a
    built-in, the generator's derivation (numerics.codegen.activations.user_derivatives) for a registered activation."""
    if name in BUILTIN:
        return ta.derivatives(name)
    from numerics.codegen.activations import user_derivatives

    return user_derivatives(ta.parse(activation(name).expression))[0]


def _mp_modules():
    return [
        _MP_SIGMOID,
        ta.mpmath_functions(),
        {"Heaviside": lambda z: mpmath.mpf(1) if z > 0 else mpmath.mpf(0) if z < 0 else mpmath.mpf(0.5)},
        "mpmath",
    ]


@cache
def _mp_function(name: str, key: str):
    """The derived expression for d^n phi (value if key == "value") as an mpmath function."""
    return sp.lambdify((ta.h, ta.beta), derived(name)[key], modules=_mp_modules())


@cache  # the fused rows revisit the kernel rows' points and their own -h
def mp_reference(name: str, key: str, h: float, beta: float) -> float:
    """The derived expression at the exact float64 inputs, to float64 accuracy.

    The working precision doubles (40 to 5120 digits) until two nonzero
    evaluations agree to 25 digits, which absorbs any cancellation in the
    expression's form; a value still below 1e-1000 at 2560 digits is zero in
    float64 (every term of these expressions is below 1e1000 in magnitude).
    """
    f = _mp_function(name, key)
    previous = None
    dps = 40
    while dps <= MP_MAX_DPS:
        with mpmath.workdps(dps):
            value = f(mpmath.mpf(h), mpmath.mpf(beta))
        if abs(value) < mpmath.mpf(10) ** -1000:
            if dps >= MP_ZERO_DPS:  # terms are below 1e1000, so |value| < 1e-1000: zero in float64
                return 0.0
        elif previous is not None and abs(value - previous) <= mpmath.mpf(10) ** -25 * abs(value):
            return float(value)
        previous = value
        dps *= 2
    raise ArithmeticError(f"mpmath reference for {name}.{key} at h={h!r}, beta={beta!r} did not converge")


def _derivative_error(name: str, key: str):
    """The sympy derivative against mpmath's numerical differentiation of the value (60 digits)."""
    nh, nb = ORDERS[key]

    def error(ex):
        h, beta = ex
        with mpmath.workdps(60):
            value = _mp_function(name, "value")
            numeric = mpmath.diff(value, (mpmath.mpf(h), mpmath.mpf(beta)), (nh, nb))
            derived = _mp_function(name, key)(mpmath.mpf(h), mpmath.mpf(beta))
            return float(abs(numeric - derived) / max(abs(derived), 1))

    return error


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


@cache
def jax_unit(name: str):
    """An activation's value expression in jax.numpy (sympy.lambdify of its text, not of any derivative)."""
    jax = _jax()
    functions = {"sigmoid": jax.nn.sigmoid, "softplus": jax.nn.softplus, "Phi": jax.scipy.stats.norm.cdf}
    return sp.lambdify((ta.h, ta.beta), ta.parse(activation(name).expression), modules=[functions, "jax"])


def install_jax_units() -> None:
    """Make the registered activations known to the JAX model of verify.jax_models."""
    if len(NAMES) > len(BUILTIN):
        from verify import jax_models

        for name in NAMES[len(BUILTIN):]:
            jax_models.UNITS.setdefault(name, jax_unit(name))


@cache
def jax_derivative(name: str, key: str):
    """JAX autodiff of the activation written directly in jax.numpy."""
    jax = _jax()
    jnp = jax.numpy
    forms = {  # the built-ins written out; any other activation lambdified from its expression
        "esp": lambda h, b: h * jax.nn.sigmoid(b * h),
        "sigmoid": lambda h, b: jax.nn.sigmoid(b * h),
        "tanh": lambda h, b: jnp.tanh(b * h),
        "relu": lambda h, b: jax.nn.relu(h),
        "linear": lambda h, b: h + 0.0 * b,
    }
    return _jax_derivative(forms[name] if name in forms else jax_unit(name), key)


def _jax_derivative(f, key: str):
    jax = _jax()
    nh, nb = ORDERS[key]
    for _ in range(nh):
        f = jax.grad(f, argnums=0)
    for _ in range(nb):
        f = jax.grad(f, argnums=1)
    return jax.jit(f)


# Points every kernel check runs: extremes of h and beta, signs, roots of residual factors.
EXTREMES = tuple(
    (h, b)
    for h in (1e-300, -1e-300, 1e300, -1e300, 7.1e8, -7.4e8, *(roots[0] for roots in ROOTS_BY_NAME.values()))
    for b in (1e-6, -1e-6, 1.0, 1e3, -1e3)
)


def kernel_error_table(name: str) -> dict:
    """Worst relative error of each kernel of ``name`` against mpmath on EXTREMES and a grid of moderate
    points (h = +-10^k, k = -3..2, and beta = +-10^j, j = -6..3)."""
    grid = [(s * 10.0**k, b * 10.0**j) for s in (1, -1) for k in range(-3, 3) for b in (1, -1) for j in range(-6, 4)]
    out = {}
    for key in KEYS:
        method = getattr(activation(name), key)
        out[key] = max(relative_error(method(h, b), mp_reference(name, key, h, b)) for h, b in EXTREMES + tuple(grid))
    return out


def _kernel_error(name: str, key: str, f=None):
    method = f or getattr(activation(name), key)

    def error(ex):
        h, beta = ex
        return relative_error(method(h, beta), mp_reference(name, key, h, beta))

    return error


def _jax_error(name: str, key: str):
    method = getattr(activation(name), key)

    def error(ex):
        h, beta = ex
        ref = float(jax_derivative(name, key)(h, beta))
        # JAX's own rounding (e.g. 1 - tanh^2 in the tails) scales with the size of the terms
        return abs(method(h, beta) - ref) / max(abs(ref), (1 + abs(h)) ** 2 * (1 + abs(beta)) ** 2)

    return error


def _points(smooth: bool):
    h = moderate_or_extreme(-300, 300)
    if not smooth:  # ReLU has a kink at h = 0: compare away from it
        h = h.filter(lambda v: v != 0.0)
    return lambda: st.tuples(h, log_uniform(-6, 3))


def _moderate_points():
    return st.tuples(st.floats(-20, 20).filter(lambda v: abs(v) > 1e-3), log_uniform(-3, 1))


def _smooth(name: str) -> bool:
    """Whether a registered activation has no kink or step (Piecewise, Abs, Max, Min, Heaviside, sign)."""
    expr = ta.parse(activation(name).expression)
    return not expr.has(sp.Piecewise, sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.sign)


def kernel_checks(names=None) -> list[Check]:
    checks = []
    for name in NAMES if names is None else names:
        smooth = name != "relu" if name in BUILTIN else _smooth(name)
        for key in KEYS:
            explicit = tuple(p for p in EXTREMES if smooth or p[0] != 0.0)
            checks.append(Check(f"kernel {name}.{key} vs mpmath", "derived expression, adaptive precision", 1e-13,
                                _points(smooth), _kernel_error(name, key), explicit=explicit, max_examples=60))
            if key != "value":
                checks.append(Check(f"derivative {name}.{key} vs mpmath.diff", "mpmath diff of the value, 60 digits",
                                    1e-30, _moderate_points, _derivative_error(name, key), max_examples=20))
            checks.append(Check(f"kernel {name}.{key} vs JAX", "JAX autodiff (float64)", 1e-12,
                                _moderate_points, _jax_error(name, key), max_examples=60))
    return checks


GROUPS = {"first": (first_rows, ("value", "d_h", "d_beta")), "second": (second_rows, ("d_hh", "d_hbeta", "d_betabeta"))}
# Real roots in x = beta*h of the residual factors that the fused kernels patch by Taylor series (as generated).
ROOTS = tuple(r for roots in ROOTS_BY_NAME.values() for r in roots)
# beta*h of the points that share a row with each drawn one: in the fast range, so that fast and fallback
# entries mix, and enough of them for the SIMD loop body (not only its remainder) to run
COMPANIONS = np.linspace(-62.5, 62.5, 16)


def _fused_points(smooth: bool):
    """As _points, or in the fast range with beta*h within 0.05 of a root (the fused kernels' Taylor patches)."""
    def strategy():
        offset = st.one_of(st.floats(-0.049, 0.049), log_uniform(-17, -2))
        near_root = st.tuples(st.sampled_from(ROOTS), offset, log_uniform(-6, 6))
        return st.one_of(_points(smooth)(), near_root.map(lambda t: ((t[0] + t[1]) / t[2], t[2])))

    return strategy


def _fused_error(name: str, group: str):
    """Worst error of the rows function over a unit whose samples are the point, -h and COMPANIONS / beta."""
    rows, keys = GROUPS[group]
    k = NAMES.index(name)

    def error(ex):
        h, beta = ex
        hs = np.concatenate(([h, -h], COMPANIONS / beta))
        outs = [np.empty((1, hs.size)) for _ in keys]
        rows(k, hs[None, :], np.array([beta]), *outs)
        return max(relative_error(out[0], [mp_reference(name, key, v, beta) for v in hs]) for key, out in zip(keys, outs))

    return error


def fused_checks(names=None) -> list[Check]:
    checks = []
    for name in NAMES if names is None else names:
        smooth = name != "relu" if name in BUILTIN else _smooth(name)
        explicit = tuple(p for p in EXTREMES if smooth or p[0] != 0.0) + tuple((r, 1.0) for r in ROOTS)
        for group in GROUPS:
            checks.append(Check(f"fused {name}.{group} vs mpmath", "derived expression, adaptive precision", 1e-13,
                                _fused_points(smooth), _fused_error(name, group), explicit=explicit, max_examples=60))
    return checks


# ---- limits, series and identities of the gate theory ----------------------------------------

@cache
def _gate():
    from theory.gate import derivation

    return derivation()


def _mp_expr(expr):
    from theory import gate

    return sp.lambdify((gate.h, gate.beta), expr, modules=[{"sigmoid": lambda z: 1 / (1 + mpmath.exp(-z))}, "mpmath"])


def _noiseless(step: str, derived: str, scale_power: int):
    """|step(h, beta) - derived(h)| at beta|h| = 50, relative to |h|^scale_power: O(e^-50)."""
    def error(h):
        with mpmath.workdps(60):
            f, lim = _mp_expr(_gate()[step]), _mp_expr(_gate()[derived])
            hm = mpmath.mpf(h)
            bm = 50 / abs(hm)
            return float(abs(f(hm, bm) - lim(hm, bm)) / abs(hm) ** scale_power)

    return error


def _series_error(h_beta):
    """|<j> - series| / (|h| (beta|h|)^5): the derived series is exact to O(beta^5)."""
    h, beta = h_beta
    with mpmath.workdps(60):
        f, ser = _mp_expr(_gate()["mean_signal"]), _mp_expr(_gate()["noisy_series"].removeO())
        hm, bm = mpmath.mpf(h), mpmath.mpf(beta)
        return float(abs(f(hm, bm) - ser(hm, bm)) / (abs(hm) * (bm * abs(hm)) ** 5))


def _large_field(step: str, limit_step: str):
    """|g(h) - lim_{h->oo} g| at beta h in [50, 700] (the vanishing-gradient argument)."""
    def error(ex):
        x, beta = ex
        with mpmath.workdps(60):
            f = _mp_expr(_gate()[step])
            lim = _gate()[limit_step]
            return float(abs(f(mpmath.mpf(x) / beta, mpmath.mpf(beta)) - mpmath.mpf(float(lim))) / max(1.0, beta))

    return error


@cache
def _tanh_identity_residual():
    """theory.noise's residual 2 sigma(beta x) - 1 - tanh(beta x/2), as derived (before simplification)."""
    from theory import noise

    residual = 2 / (1 + sp.exp(-noise.beta * noise.xs)) - 1 - sp.tanh(noise.beta * noise.xs / 2)
    derived, _ = noise.tanh_identity()
    return (sp.lambdify((noise.xs, noise.beta), residual, "mpmath"),
            sp.lambdify((noise.xs, noise.beta), derived, "mpmath"))


def _tanh_identity_error(ex):
    """|residual| / |tanh(beta x/2)| at 60 digits, and the same for theory.noise's simplified residual (it must
    vanish identically: a wrong simplification or a wrong sign, as on the talk's slide, fails)."""
    x, beta = ex
    residual, derived = _tanh_identity_residual()
    with mpmath.workdps(60):
        xm, bm = mpmath.mpf(x), mpmath.mpf(beta)
        scale = abs(mpmath.tanh(bm * xm / 2))
        return float(max(abs(residual(xm, bm)), abs(derived(xm, bm))) / scale)


@cache
def _matched_beta():
    from theory import noise

    return sp.lambdify(noise.delta, noise.matched_beta(), "mpmath")


@cache
def _cross_entropy():
    from theory import cross_entropy as ce

    d = ce.derivation()
    return (sp.lambdify((ce.lam, ce.y, ce.q), d["exponent"], "mpmath"),
            sp.lambdify((ce.y, ce.q), d["lambda_saddle"], "mpmath"))


def _slope_error(delta):
    """Slope of the erf law and of sigma(beta*(U-b)) at threshold, with the derived beta."""
    with mpmath.workdps(50):
        dm = mpmath.mpf(delta)
        bstar = _matched_beta()(dm)
        erf_law = lambda u: (1 + mpmath.erf(u / (dm * mpmath.sqrt(2)))) / 2
        logistic = lambda u: 1 / (1 + mpmath.exp(-bstar * u))
        return float(abs(mpmath.diff(erf_law, 0) / mpmath.diff(logistic, 0) - 1))


def _saddle_error(ex):
    """dS/dlambda at the derived saddle, by mpmath differentiation of the exponent."""
    y, q = ex
    s, saddle = _cross_entropy()
    with mpmath.workdps(50):
        lam_c = saddle(mpmath.mpf(y), mpmath.mpf(q))
        return float(abs(mpmath.diff(lambda lv: s(lv, y, q), lam_c)))


def theory_checks() -> list[Check]:
    nonzero_h = lambda: log_uniform(-6, 6)
    unit = st.floats(1e-3, 1 - 1e-3)
    return [
        Check("gate: ESP -> ReLU as beta -> oo", "mpmath at beta|h| = 50", 1e-20,
              nonzero_h, _noiseless("mean_signal", "noiseless_limit", 1)),
        Check("gate: g -> Heaviside as beta -> oo", "mpmath at beta|h| = 50", 1e-19,
              nonzero_h, _noiseless("gradient", "noiseless_gradient", 0)),
        Check("gate: ESP series for beta << 1", "mpmath, remainder / (|h| (beta h)^5)", 1e-2,
              lambda: st.tuples(st.floats(-10, 10).filter(lambda v: abs(v) > 1e-3), st.floats(1e-6, 1e-3)),
              _series_error),
        Check("gate: sigmoid g -> 0 for h >> 1/beta", "mpmath at beta h in [50, 700]", 1e-20,
              lambda: st.tuples(st.floats(50, 700), log_uniform(-3, 3, signed=False)),
              _large_field("sigmoid_gradient", "sigmoid_gradient_large_field")),
        Check("gate: ESP g -> 1 for h >> 1/beta", "mpmath at beta h in [50, 700]", 1e-19,
              lambda: st.tuples(st.floats(50, 700), log_uniform(-3, 3, signed=False)),
              _large_field("gradient", "esp_gradient_large_field")),
        Check("noise: tanh(beta x/2) = 2 sigma(beta x) - 1", "mpmath 60 digits", 1e-50,
              lambda: st.tuples(log_uniform(-6, 2), log_uniform(-3, 3, signed=False)), _tanh_identity_error),
        Check("noise: matched slope beta = sqrt(8/pi)/delta", "mpmath diff at threshold", 1e-40,
              lambda: log_uniform(-3, 3, signed=False), _slope_error, max_examples=20),
        Check("cross-entropy: dS/dlambda = 0 at the saddle", "mpmath diff", 1e-40,
              lambda: st.tuples(unit, unit), _saddle_error, max_examples=20),
    ]


def _fixed_hidden(strategy, name):
    """Examples of verify.mlp/verify.hessian with every hidden layer of activation ``name``."""
    return lambda: strategy().map(lambda ex: (ex[0], (name,) * len(ex[1])) + tuple(ex[2:]))


def registered_checks(names=None) -> list[Check]:
    """Loss gradients and exact Hessians of networks of each registered activation against the JAX model."""
    from verify import hessian as vh
    from verify import mlp as vm

    install_jax_units()
    checks = []
    for name in NAMES[len(BUILTIN):] if names is None else names:
        checks += [
            Check(f"mlp {name}: gradients vs JAX", "jax.value_and_grad of an independent JAX MLP", 1e-10,
                  _fixed_hidden(vm.mlp_examples, name), vm.gradient_error, max_examples=15),
            Check(f"mlp {name}: hessian vs JAX", "jax.hessian of an independent JAX MLP", 1e-10,
                  _fixed_hidden(vh.hessian_examples, name), vh.hessian_error, max_examples=10),
        ]
    return checks


def activation_checks(name: str) -> list[Check]:
    """Every row of one (built-in or registered) activation."""
    return kernel_checks([name]) + fused_checks([name]) + (registered_checks([name]) if name not in BUILTIN else [])


CHECKS = kernel_checks() + fused_checks() + theory_checks() + registered_checks()
CHECKS = with_budget(CHECKS, 25)
_AT_IMPORT = tuple(NAMES)


def late_checks() -> list[Check]:
    """The rows of the activations registered after this module was imported."""
    return [c for name in NAMES if name not in _AT_IMPORT for c in activation_checks(name)]
