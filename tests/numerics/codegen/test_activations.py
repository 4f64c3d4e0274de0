from numerics.codegen import activations as codegen


def test_esp_gradient_has_the_expected_product_form():
    from theory.activations import derivatives

    form = codegen.product_form(derivatives("esp")["d_h"])
    assert (form.g, form.i, form.j, form.k) == (1, 1, 0, 0)
    (residual,) = form.residuals
    # 1 + x sigma(-x) vanishes at x = -1 - W(1/e) = -1.27846454276107...
    (root,) = residual.roots
    assert abs(root[0] + 1.2784645427610738) < 1e-15


def test_kernels_without_sigmoid_are_printed_directly():
    from theory.activations import derivatives

    assert codegen.product_form(derivatives("relu")["value"]) is None
