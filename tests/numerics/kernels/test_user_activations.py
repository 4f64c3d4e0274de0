"""Registered activations, end to end: parse, derive, generate, cache, kernels, training, Hessian, overlap map.

References: mpmath (numerical differentiation of the value expression, 40 digits), JAX autodiff of the
expression lambdified into jax.numpy, and Monte Carlo networks; none of them uses the derived expressions.
"""

import json
import os
import subprocess
import sys
import warnings

import mpmath
import numpy as np
import pytest
import sympy as sp

import numerics
import verify.gate  # noqa: F401  (the check table is built before any registration of this module)
from numerics.kernels import user_activations
from numerics.kernels.activations import (
    BUILTIN,
    KEYS,
    NAMES,
    activation,
    register_activation,
    unregister_activation,
)
from theory import activations as ta

# (name, expression, relative tolerance of the kernels against mpmath at moderate points)
TABLE = [
    ("t_gelu", "h*Phi(beta*h)", 1e-13),
    ("t_mish", "h*tanh(softplus(beta*h))", 1e-13),
    ("t_softsign", "h/(1 + abs(beta*h))", 1e-13),
    ("t_elu", "Piecewise((h, h > 0), ((exp(beta*h) - 1)/beta, True))", 1e-12),
    # spin-1 gate: s in {-1, 0, 1}, Z = 1 + 2 cosh(beta h), <s> = 2 sinh(beta h) / Z, unit output h <s>
    ("t_gate", "2*h*sinh(beta*h)/(1 + 2*cosh(beta*h))", 1e-12),
]
NAMES_OF_TABLE = [row[0] for row in TABLE]
MODERATE = [(-2.3, 0.5), (-0.7, 1.3), (0.4, -0.8), (1.9, 1.3), (-0.7, -0.8), (1.9, 0.5)]
SLOW = pytest.mark.slow
# rows whose Hessian and overlap-map tests run by default (the others are marked slow)
DEFAULT = ("t_gelu", "t_elu")


def _rows(names):
    return [n if n in DEFAULT else pytest.param(n, marks=SLOW) for n in names]


@pytest.fixture(scope="module")
def registered():
    for name, expr, _ in TABLE:
        register_activation(name, expr)
    yield
    for name in NAMES_OF_TABLE:
        unregister_activation(name)


def _mp_value(expr_text):
    mods = [ta.mpmath_functions(), "mpmath"]
    return sp.lambdify((ta.h, ta.beta), ta.parse(expr_text), modules=mods)


@pytest.mark.parametrize("name, expr, tol", TABLE)
def test_kernels_match_mpmath_derivatives_of_the_value(registered, name, expr, tol):
    f = _mp_value(expr)
    a = activation(name)
    orders = {key: (nh, nb) for key, nh, nb in ta.DERIVATIVES}
    for h, b in MODERATE:
        with mpmath.workdps(40):
            for key in KEYS:
                ref = mpmath.diff(f, (mpmath.mpf(h), mpmath.mpf(b)), orders[key])
                got = getattr(a, key)(h, b)
                assert abs(got - ref) <= tol * max(abs(ref), 1e-300), (key, h, b, got, ref)


@pytest.mark.parametrize("name, expr, tol", TABLE)
def test_fused_rows_agree_with_the_scalar_kernels(registered, name, expr, tol):
    from numerics.kernels.activations import first_rows, second_rows

    k = NAMES.index(name)
    h = np.concatenate([np.linspace(-30, 30, 37), [1e-300, -1e300, 7e8, -7e8], np.linspace(-1e3, 1e3, 5)])
    betas = np.array([0.7, -1.3, 1e-6])  # one unit per beta, every unit fed the same fields
    block = np.tile(h, (betas.size, 1))
    outs = [np.empty_like(block) for _ in range(6)]
    first_rows(k, block, betas, *outs[:3])
    second_rows(k, block, betas, *outs[3:])
    a = activation(name)
    for key, out in zip(KEYS, outs):
        for j, beta in enumerate(betas):
            ref = getattr(a, key)(h, beta)
            assert np.allclose(out[j], ref, rtol=1e-14, atol=0, equal_nan=True), (key, beta)


@pytest.mark.parametrize("name, expr, tol", TABLE)
def test_no_warnings_and_no_nan_at_extreme_inputs(registered, name, expr, tol):
    a = activation(name)
    h = np.array([0.0, 5e-324, 1e-300, -1e-300, 1.0, -1.0, 7.1e8, -7.4e8, 1e300, -1e300])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for beta in (1e-6, -1e-6, 1.0, 1e3, -1e3):
            for key in KEYS:
                out = getattr(a, key)(h, beta)
                if name == "t_elu" and beta < 0:  # e^(beta h) for h < 0 overflows: the true value is not finite
                    continue
                if name == "t_gate":  # outside the stable families: its derivatives' terms cancel for |beta h| >> 1
                    out = out[np.abs(h * beta) < 700]
                assert not np.any(np.isnan(out)), (key, beta, out)


@SLOW
@pytest.mark.parametrize("name", ["t_gelu", "t_mish"])
def test_stable_families_meet_1e13_on_extreme_points(registered, name):
    from verify.gate import EXTREMES, mp_reference
    from verify.metrics import relative_error

    a = activation(name)
    points = [p for p in EXTREMES if abs(p[0]) < 1e300]  # |h| = 1e300: every value underflows or is h itself
    for key in KEYS:
        for h, b in points:
            assert relative_error(getattr(a, key)(h, b), mp_reference(name, key, h, b)) <= 1e-13, (key, h, b)


def _data(n_in, samples=16, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, n_in))
    y = (X[:, 0] * X[:, -1] > 0).astype(float)
    return X, y


@pytest.mark.parametrize("name", NAMES_OF_TABLE)
@pytest.mark.parametrize("train_beta", [True, pytest.param(False, marks=SLOW)])
def test_training_step_gradient_matches_jax(registered, name, train_beta):
    from verify import jax_models
    from verify.gate import install_jax_units

    install_jax_units()
    net = numerics.Network.from_spec("3-5-4-1", hidden=name, train_beta=train_beta)
    params = net.init(7)
    for k in params:
        if k.startswith("beta"):
            params[k] = params[k] + 0.9
    X, y = _data(3)
    loss, grad = net.loss_and_grad(params, X, y)
    X_, Y_ = net.targets(X, y)
    ref_loss, ref = jax_models.value_and_grad(params, X_, Y_, net.hidden, net.output)
    assert abs(loss - float(ref_loss)) <= 1e-13 * abs(float(ref_loss))
    for k, g in grad.items():
        assert np.max(np.abs(g - np.asarray(ref[k]))) <= 1e-11 * max(np.max(np.abs(np.asarray(ref[k]))), 1e-300), k
    # one SGD step of the trainer equals theta - lr * grad
    result = numerics.mlp.train(net, X, y, epochs=1, lr=0.05, optimizer="sgd", params=params)
    for k, g in grad.items():
        assert np.allclose(result.params[k], params[k] - 0.05 * g, rtol=1e-12, atol=1e-15), k


@pytest.mark.parametrize("name", _rows(NAMES_OF_TABLE))
def test_hessian_and_hvp_match_jax(registered, name):
    from verify import hessian as vh
    from verify.gate import install_jax_units

    install_jax_units()
    net = numerics.Network.from_spec("2-4-3-1", hidden=[name, "esp"], train_beta=True)
    params = net.init(11)
    for k in params:
        if k.startswith("beta"):
            params[k] = params[k] + 1.1
    X, y = _data(2, samples=9)
    H = net.hessian(params, X, y)
    ref = vh.reference_hessian(net, params, X, y)
    assert np.max(np.abs(H - ref)) <= 1e-10 * np.max(np.abs(ref))
    v = np.random.default_rng(0).standard_normal(H.shape[0])
    assert np.allclose(net.hvp(params, X, y, v), ref @ v, rtol=1e-9, atol=1e-12 * np.max(np.abs(ref @ v)))


@pytest.mark.parametrize("name", _rows(["t_gelu", "t_elu", "t_gate"]))
def test_overlap_map_matches_monte_carlo(registered, name):
    from numerics.simulate import networks as sim
    from numerics.solvers import function_space as nfs

    case = dict(perturbations=[0.5, 0.7], activation=name, beta=1.5, sigma=1.3)
    theory = nfs.overlap_recursion(**case).q
    measured = sim.simulate_overlap(**case, width=500, inputs=30, replicas=12, seed=20240611)
    assert np.all(np.abs(measured.q - theory) <= 4 * measured.stderr)
    assert np.all(measured.stderr < 0.01)


def test_mean_field_propagation_runs_for_a_registered_activation(registered):
    from numerics.solvers.propagation import critical_sigma_w

    crit = critical_sigma_w("t_gelu", 0.1, 1.0)
    assert crit.activation == "t_gelu" and np.isfinite(crit.sigma_w) and crit.sigma_w > 0
    assert crit.beta == 1.0  # recorded: h Phi(beta h) depends on beta


@SLOW
def test_product_forms_are_the_builtin_generator():
    """h sigma(beta h) registered by the user takes the generator's product forms: the esp kernels."""
    from numerics.codegen import activations as codegen

    user = codegen.generate_user(ta.parse("h*sigmoid(beta*h)"))
    builtin = codegen.generate()
    body = user[user.index("def act_d_hh"):user.index("@njit", user.index("def act_d_hh"))]
    assert body.replace("act_d_hh", "esp_d_hh") in builtin


HOSTILE = [
    '__import__("os").system("echo pwned")',
    "h.__class__",
    "().__class__.__bases__[0]",
    "open('/etc/passwd')",
    "eval('1')",
    "lambda: h",
    "[h for h in ()]",
    "h if beta else 0",
    "h; import os",
    "h*x",
    "h*inf",
    "h*nan",
    "1e400*h",
    "h/0",
    "h**1000",
    "h^2",
    "exp(h, beta)",
    "exp(h=1)",
    "Piecewise((h, h > 0))",
    "'h'",
    "h" * 3000,
    "",
    "h +",
    "I*h",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_and_malformed_expressions_are_refused(text):
    before = dict(numerics.kernels.activations.registered())
    with pytest.raises(ValueError, match="expr"):
        register_activation("t_bad", text)
    assert numerics.kernels.activations.registered() == before
    assert "t_bad" not in NAMES


def test_sympy_input_with_other_symbols_or_functions_is_refused():
    x = sp.Symbol("x")
    with pytest.raises(ValueError, match="free symbols x"):
        register_activation("t_bad", x * ta.h)
    with pytest.raises(ValueError, match="gamma"):
        register_activation("t_bad", sp.gamma(ta.h))
    with pytest.raises(ValueError, match="non-finite"):
        register_activation("t_bad", sp.oo * ta.h)


@pytest.mark.parametrize("name", ["esp", "Bad", "1x", "a b", "x" * 40, ""])
def test_bad_names_are_refused(name):
    with pytest.raises(ValueError, match="name"):
        register_activation(name, "h")


def test_run_directory_record_reregisters_without_the_registration(registered, tmp_path):
    from meanfield.runs import CONFIG, RunDir

    net = numerics.Network.from_spec("2-3-1", hidden="t_softsign")
    run = RunDir(tmp_path / "run")
    run.open({"network": net.config()})
    saved = json.loads((tmp_path / "run" / CONFIG).read_text())
    assert saved["activations"] == {"t_softsign": activation("t_softsign").expression}
    unregister_activation("t_softsign")
    assert "t_softsign" not in NAMES
    cfg = run.read_json(CONFIG)  # registers the recorded expression again
    assert numerics.Network.from_config(cfg["network"]).hidden == ("t_softsign",)
    assert "t_softsign" in NAMES
    # a different expression under the same name is refused, not silently replaced
    with pytest.raises(ValueError, match="recorded"):
        activation({"name": "t_softsign", "expr": "h"})


def test_recorded_expressions_are_parsed_by_the_whitelist(tmp_path):
    from meanfield.runs import CONFIG, RunDir

    (tmp_path / CONFIG).write_text(json.dumps({"activations": {"t_evil": '__import__("os").system("x")'}}))
    with pytest.raises(ValueError, match="not allowed"):
        RunDir(tmp_path).read_json(CONFIG)
    assert "t_evil" not in NAMES


@SLOW
def test_persisted_registration_reaches_a_new_process(tmp_path, monkeypatch):
    monkeypatch.setenv("MEANFIELD_CACHE", str(tmp_path))
    register_activation("t_persist", "h*sigmoid(2*beta*h)", persist=True)
    try:
        assert json.loads((tmp_path / "activations.json").read_text()) == {"t_persist": "h*sigmoid(2*beta*h)"}
        assert len(list((tmp_path / "kernels").glob("act_*.py"))) == 1
        code = "import numerics; print(numerics.activation('t_persist').value(1.0, 0.5))"
        env = dict(os.environ, PYTHONPATH=os.getcwd())
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        assert float(out.stdout) == pytest.approx(1 / (1 + np.exp(-1.0)), rel=1e-15)
    finally:
        unregister_activation("t_persist")
    assert json.loads((tmp_path / "activations.json").read_text()) == {}
    assert "t_persist" not in NAMES


def test_builtins_keep_their_index_and_names_is_live(registered):
    assert tuple(NAMES[: len(BUILTIN)]) == BUILTIN
    assert NAMES.index("t_gelu") >= len(BUILTIN)
    assert set(NAMES_OF_TABLE) <= set(NAMES)
    assert user_activations.cache_dir() == user_activations.Path(os.environ["MEANFIELD_CACHE"])
