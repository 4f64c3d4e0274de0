import math

import numba
import numpy as np
import pytest
from scipy.special import expit, log_softmax, softmax

from numerics import activation
from numerics.mlp.network import BLOCK, GROUP, GROUPS, MAX_GROUPS, PRODUCTS, SERIAL, Network, batch_loss_grad, parse_arch


@pytest.mark.parametrize("arch", ["2-x-1", "0-3-1", "3", "", "2--1", "2-3-", "-2-3", "2.5-1"])
def test_bad_architectures(arch):
    with pytest.raises(ValueError, match="arch"):
        Network.from_spec(arch)


def test_arch_forms():
    assert parse_arch("2-8-2-1") == (2, 8, 2, 1)
    assert parse_arch(" 64 - 25 - 10 ") == (64, 25, 10)
    assert parse_arch([3, 1]) == (3, 1)
    with pytest.raises(ValueError):
        parse_arch([3, True])


def test_bad_specs():
    with pytest.raises(ValueError, match="not known"):
        Network.from_spec("2-3-1", hidden="swish")
    with pytest.raises(ValueError, match="not known"):
        Network.from_spec("2-3-1", output="probit")
    with pytest.raises(ValueError, match="softmax output needs at least 2"):
        Network.from_spec("2-3-1", output="softmax")
    with pytest.raises(ValueError, match="one activation per hidden layer"):
        Network.from_spec("2-3-3-1", hidden=["esp"])
    with pytest.raises(ValueError, match="one entry per layer"):
        Network.from_spec("2-3-1", train_beta=[True])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        Network.from_spec("2-3-1", beta_init=[np.ones(2), 1.0])
    with pytest.raises(TypeError, match="bool"):
        Network.from_spec("2-3-1", train_beta=[1, 0])
    with pytest.raises(ValueError, match="beta_std"):
        Network.from_spec("2-3-1", beta_std=-1.0)


def test_paper_defaults_esp_vs_standard_units():
    esp = Network.from_spec("2-400-300-1", hidden="esp")
    assert all(t.all() for t in esp.train_beta)
    p = esp.init(0)
    betas = np.concatenate([p["beta1"], p["beta2"]])
    # sample std of 700 draws from N(0, 0.004^2): within 4 standard errors (0.004 / sqrt(2 * 700))
    assert abs(betas.std() - 0.004) < 4 * 0.004 / math.sqrt(2 * betas.size)
    assert abs(betas.mean()) < 4 * 0.004 / math.sqrt(betas.size)
    for act in ("sigmoid", "tanh", "relu"):
        net = Network.from_spec("2-8-2-1", hidden=act)
        p = net.init(0)
        assert not any(t.any() for t in net.train_beta)
        assert all(np.all(p[f"beta{l}"] == 1.0) for l in (1, 2, 3))
        assert net.n_params == 2 * 8 + 8 + 8 * 2 + 2 + 2 * 1 + 1
    lin = Network.from_spec("3-4-2", hidden="esp", output="linear")
    assert lin.train_beta[0].all() and not lin.train_beta[1].any()


def test_beta_options_per_layer_and_per_unit():
    net = Network.from_spec("2-3-2", hidden="tanh", output="softmax", train_beta=[np.array([True, False, True]), False],
                            beta_init=[np.array([0.5, 1.5, 2.5]), 3.0])
    p = net.init(1)
    assert np.array_equal(p["beta1"], [0.5, 1.5, 2.5]) and np.array_equal(p["beta2"], [3.0, 3.0])
    assert net.n_params == 6 + 3 + 2 + 6 + 2
    noisy = Network.from_spec("2-3-2", hidden="tanh", output="softmax", beta_init=1.0, beta_std=0.1)
    assert not np.all(noisy.init(0)["beta1"] == 1.0)


def test_glorot_uniform_and_zero_biases():
    net = Network.from_spec("300-200-1", hidden="relu")
    p = net.init(0)
    limit = math.sqrt(6 / 500)
    w = p["W1"]
    assert np.abs(w).max() <= limit and w.shape == (300, 200)
    # variance limit^2/3 = 2/(fan_in + fan_out); standard error of the sample variance of a uniform: sqrt(4/5 / n) * var
    var = limit**2 / 3
    assert abs(w.var() - var) < 5 * var * math.sqrt(0.8 / w.size)
    assert np.all(p["b1"] == 0) and np.all(p["b2"] == 0)
    assert np.array_equal(net.init(7)["W1"], net.init(7)["W1"]) and not np.array_equal(net.init(7)["W1"], net.init(8)["W1"])


def test_flatten_order_and_unflatten():
    net = Network.from_spec("2-3-2", hidden="esp", output="sigmoid", train_beta=[np.array([True, False, True]), True])
    p = {k: np.arange(np.prod(s), dtype=float).reshape(s) + 100 * i for i, (k, s) in enumerate(net.shapes.items())}
    theta = net.flatten(p)
    expected = np.concatenate([p["W1"].ravel(), p["b1"], p["beta1"][[0, 2]], p["W2"].ravel(), p["b2"], p["beta2"]])
    assert np.array_equal(theta, expected)
    back = net.unflatten(theta * 2, p)
    assert np.array_equal(back["beta1"], [p["beta1"][0] * 2, p["beta1"][1], p["beta1"][2] * 2])
    assert np.array_equal(back["W2"], 2 * p["W2"])
    with pytest.raises(ValueError, match="random"):
        net.unflatten(theta)  # beta1[1] is fixed but drawn at random
    fixed = Network.from_spec("2-3-1", hidden="relu")
    q = fixed.unflatten(np.zeros(fixed.n_params))
    assert np.all(q["beta1"] == 1.0) and np.all(q["W1"] == 0)
    with pytest.raises(ValueError, match="shape"):
        net.unflatten(theta[:-1])


def _problem(net, m=40, seed=0):
    rng = np.random.default_rng(seed)
    p = net.init(seed)
    for k in p:
        if k.startswith("beta"):
            p[k] = rng.normal(0.0, 1.5, p[k].shape)
        elif k.startswith("b"):
            p[k] = rng.normal(0.0, 0.3, p[k].shape)
    X = rng.standard_normal((m, net.sizes[0]))
    n = net.sizes[-1]
    y = {"sigmoid": rng.integers(0, 2, (m, n)).astype(float), "softmax": rng.integers(0, n, m),
         "linear": rng.standard_normal((m, n))}[net.output]
    return p, X, y


def test_logistic_regression_closed_form():
    net = Network.from_spec("3-1", output="sigmoid", train_beta=False, beta_init=1.0)
    p, X, y = _problem(net)
    p["beta1"][:] = 1.0
    z = X @ p["W1"][:, 0] + p["b1"][0]
    yy = y[:, 0]
    ref = np.mean(np.logaddexp(0, z) - yy * z)
    loss, grad = net.loss_and_grad(p, X, y)
    assert loss == pytest.approx(ref, rel=1e-14)
    r = expit(z) - yy
    assert np.allclose(grad["W1"][:, 0], X.T @ r / len(r), rtol=1e-13, atol=0)
    assert grad["b1"][0] == pytest.approx(r.mean(), rel=1e-13)
    assert set(grad) == {"W1", "b1"}


def test_softmax_regression_with_temperatures_closed_form():
    net = Network.from_spec("4-3", output="softmax", train_beta=True, beta_init=[np.array([0.5, 2.0, -1.0])])
    p, X, y = _problem(net, seed=2)
    h = X @ p["W1"] + p["b1"]
    z = p["beta1"] * h
    Y = np.eye(3)[y]
    assert net.loss(p, X, y) == pytest.approx(-np.mean(np.sum(Y * log_softmax(z, axis=1), axis=1)), rel=1e-14)
    _, grad = net.loss_and_grad(p, X, y)
    r = softmax(z, axis=1) - Y
    assert np.allclose(grad["beta1"], np.mean(r * h, axis=0), rtol=1e-12, atol=1e-15)
    assert np.allclose(grad["W1"], X.T @ (r * p["beta1"]) / len(y), rtol=1e-12, atol=1e-15)


def test_linear_regression_closed_form():
    net = Network.from_spec("3-2", output="linear")
    p, X, y = _problem(net, seed=3)
    r = X @ p["W1"] + p["b1"] - y
    loss, grad = net.loss_and_grad(p, X, y)
    assert loss == pytest.approx(0.5 * np.mean(np.sum(r**2, axis=1)), rel=1e-14)
    assert np.allclose(grad["W1"], X.T @ r / len(r), rtol=1e-13, atol=0)
    assert set(grad) == {"W1", "b1"}


@pytest.mark.parametrize("hidden, output", [("esp", "sigmoid"), (["tanh", "sigmoid"], "softmax"), (["relu", "esp"], "linear")])
def test_gradient_against_central_differences(hidden, output):
    arch = "3-5-1" if isinstance(hidden, str) else "3-4-3-2" if output != "softmax" else "3-4-3-3"
    arch = "3-5-4-1" if hidden == "esp" else arch
    hidden = [hidden, hidden] if isinstance(hidden, str) else hidden
    net = Network.from_spec(arch, hidden=hidden, output=output, train_beta=True)
    p, X, y = _problem(net, m=7, seed=4)
    _, grad = net.loss_and_grad(p, X, y)
    g = net.flatten(grad)
    theta = net.flatten(p)
    eps = 1e-6
    fd = np.empty_like(theta)
    for i in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[i] += eps
        tm[i] -= eps
        fd[i] = (net.loss(net.unflatten(tp, p), X, y) - net.loss(net.unflatten(tm, p), X, y)) / (2 * eps)
    assert np.allclose(g, fd, rtol=1e-6, atol=1e-8 * np.abs(g).max())


def test_forward_exposes_every_layer():
    net = Network.from_spec("3-4-5-2", hidden=["esp", "tanh"], output="softmax")
    p, X, _ = _problem(net, m=BLOCK + 9)
    hs, acts = net.forward(p, X)
    assert np.array_equal(acts[0], X)
    for l, name in enumerate(net.hidden):
        assert np.allclose(hs[l], acts[l] @ p[f"W{l + 1}"] + p[f"b{l + 1}"], rtol=1e-14, atol=1e-15)
        assert np.allclose(acts[l + 1], activation(name).value(hs[l], p[f"beta{l + 1}"]), rtol=1e-15, atol=0)
    assert np.allclose(acts[-1], softmax(p["beta3"] * hs[-1], axis=1), rtol=1e-14)
    assert np.array_equal(net.predict(p, X), acts[-1])
    H, out = net.forward_packed(net.pack(p), np.asarray(X, dtype=np.float64), outputs_only=True)
    assert H.shape == (X.shape[0], 0) and np.array_equal(out, acts[-1])


def test_saturated_outputs_stay_exact():
    # logits z = 800, -800, 40, all on the side of their label: per-sample losses e^-800, e^-800, log1p(e^-40)
    net = Network.from_spec("1-1", output="sigmoid", train_beta=False, beta_init=1.0)
    p = {"W1": np.array([[800.0]]), "b1": np.zeros(1), "beta1": np.ones(1)}
    X = np.array([[1.0], [-1.0], [0.05]])
    y = np.array([1.0, 0.0, 1.0])
    loss, grad = net.loss_and_grad(p, X, y)
    z = 40.0
    assert loss == pytest.approx((2 * math.exp(-800) + math.log1p(math.exp(-z))) / 3, rel=1e-14)
    # gradient: sigma(z) - y = -sigma(-z) for y = 1, exact even where sigma(z) rounds to 1
    expected = (-expit(-800) * 1 + expit(-800) * -1 + -expit(-z) * 0.05) / 3
    assert grad["W1"][0, 0] == pytest.approx(expected, rel=1e-14)
    wrong = net.loss(p, X, 1 - y)
    assert wrong == pytest.approx((800 + 800 + z) / 3, rel=1e-14)


def test_bad_data_and_params():
    net = Network.from_spec("2-3-1")
    p = net.init(0)
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="input width 3"):
        net.loss(p, np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="0 or 1"):
        net.loss(p, X, np.array([0, 1, 2, 1]))
    with pytest.raises(ValueError, match="finite"):
        net.loss(p, np.array([[0, 1], [np.nan, 0], [0, 0], [1, 1]]), np.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        net.loss(p, X, np.array([0, 1, np.inf, 1]))
    with pytest.raises(ValueError, match="shape"):
        net.loss(dict(p, W1=np.zeros((3, 2))), X, np.zeros(4))
    with pytest.raises(ValueError, match="lacks"):
        net.loss({k: v for k, v in p.items() if k != "b2"}, X, np.zeros(4))
    sm = Network.from_spec("2-3", output="softmax")
    with pytest.raises(ValueError, match=r"integers 0\.\.2"):
        sm.loss(sm.init(0), X, np.array([0, 1, 3, 1]))
    with pytest.raises(ValueError, match="one-hot"):
        sm.loss(sm.init(0), X, np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match="accuracy"):
        Network.from_spec("2-1", output="linear").accuracy(p, X, np.zeros(4))


# per-unit layers; BLAS and per-unit layers mixed; BLAS products of two row chunks (one group of 100 samples)
@pytest.mark.parametrize("arch, m", [("2-8-2-1", 1000), ("40-30-30-1", 1000), ("400-256-3", 100)])
def test_bit_identical_for_any_thread_count_and_path(arch, m):
    net = Network.from_spec(arch, hidden="esp", output="sigmoid" if arch.endswith("-1") else "softmax")
    p, X, y = _problem(net, m=m, seed=5)
    Xv, Y = net.targets(X, y)
    theta = net.pack(p)
    rows = np.arange(len(X))
    assert net.chunked(m) == (arch == "400-256-3")
    results = []
    for way in (SERIAL, GROUPS, PRODUCTS):
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            work = net.workspace(len(X))
            loss = batch_loss_grad(theta, Xv, Y, rows, net.layout, net.out_kind, True, way, *work)
            results.append((loss, work.grad.copy()))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for loss, grad in results[1:]:
        assert loss == results[0][0] and np.array_equal(grad, results[0][1])


def test_groups_of_several_blocks_sum_like_single_blocks():
    """Beyond MAX_GROUPS groups a group spans several blocks: its sums equal those of one-block batches."""
    net = Network.from_spec("2-3-1", hidden="esp")
    m = MAX_GROUPS * GROUP + 3 * BLOCK // 2
    p, X, y = _problem(net, m=m, seed=11)
    loss, grad = net.loss_and_grad(p, X, y)
    parts = [net.loss_and_grad(p, X[lo : lo + BLOCK], y[lo : lo + BLOCK]) for lo in range(0, m, BLOCK)]
    sizes = [len(X[lo : lo + BLOCK]) for lo in range(0, m, BLOCK)]
    assert loss == pytest.approx(sum(n * part[0] for n, part in zip(sizes, parts)) / m, rel=1e-13)
    for k in grad:
        ref = sum(n * part[1][k] for n, part in zip(sizes, parts)) / m
        np.testing.assert_allclose(grad[k], ref, rtol=1e-11, atol=1e-14 * np.abs(ref).max())


def test_accuracy():
    net = Network.from_spec("1-1", output="sigmoid", train_beta=False, beta_init=1.0)
    p = {"W1": np.array([[1.0]]), "b1": np.zeros(1), "beta1": np.ones(1)}
    X = np.array([[1.0], [-2.0], [3.0], [-0.5]])
    assert net.accuracy(p, X, np.array([1, 0, 0, 1])) == 0.5


@pytest.mark.parametrize("arch, output", [("40-30-30-1", "sigmoid"), ("30-25-3", "softmax"), ("3-30-30-2", "linear")])
def test_blas_and_per_unit_layers_agree(arch, output):
    """Every layer per unit, every layer through BLAS, and the shape-chosen mix give the same loss and gradient."""
    from numerics.mlp.engine import GEMM

    net = Network.from_spec(arch, hidden="esp", output=output)
    p, X, y = _problem(net, m=BLOCK + 50, seed=3)
    assert net.layout[:, GEMM].any() and not net.layout[:, GEMM].all()
    ref_loss, ref = net.loss_and_grad(p, X, y)
    for choice in (0, 1):
        net.layout[:, GEMM] = choice
        loss, grad = net.loss_and_grad(p, X, y)
        assert loss == pytest.approx(ref_loss, rel=1e-14)
        for k in ref:
            np.testing.assert_allclose(grad[k], ref[k], rtol=0, atol=1e-13 * np.abs(ref[k]).max())


@pytest.mark.parametrize("arch", ["2-8-2-1", "64-25-10"])
def test_loss_and_outputs_in_one_pass_equal_the_separate_passes(arch):
    """batch_loss_outputs: the loss of batch_loss_grad bit for bit, and the outputs of forward_packed."""
    from numerics.mlp.network import batch_loss_outputs

    net = Network.from_spec(arch, hidden="esp", output="sigmoid" if arch.endswith("-1") else "softmax")
    p, X, y = _problem(net, m=1000, seed=3)
    Xv, Y = net.targets(X, y)
    theta, rows = net.pack(p), np.arange(len(X))
    for way in (SERIAL, GROUPS):
        work = net.workspace(len(X))
        loss = batch_loss_grad(theta, Xv, Y, rows, net.layout, net.out_kind, False, way, *work)
        out = np.empty((len(X), net.sizes[-1]))
        assert batch_loss_outputs(theta, Xv, Y, rows, net.layout, net.out_kind, way, *work, out) == loss
        np.testing.assert_allclose(out, net.forward_packed(theta, Xv, outputs_only=True)[1], rtol=1e-15, atol=0)
