"""The gate derivation against the closed forms printed in the paper (independent references)."""

import math

import sympy as sp

from theory.activations import sigmoid
from theory.gate import beta, derivation, h, to_sigmoid

D = derivation()
S = sigmoid(beta * h)
S_NEG = sigmoid(-beta * h)


def same(a, b):
    return sp.simplify((sp.sympify(a) - sp.sympify(b)).rewrite(sp.exp)) == 0


def test_partition_function_and_gate_probability():
    assert same(D["partition_function"], 1 + sp.exp(beta * h))
    assert same(D["gate_probability"], sp.exp(beta * h) / (1 + sp.exp(beta * h)))


def test_mean_gate_and_signal_are_the_papers_eqs_5_and_6():
    assert D["mean_gate"] == S
    assert D["mean_signal"] == h * S


def test_gradient_in_the_papers_form():
    # g(h) = sigma(beta h) [1 + beta h sigma(-beta h)], as printed in section 2.4
    assert same(D["gradient"], S * (1 + beta * h * S_NEG))
    assert D["gradient"].has(S_NEG) and sp.count_ops(D["gradient"]) <= sp.count_ops(S * (1 + beta * h * S_NEG))
    assert same(D["beta_gradient"], h**2 * S * S_NEG)


def test_second_derivatives_match_direct_differentiation_of_the_exp_form():
    j = h / (1 + sp.exp(-beta * h))
    assert same(D["d_hh"], sp.diff(j, h, 2))
    assert same(D["d_hbeta"], sp.diff(j, h, beta))
    assert same(D["d_betabeta"], sp.diff(j, beta, 2))


def test_limits_and_series():
    assert same(D["noiseless_limit"].subs(h, 3), 3) and D["noiseless_limit"].subs(h, -2) == 0
    assert D["noiseless_gradient"].subs(h, 5) == 1 and D["noiseless_gradient"].subs(h, -5) == 0
    series = D["noisy_series"].removeO()
    assert sp.expand(series - (h / 2 + beta * h**2 / 4 - beta**3 * h**4 / 48)) == 0
    assert D["noisy_series"].getO() == sp.O(beta**5)
    assert D["sigmoid_gradient_large_field"] == 0
    assert D["esp_gradient_large_field"] == 1


def test_json_keys_parse_with_plain_sympify():
    out = D.as_json()
    for key in ("partition_function", "mean_gate", "mean_signal", "gradient", "beta_gradient",
                "noiseless_limit", "noisy_series"):
        assert key in out
    hs, bs = sp.Symbol("h"), sp.Symbol("beta")
    parsed = sp.sympify(out["mean_signal"])
    assert parsed.free_symbols == {hs, bs}
    assert sp.simplify(parsed - hs / (1 + sp.exp(-bs * hs))) == 0
    # with the usual locals too
    parsed = sp.sympify(out["gradient"], locals={"beta": bs, "h": hs})
    esp = lambda v: v / (1 + math.exp(-1.3 * v))
    central_difference = (esp(0.7 + 1e-6) - esp(0.7 - 1e-6)) / 2e-6
    assert abs(float(parsed.subs({hs: 0.7, bs: 1.3})) - central_difference) < 1e-8


def test_to_sigmoid_refuses_nothing_it_cannot_prove():
    x = sp.Symbol("x", real=True)
    assert to_sigmoid(sp.exp(x) / (1 + sp.exp(x))) == sigmoid(x)
    assert to_sigmoid(1 / (1 + sp.exp(x))) == sigmoid(-x)
