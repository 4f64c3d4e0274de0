"""Exact Hessians and Hessian-vector products of the MLP loss against independent references.

References: closed forms for one-layer networks (least squares: X~^T X~ (x) 1;
logistic regression: sum sigma(1 - sigma) x~ x~^T), central differences of
``Network.loss_and_grad`` (its own backward pass, checked against JAX in
tests/verify), and the structure a dead ReLU unit imposes (exactly zero rows).
JAX itself is the oracle of tests/verify/test_hessian.py.
"""

import numpy as np
import pytest

import numerics.mlp.hessian as hm
from numerics.mlp import data
from numerics.mlp.hessian import HessianOperator, dense_bytes, hessian, hvp
from numerics.mlp.network import Network
from numerics.mlp.spectrum import decoupled, indices, spectrum


def _random(net, seed, m, beta_scale=0.7):
    rng = np.random.default_rng(seed)
    params = net.init(seed)
    for name in params:
        if name.startswith("beta"):
            if net.train_beta[int(name[4:]) - 1].any():
                params[name] = beta_scale * rng.standard_normal(params[name].shape)
        elif name.startswith("b"):
            params[name] = 0.3 * rng.standard_normal(params[name].shape)
    X = rng.standard_normal((m, net.sizes[0]))
    n = net.sizes[-1]
    if net.output == "sigmoid":
        y = rng.integers(0, 2, (m, n)).astype(float)
    elif net.output == "softmax":
        y = rng.integers(0, n, m)
    else:
        y = rng.standard_normal((m, n))
    return params, X, y


def _fd_hessian(net, params, X, y, step=1e-5):
    """Central differences of the analytic gradient, column by column."""
    theta = net.flatten(params)

    def grad(t):
        _, g = net.loss_and_grad(net.unflatten(t, params), X, y)
        return np.concatenate([g[name].ravel() for name in net.shapes if name in g])[_grad_select(net)]

    cols = []
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = step
        cols.append((grad(theta + e) - grad(theta - e)) / (2 * step))
    return np.array(cols).T


def _grad_select(net):
    """Positions of the trainable entries inside the concatenated gradient arrays (partially trained betas)."""
    keep = []
    off = 0
    trained_layers = {l for l in range(net.n_layers) if net.train_beta[l].any()}
    for name, shape in net.shapes.items():
        size = int(np.prod(shape))
        if name.startswith("beta"):
            l = int(name[4:]) - 1
            if l not in trained_layers:
                continue
            keep.extend(off + np.flatnonzero(net.train_beta[l]))
        else:
            keep.extend(range(off, off + size))
        off += size
    return np.array(keep)


def test_least_squares_closed_form():
    """One linear layer, loss 1/(2m) |X W + b - Y|^2: H = (1/m) X~^T X~ (x) 1 in the (W; b) row-major order."""
    net = Network.from_spec("4-3", output="linear")
    params, X, y = _random(net, 0, 11)
    Xt = np.hstack([X, np.ones((11, 1))])
    expected = np.kron(Xt.T @ Xt / 11, np.eye(3))
    H = hessian(net, params, X, y)
    assert H.shape == (15, 15)
    np.testing.assert_allclose(H, expected, rtol=1e-14, atol=1e-15)


def test_logistic_regression_closed_form():
    """One sigmoid unit with beta = 1 fixed: H = (1/m) sum sigma(z)(1 - sigma(z)) x~ x~^T."""
    net = Network.from_spec("3-1", output="sigmoid", train_beta=False, beta_init=1.0)
    params, X, y = _random(net, 1, 17)
    Xt = np.hstack([X, np.ones((17, 1))])
    z = Xt @ np.concatenate([params["W1"][:, 0], params["b1"]])
    s = 1 / (1 + np.exp(-z))
    expected = (Xt * (s * (1 - s))[:, None]).T @ Xt / 17
    np.testing.assert_allclose(hessian(net, params, X, y), expected, rtol=1e-13)


CASES = [
    ("2-8-2-1", ["esp", "esp"], "sigmoid", None),
    ("3-4-3", ["tanh"], "softmax", [True, False]),
    ("3-5-4-2", ["sigmoid", "esp"], "softmax", [[True, False, True, False, True], True, [False, True]]),
    ("2-4-3-2", ["relu", "esp"], "linear", [False, True, True]),
]


@pytest.mark.parametrize("arch, hidden, output, train_beta", CASES)
def test_matches_differences_of_the_gradient(arch, hidden, output, train_beta):
    net = Network.from_spec(arch, hidden=hidden, output=output, train_beta=train_beta)
    params, X, y = _random(net, 2, 40)
    H = hessian(net, params, X, y)
    assert H.shape == (net.n_params, net.n_params)
    assert np.array_equal(H, H.T)  # symmetric to the last bit
    ref = _fd_hessian(net, params, X, y)
    assert np.max(np.abs(H - ref)) <= 1e-7 * np.max(np.abs(ref))


@pytest.mark.parametrize("arch, hidden, output, train_beta", CASES)
def test_hvp_matches_dense_product(arch, hidden, output, train_beta):
    net = Network.from_spec(arch, hidden=hidden, output=output, train_beta=train_beta)
    params, X, y = _random(net, 3, 50)
    H = hessian(net, params, X, y)
    op = HessianOperator(net, params, X, y)
    for seed in range(3):
        v = np.random.default_rng(seed).standard_normal(net.n_params)
        Hv = op @ v
        assert np.max(np.abs(Hv - H @ v)) <= 1e-13 * np.max(np.abs(H @ v))
    np.testing.assert_array_equal(hvp(net, params, X, y, v), Hv)


@pytest.mark.parametrize("output", ["sigmoid", "softmax", "linear"])
def test_hvp_output_curvature_in_sample_blocks(monkeypatch, output):
    """The NumPy operator's output curvature taken a few samples at a time gives the dense product."""
    net = Network.from_spec("3-5-4", hidden="esp", output=output)
    params, X, y = _random(net, 5, 23)
    H = hessian(net, params, X, y)
    monkeypatch.setattr(hm, "CURVATURE_ENTRIES", 3 * 16)  # three samples per block of 4 x 4 entries
    v = np.random.default_rng(1).standard_normal(net.n_params)
    assert np.max(np.abs(HessianOperator(net, params, X, y) @ v - H @ v)) <= 1e-13 * np.max(np.abs(H @ v))


@pytest.mark.parametrize("small, parallel", [(True, False), (False, False), (True, True), (False, True)])
def test_numba_and_blas_routes_agree(monkeypatch, small, parallel):
    """The sample sums in numba (small networks) and as BLAS products (large ones), serial or threaded, over
    chunks of several blocks."""
    net = Network.from_spec("3-6-4-2", hidden=["esp", "tanh"], output="softmax")
    params, X, y = _random(net, 4, 2 * hm.BLOCK + 37)
    ref = _fd_hessian(net, params, X, y)
    monkeypatch.setattr(hm, "SMALL_ACCUMULATOR", 1 << 40 if small else 0)
    monkeypatch.setattr(hm, "PARALLEL_WORK", 0 if parallel else 1 << 60)
    monkeypatch.setattr(hm, "machine_busy", lambda: False)  # threaded even on a loaded machine
    monkeypatch.setattr(hm, "MAX_CHUNKS", 2)
    H = hessian(net, params, X, y)
    assert hm._structure(net).small() == small
    assert np.max(np.abs(H - ref)) <= 1e-7 * np.max(np.abs(ref))
    assert np.array_equal(H, H.T)


def test_kept_and_fresh_block_buffers_agree(monkeypatch):
    net = Network.from_spec("3-4-2", hidden="esp", output="softmax")
    params, X, y = _random(net, 10, 60)
    kept = hessian(net, params, X, y)
    monkeypatch.setattr(hm, "KEEP_DOUBLES", 0)
    np.testing.assert_array_equal(hessian(net, params, X, y), kept)


def test_dead_relu_unit_gives_exactly_zero_rows():
    """A hidden ReLU unit with h < 0 on every sample: its incoming and outgoing weights and bias decouple."""
    net = Network.from_spec("2-3-2-1", hidden="relu", output="sigmoid")
    params, X, y = _random(net, 5, 30)
    params["b1"][1] = -50.0  # unit 2 of layer 1 never fires
    H = hessian(net, params, X, y)
    W1 = [i * 3 + 1 for i in range(2)] + [6 + 1]  # W1[:, 1] and b1[1]
    W2 = [9 + 1 * 2 + j for j in range(2)]  # W2[1, :]
    assert set(W1 + W2) <= set(decoupled(H))
    alpha, gamma = indices(spectrum(H, vectors=False).eigenvalues, "exact")
    assert gamma >= len(W1 + W2) / net.n_params


def test_paper_network_on_the_paper_data():
    """2-8-2-1 ESP on the 690 training points of NLdata (every beta trained), against gradient differences."""
    path = data.paper_data_dir() / "NLdata.mat"
    if not path.is_file():
        pytest.skip("the paper's NLdata.mat is not available")
    X, y = data.load(path)
    X, _, y, _ = data.split(X, y, 0.2, 1)
    net = Network.from_spec("2-8-2-1", hidden="esp", output="sigmoid")
    params = net.init(0)
    H = hessian(net, params, X, y)
    assert H.shape == (56, 56)
    ref = _fd_hessian(net, params, X, y, step=1e-4)
    assert np.max(np.abs(H - ref)) <= 1e-7 * np.max(np.abs(ref))


def test_refuses_a_hessian_that_would_not_fit():
    net = Network.from_spec("10-20-5", hidden="esp", output="softmax")
    params, X, y = _random(net, 6, 8)
    need = dense_bytes(net, 8)
    assert need >= 8 * net.n_params**2
    with pytest.raises(ValueError, match=r"needs [0-9.e+-]+ GB.*limit"):
        hessian(net, params, X, y, max_bytes=need // 2)
    assert hessian(net, params, X, y, max_bytes=need).shape == (net.n_params, net.n_params)


def test_bad_input():
    net = Network.from_spec("2-3-1", hidden="esp")
    params, X, y = _random(net, 7, 5)
    with pytest.raises(TypeError, match="numerics.Network"):
        hessian("2-3-1", params, X, y)
    with pytest.raises(ValueError, match="shape"):
        hvp(net, params, X, y, np.ones(net.n_params + 1))
    with pytest.raises(ValueError, match="finite"):
        hvp(net, params, X, y, np.full(net.n_params, np.nan))
    with pytest.raises(ValueError, match="input width"):
        hessian(net, params, np.ones((5, 3)), y)
    bad = dict(params, W1=params["W1"][:1])
    with pytest.raises(ValueError, match="W1"):
        hessian(net, bad, X, y)


def test_network_methods_delegate():
    net = Network.from_spec("3-4-2", hidden="esp", output="softmax")
    params, X, y = _random(net, 8, 12)
    v = np.random.default_rng(9).standard_normal(net.n_params)
    np.testing.assert_array_equal(net.hessian(params, X, y), hessian(net, params, X, y))
    np.testing.assert_array_equal(net.hvp(params, X, y, v), hvp(net, params, X, y, v))
    with pytest.raises(ValueError, match="GB"):
        net.hessian(params, X, y, max_bytes=1)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_paper_relu_networks_have_exact_zero_eigenvalues_esp_networks_none(seed):
    """Milletari et al., Sec. 3: on the non-linear task (NLdata, 690 training points, 2-8-2-1, Adam with the
    paper's schedule) ReLU networks end with gamma != 0, ESP networks with gamma = 0."""
    from numerics.mlp.train import train

    path = data.paper_data_dir() / "NLdata.mat"
    if not path.is_file():
        pytest.skip("the paper's NLdata.mat is not available")
    X, y = data.load(path)
    X, _, y, _ = data.split(X, y, 0.2, 1)
    gamma = {}
    for act in ("relu", "esp"):
        net = Network.from_spec("2-8-2-1", hidden=act, output="sigmoid")
        result = train(net, X, y, 5000, lr=0.01, decay_rate=0.9, decay_steps=500, seed=seed)
        lam = spectrum(hessian(net, result.params, X, y), vectors=False).eigenvalues
        gamma[act] = indices(lam, "exact")[1]
    assert gamma["relu"] > 0 and gamma["esp"] == 0, gamma
