import sympy as sp

from theory.cross_entropy import derivation, q, y


def test_loss_is_binary_cross_entropy():
    loss = derivation()["loss"]
    assert sp.simplify(loss - (-(y * sp.log(q) + (1 - y) * sp.log(1 - q)))) == 0


def test_saddle_value_of_u():
    u_c = derivation()["saddle"]
    assert sp.simplify(u_c - y * (1 - q) / (q * (1 - y))) == 0


def test_constant_vanishes_for_binary_labels():
    constant = derivation()["label_entropy"]
    assert sp.limit(constant, y, 1) == 0 and sp.limit(constant, y, 0) == 0
