import pytest
import sympy as sp

from theory.activations import REGISTRY, beta, derivatives, expression, h, sigmoid


def test_registry_expressions():
    assert REGISTRY["esp"] == h * sigmoid(beta * h)
    assert {"esp", "sigmoid", "tanh", "relu", "linear"} <= set(REGISTRY)  # the documented built-ins


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


# ---- user expressions ----

from theory.activations import Phi, parse, sech2, softplus, stanh, user_derivatives  # noqa: E402


@pytest.mark.parametrize("text", [
    "h*Phi(beta*h)", "h*tanh(softplus(beta*h))", "h/(1 + abs(beta*h))", "max(h, 0.1*h)",
    "Piecewise((h, h > 0), ((exp(beta*h) - 1)/beta, True))", "1.702*h*sigmoid(0.1234567890123456789*beta*h)",
])
def test_parse_round_trips_through_sympy_text(text):
    expr = parse(text)
    assert parse(sp.sstr(expr, full_prec=True)) == expr


def test_parse_builds_the_named_functions():
    assert parse("h*Phi(beta*h)") == h * Phi(beta * h)
    assert parse("softplus(h) - log(1 + exp(h))").rewrite(sp.exp).simplify() == 0
    assert parse("h**2/2 + pi") == h**2 / 2 + sp.pi


@pytest.mark.parametrize("text, fragment", [
    ("h.real", "Attribute"), ("__import__('os')", "function"), ("foo(h)", "'foo'"), ("h*x", "'x'"),
    ("1e999*h", "non-finite"), ("h^2", "**"), ("Piecewise((h, h > 0))", "last condition"), ("exp(h, h)", "2 arguments"),
])
def test_parse_refuses(text, fragment):
    with pytest.raises(ValueError, match="not allowed") as info:
        parse(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize("text", ["h*Phi(beta*h)", "h*tanh(softplus(beta*h))", "h*(1 + erf(beta*h))/2",
                                  "2*h*sinh(beta*h)/(1 + 2*cosh(beta*h))"])
def test_stable_derivatives_equal_sympy_derivatives(text):
    f = parse(text)
    stable = user_derivatives(f, stable=True)
    plain = {"d_h": sp.diff(f, h), "d_hbeta": sp.diff(f, h, beta), "d_betabeta": sp.diff(f, beta, 2)}
    for key, d in plain.items():
        diff = (stable[key] - d).rewrite(sp.exp).replace(Phi, lambda u: sp.erfc(-u / sp.sqrt(2)) / 2)
        diff = diff.replace(stanh, sp.tanh).replace(sech2, lambda u: 1 - sp.tanh(u) ** 2).rewrite(sp.exp)
        for hv, bv in ((sp.Rational(3, 10), sp.Rational(17, 10)), (sp.Rational(-11, 10), sp.Rational(2, 5))):
            assert abs(complex(diff.evalf(40, subs={h: hv, beta: bv}))) < 1e-25, (key, hv, bv)


def test_stable_rewrites():
    assert user_derivatives(parse("h*(1 + erf(beta*h/sqrt(2)))/2"), stable=True)["value"] == h * Phi(beta * h)
    assert sp.diff(softplus(h), h) == sigmoid(h)
    assert sp.diff(stanh(h), h) == sech2(h)
