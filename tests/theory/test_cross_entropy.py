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


def test_output_layers_gradient_and_curvature():
    """The derived dl/dz and d2l/dz2: sigma(z) - y and sigma(z) sigma(-z); p - y and diag(p) - p p^T; z - y and 1."""
    from theory.cross_entropy import ys, z, zs

    d = derivation()
    sigma = 1 / (1 + sp.exp(-z))
    assert sp.simplify(d["sigmoid.dl_dz"] - (sigma - y)) == 0
    assert sp.simplify(d["sigmoid.d2l_dz2"] - sigma * sigma.subs(z, -z)) == 0
    total = sum(sp.exp(zk) for zk in zs)
    p = [sp.exp(zj) / total for zj in zs]
    assert all(sp.simplify(d["softmax.dl_dz"][j] - (p[j] - ys[j])) == 0 for j in range(3))
    assert all(sp.simplify(d["softmax.d2l_dz2"][j, k] - (p[j] * int(j == k) - p[j] * p[k])) == 0
               for j in range(3) for k in range(3))
    assert d["linear.dl_dz"] == z - y and d["linear.d2l_dz2"] == 1


def test_stable_forms_equal_the_derived_ones():
    """Every *.residual step of the cancellation-free forms reduces to 0."""
    d = derivation()
    residuals = [s for s in d.steps if s.key.endswith("residual")]
    assert len(residuals) == 5
    for step in residuals:
        values = step.expr if isinstance(step.expr, sp.Tuple) else (step.expr,)
        assert all(v == 0 for v in values), step.key
