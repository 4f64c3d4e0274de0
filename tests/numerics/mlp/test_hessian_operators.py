"""Hessian operators of JAX losses, PyTorch modules and the toolkit's Network, against dense references."""

import numpy as np
import pytest

from numerics import Network, jax_hessian, torch_hessian
from verify.spectrum import jax_error, torch_error


def test_jax_hessian_matches_jax_hessian():
    assert jax_error(((3, 2), "tanh", 5, 0)) < 1e-12


def test_jax_hessian_blocks_follow_the_pytree():
    import jax.numpy as jnp

    op = jax_hessian(lambda p, b: jnp.sum(p["w"] ** 2) * p["c"][0], {"w": np.ones((2, 3)), "c": np.ones(1)}, None)
    assert op.blocks == [("c", slice(0, 1)), ("w", slice(1, 7))]
    np.testing.assert_allclose(op.matmat(np.eye(7)), op @ np.eye(7), rtol=1e-15)
    assert op.matvec(np.ones(7)).dtype == np.float64


def test_torch_hessian_matches_torch_autograd():
    pytest.importorskip("torch")
    assert torch_error(((3, 2), "tanh", 5, 0)) < 1e-12
    assert torch_error(((4,), "sigmoid", 2, 1)) < 1e-12


def test_torch_hessian_batched_products_equal_single_ones():
    pytest.importorskip("torch")
    from verify.spectrum import _mlp, torch_mlp

    layers, _, X, y, rng = _mlp(((3, 2), "tanh", 5, 0))
    op = torch_hessian(torch_mlp(layers), lambda out, t: ((out[:, 0] - t) ** 2).mean(), X, y)
    V = rng.standard_normal((op.shape[0], 4))
    np.testing.assert_allclose(op.matmat(V), np.column_stack([op.matvec(v) for v in V.T]), rtol=1e-13, atol=1e-15)


def test_torch_hessian_keeps_float32_models_in_float32():
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(3, 1)
    X, y = np.random.default_rng(0).standard_normal((4, 3)), np.zeros(4)
    op = torch_hessian(model, lambda out, t: ((out[:, 0] - t) ** 2).mean(), X, y)
    H = op @ np.eye(4)
    A = np.hstack([X, np.ones((4, 1))])
    np.testing.assert_allclose(H, 2 * A.T @ A / 4, rtol=1e-5)  # float32 accuracy
    with pytest.raises(TypeError, match="torch.nn.Module"):
        torch_hessian(lambda x: x, None, X, y)


def test_network_hessian_operator_blocks_and_products():
    net = Network.from_spec("3-4-2", hidden="esp", output="softmax", train_beta=[[True, False, True, False], False])
    params = net.init(1)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((7, 3)), rng.integers(0, 2, 7)
    op = net.hessian_operator(params, X, y)
    assert [n for n, _ in op.blocks] == ["W1", "b1", "beta1", "W2", "b2"]
    assert op.blocks[2][1] == slice(16, 18) and op.shape == (net.n_params, net.n_params)
    np.testing.assert_allclose(op @ np.eye(net.n_params), net.hessian(params, X, y), atol=1e-13)
    np.testing.assert_array_equal(op.toarray(), net.hessian(params, X, y))
