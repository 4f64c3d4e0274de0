import sympy as sp

from theory.noise import beta, delta, derivation, matched_beta, minimax_constant, tanh_identity


def test_matched_beta_is_sqrt_8_over_pi_over_delta():
    assert sp.simplify(matched_beta() - sp.sqrt(8 / sp.pi) / delta) == 0


def test_firing_probability_is_half_one_plus_erf():
    from theory.noise import U, Ubar, b, firing_probability

    expected = (1 + sp.erf((Ubar - b) / (delta * sp.sqrt(2)))) / 2
    assert sp.simplify(firing_probability() - expected) == 0
    del U


def test_minimax_constant_matches_the_published_value():
    # Bowling et al. (2009), J. Ind. Eng. Manag. 2:114: c = 1.7017449..., max error 0.009457
    c, err = minimax_constant()
    assert abs(c - 1.7017449) < 5e-7
    assert abs(err - 0.009457) < 5e-6


def test_tanh_identity_has_the_correct_sign_and_the_slides_do_not():
    correct, slides = tanh_identity()
    assert correct == 0
    assert slides != 0
    x = sp.Symbol("x", real=True)
    assert sp.simplify(slides - (-2 * sp.tanh(beta * x / 2))) == 0


def test_derivation_has_the_steps():
    keys = derivation().as_json().keys()
    assert {"firing_probability", "matched_beta", "minimax_beta_delta1", "tanh_identity"} <= set(keys)
