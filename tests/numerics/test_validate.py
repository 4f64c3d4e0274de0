import math

import numpy as np
import pytest

from numerics import validate


def test_integer_accepts_integral_values_in_range():
    assert validate.integer("n", 3, low=1) == 3
    assert validate.integer("n", np.int64(3), low=1, high=3) == 3
    assert validate.integer("n", 4.0, low=1) == 4 and type(validate.integer("n", 4.0, low=1)) is int
    assert validate.integer("n", -5) == -5


@pytest.mark.parametrize("value, low, high, error, message", [
    (0, 1, None, ValueError, "n must be an integer >= 1, got 0"),
    (11, 1, 10, ValueError, r"n must be an integer in \[1, 10\], got 11"),
    (2.5, 1, None, ValueError, "n must be an integer >= 1, got 2.5"),
    (math.nan, 1, None, ValueError, "got nan"),
    (math.inf, 1, None, ValueError, "got inf"),
    (True, 0, None, TypeError, "n must be an integer >= 0, got True"),
    ("3", 0, None, TypeError, "got '3'"),
    (None, 0, None, TypeError, "got None"),
])
def test_integer_refuses(value, low, high, error, message):
    with pytest.raises(error, match=message):
        validate.integer("n", value, low=low, high=high)


def test_integer_open_upper_bound_and_seed():
    assert validate.integer("k", 9, low=0, high=10, open_high=True) == 9
    with pytest.raises(ValueError, match=r"k must be an integer in \[0, 10\), got 10"):
        validate.integer("k", 10, low=0, high=10, open_high=True)
    assert validate.seed("--seed", 2**32 - 1) == 2**32 - 1
    for bad in (-1, 2**32):
        with pytest.raises(ValueError, match=r"--seed must be an integer in \[0, 2\*\*32\)"):
            validate.seed("--seed", bad)


@pytest.mark.parametrize("kwargs, good, bad, message", [
    ({}, [-1e308, 0, 1e308], [math.nan, math.inf, -math.inf], "x must be a finite number, got"),
    ({"low": 0.0, "open_low": True}, [5e-324, 1.0], [0.0, -1.0, math.nan], "x must be a finite number > 0, got"),
    ({"low": 0.0}, [0.0, 2.0], [-5e-324, math.inf], "x must be a finite number >= 0, got"),
    ({"low": 0.0, "high": 1.0, "open_high": True}, [0.0, 0.5], [1.0, -0.1], r"x must be a finite number in \[0, 1\), got"),
    ({"low": -1.0, "high": 1.0}, [-1.0, 1.0], [1.5, math.nan], r"x must be a finite number in \[-1, 1\], got"),
    ({"high": 1e9}, [-3.0, 1e9], [2e9], "x must be a finite number <= 1e\\+09, got"),
])
def test_real_bounds(kwargs, good, bad, message):
    for v in good:
        assert validate.real("x", v, **kwargs) == v
    for v in bad:
        with pytest.raises(ValueError, match=message):
            validate.real("x", v, **kwargs)


def test_real_types_and_expected():
    assert type(validate.real("x", np.float32(0.5))) is float
    for bad in (True, "1", None, [1.0], 1j):
        with pytest.raises(TypeError, match="x must be a finite number"):
            validate.real("x", bad)
    with pytest.raises(ValueError, match=r"^--lr must be a positive step, got -1.0$"):
        validate.real("--lr", -1.0, low=0.0, open_low=True, expected="a positive step")
    with pytest.raises(ValueError, match=r"got 2.0$"):  # numpy scalars are shown as plain numbers
        validate.real("x", np.float64(2.0), high=1.0)


def test_optional():
    assert validate.optional(validate.real, "tol", None, low=0.0) is None
    assert validate.optional(validate.real, "tol", 0.1, low=0.0) == 0.1
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        validate.optional(validate.real, "tol", -0.1, low=0.0)


def test_real_array():
    out = validate.real_array("X", [[1, 2], [3, 4]], ndim=2)
    assert out.dtype == np.float64 and out.shape == (2, 2)
    assert validate.real_array("h", np.array([True, False])).tolist() == [1.0, 0.0]
    with pytest.raises(TypeError, match="X must be a real array, got dtype"):
        validate.real_array("X", np.array(["a"]))
    with pytest.raises(TypeError, match="X must be a real array"):
        validate.real_array("X", np.array([1j]))
    with pytest.raises(ValueError, match=r"X must be a non-empty 2-D array, got shape \(3,\)"):
        validate.real_array("X", np.ones(3), ndim=2)
    with pytest.raises(ValueError, match=r"X must be a matrix, got shape \(0, 2\)"):
        validate.real_array("X", np.ones((0, 2)), ndim=2, expected="a matrix")
    with pytest.raises(ValueError, match="X must be finite"):
        validate.real_array("X", [1.0, math.nan])


def test_choice_and_known():
    assert validate.choice("kernel", "ntk", ("nngp", "ntk")) == "ntk"
    with pytest.raises(ValueError, match="kernel must be one of nngp, ntk, got 'rbf'"):
        validate.choice("kernel", "rbf", ("nngp", "ntk"))
    assert validate.known("activation", "esp", ("esp", "relu")) == "esp"
    with pytest.raises(ValueError, match="activation 'gelu' is not known; known: esp, relu"):
        validate.known("activation", "gelu", ("esp", "relu"))
