import pytest
import sympy as sp

from theory.activations import REGISTRY, beta, derivatives, expression, h, sigmoid


def test_registry_expressions():
    assert REGISTRY["esp"] == h * sigmoid(beta * h)
    assert set(REGISTRY) == {"esp", "sigmoid", "tanh", "relu", "linear"}


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError, match="esp, sigmoid, tanh, relu, linear"):
        expression("swish2")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_derivatives_agree_with_exp_form(name):
    f = REGISTRY[name].rewrite(sp.exp)
    d = derivatives(name)
    assert sp.simplify((d["d_h"] - sp.diff(f, h)).rewrite(sp.exp)) == 0
    assert sp.simplify((d["d_betabeta"] - sp.diff(f, beta, 2)).rewrite(sp.exp)) == 0


def test_sigmoid_function_basics():
    assert sigmoid(0) == sp.Rational(1, 2)
    x = sp.Symbol("x", real=True)
    assert sp.diff(sigmoid(x), x) == sigmoid(x) * sigmoid(-x)
    assert abs(float(sigmoid(sp.Float(2.0)).evalf()) - 0.8807970779778823) < 1e-15
