import warnings

import numpy as np
import pytest

import numerics
from numerics._generated.activations import BETA_DEPENDENT
from numerics.kernels.activations import KEYS, NAMES


def test_api_shapes_and_scalars():
    a = numerics.activation("esp")
    assert isinstance(a.value(1.0, 2.0), float)
    out = a.d_h(np.linspace(-3, 3, 12).reshape(3, 4), np.array([0.5, 1.0, 2.0, -1.0]))
    assert out.shape == (3, 4) and out.dtype == np.float64
    assert a.value(np.arange(3), 1).dtype == np.float64  # ints are accepted
    from theory.activations import REGISTRY

    assert tuple(numerics.ACTIVATIONS)[: len(REGISTRY)] == tuple(REGISTRY)  # the built-ins, in registry order


def test_large_inputs_take_the_threaded_path_with_the_same_values():
    a = numerics.activation("sigmoid")
    h = np.linspace(-50, 50, 1 << 17)
    small = np.array([a.d_hbeta(v, 0.7) for v in h[:: 1 << 10]])
    assert np.array_equal(a.d_hbeta(h, 0.7)[:: 1 << 10], small)


EXTREME_H = np.array([0.0, 5e-324, -5e-324, 1e-300, -1e-300, 1.0, -1.0, 1e300, -1e300, 1.7e308, -1.7e308])


@pytest.mark.parametrize("name", NAMES)
def test_no_warnings_in_the_documented_beta_range(name):
    a = numerics.activation(name)
    for beta in (0.0, 1e-6, -1e-6, 1.0, 1e3, -1e3):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for key in KEYS:
                if beta == 0.0 and key in ("d_beta", "d_betabeta") and name in BETA_DEPENDENT:
                    continue  # h^2/4 and friends overflow for |h| ~ 1e308: checked below
                assert not np.any(np.isnan(getattr(a, key)(EXTREME_H, beta))), (key, beta)


@pytest.mark.parametrize("name", BETA_DEPENDENT)
def test_inf_only_where_the_true_value_overflows(name):
    from verify.gate import mp_reference

    a = numerics.activation(name)
    for beta in (0.0, 1e-300, -1e-300, 1e300, -1e300, 1e-6, 1e3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # genuine overflow to inf
            for key in KEYS:
                out = getattr(a, key)(EXTREME_H, beta)
                assert not np.any(np.isnan(out)), (key, beta)
                for h, v in zip(EXTREME_H, out):
                    if not np.isfinite(v):
                        assert mp_reference(name, key, h, beta) == v, (key, h, beta)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("key", KEYS)
def test_jitted_kernel_matches_its_python_version(name, key):
    kernel = getattr(numerics.activation(name).kernels, key)
    rng = np.random.default_rng(7)
    for h, beta in zip(rng.normal(0, 5, 50), rng.normal(0, 2, 50)):
        jit, py = kernel(h, beta), kernel.py_func(h, beta)
        assert jit == py or abs(jit - py) <= 4 * np.spacing(abs(py))


def test_values_at_known_points():
    # independent closed forms written with the math module
    import math

    esp, sig, th = (numerics.activation(n) for n in ("esp", "sigmoid", "tanh"))
    assert esp.value(2.0, 0.5) == pytest.approx(2.0 / (1 + math.exp(-1.0)), rel=1e-15)
    assert sig.d_h(1.0, 3.0) == pytest.approx(3.0 * math.exp(-3.0) / (1 + math.exp(-3.0)) ** 2, rel=1e-14)
    assert th.d_beta(0.5, 2.0) == pytest.approx(0.5 / math.cosh(1.0) ** 2, rel=1e-14)
    assert numerics.activation("relu").d_h(0.0, 1.0) == 0.0  # convention, as jax.nn.relu
    # ReLU as the beta -> oo limit of ESP, tails exact
    assert esp.value(-1e300, 1e3) == 0.0 and esp.value(1e300, 1e3) == 1e300


def test_bad_input():
    a = numerics.activation("esp")
    with pytest.raises(ValueError, match="beta must be finite"):
        a.value(1.0, np.inf)
    with pytest.raises(ValueError, match="h must be finite"):
        a.value(np.nan, 1.0)
    with pytest.raises(TypeError, match="h must be real numbers"):
        a.value("1.0", 1.0)
    with pytest.raises(TypeError, match="beta must be real numbers"):
        a.value(1.0, 1 + 2j)
    with pytest.raises(ValueError, match=r"broadcast together, got shapes \(3,\) and \(2,\)"):
        a.value(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="known activations: esp, sigmoid, tanh, relu, linear"):
        numerics.activation("swish")


def test_which_builtins_depend_on_beta():
    from numerics.kernels.activations import depends_on_beta

    assert [depends_on_beta(n) for n in ("esp", "sigmoid", "tanh", "relu", "linear")] == [True, True, True, False, False]
