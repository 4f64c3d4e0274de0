import math
import pickle

import numba
import numpy as np
import pytest

from numerics.mlp import data
from numerics.mlp.network import Network
from numerics.mlp.train import TrainingDiverged, TrainState, train

PAPER = data.paper_data_dir()
needs_paper = pytest.mark.skipif(not (PAPER / "NLdata.mat").is_file(),
                                 reason=f"the paper's data sets are not in {PAPER} (set {data.PAPER_DATA_ENV})")


def _small(output="sigmoid", m=90, seed=0):
    X, y = data.synthetic("nonlinear", n=m, seed=seed)
    if output == "softmax":
        return X, y.astype(int)
    if output == "linear":
        return X, np.sin(3 * X[:, 0]) + X[:, 1]
    return X, y


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_sgd_steps_follow_the_decayed_rate():
    net = Network.from_spec("2-4-1", hidden="esp")
    X, y = _small()
    p0 = net.init(3)
    lr, rate, steps = 0.05, 0.5, 3.0
    res = train(net, X, y, 2, lr=lr, decay_rate=rate, decay_steps=steps, optimizer="sgd", params=p0)
    _, g0 = net.loss_and_grad(p0, X, y)
    p1 = {k: p0[k] - lr * g0.get(k, 0) for k in p0}
    _, g1 = net.loss_and_grad(p1, X, y)
    p2 = {k: p1[k] - lr * rate ** (1 / steps) * g1.get(k, 0) for k in p0}
    for k in p0:
        assert np.allclose(res.params[k], p2[k], rtol=1e-14, atol=1e-16)
    assert res.history["loss"][0] == net.loss(p0, X, y) and res.history["loss"][1] == net.loss(p1, X, y)


def test_mini_batch_loss_is_the_weighted_mean_of_the_step_losses():
    # SGD on batches of 32 of 90 samples, replayed with the shuffler train() documents (second spawned seed)
    net = Network.from_spec("2-4-1", hidden="esp")
    X, y = _small()
    p, lr, batch = net.init(2), 0.05, 32
    res = train(net, X, y, 2, lr=lr, optimizer="sgd", batch_size=batch, params=p, seed=6)
    shuffler = np.random.Generator(np.random.PCG64(np.random.SeedSequence(6).spawn(2)[1]))
    for e in range(2):
        order, total = shuffler.permutation(90), 0.0
        for lo in range(0, 90, batch):
            idx = order[lo : lo + batch]
            loss, g = net.loss_and_grad(p, X[idx], y[idx])
            total += loss * idx.size
            p = {k: p[k] - lr * g.get(k, 0) for k in p}
        assert res.history["loss"][e] == pytest.approx(total / 90, rel=1e-13)
    assert res.history["loss"][2] == pytest.approx(net.loss(p, X, y), rel=1e-13)


def test_first_adam_steps_closed_form():
    # Kingma & Ba, Algorithm 1: the first step is -lr * g / (|g| + eps) entrywise
    net = Network.from_spec("2-3-1", hidden="tanh")
    X, y = _small()
    p0 = net.init(1)
    res = train(net, X, y, 1, lr=0.01, params=p0)
    _, g = net.loss_and_grad(p0, X, y)
    for k in g:
        assert np.allclose(res.params[k], p0[k] - 0.01 * g[k] / (np.abs(g[k]) + 1e-8), rtol=1e-14, atol=1e-17)
    assert np.array_equal(res.params["beta1"], p0["beta1"])  # fixed


def test_matches_jax_adam_trajectory():
    pytest.importorskip("jax")
    from verify import jax_models

    net = Network.from_spec("2-6-3-1", hidden="esp")
    X, y = _small(m=70)
    p0 = net.init(2)
    res = train(net, X, y, 40, lr=0.01, decay_rate=0.9, decay_steps=5, params=p0)
    Xv, Y = net.targets(X, y)
    masks = {k: np.ones(s) for k, s in net.shapes.items()}
    pj, losses = jax_models.train(p0, masks, Xv, Y, net.hidden, net.output, 40, 0.01, 0.9, 5.0)
    for k in p0:
        assert np.allclose(res.params[k], np.asarray(pj[k]), rtol=1e-11, atol=1e-13)
    assert np.allclose(res.history["loss"][:40], np.asarray(losses), rtol=1e-12)


def test_resume_and_segments_give_bit_identical_parameters():
    net = Network.from_spec("2-5-2", hidden="esp", output="softmax")
    X, y = _small("softmax", m=75)
    Xt, yt = _small("softmax", m=20, seed=1)
    kw = dict(lr=0.02, decay_rate=0.9, decay_steps=7, batch_size=16, seed=11, X_test=Xt, y_test=yt)
    straight = train(net, X, y, 30, record=5, checkpoints=10, **kw)
    saved = []
    part = train(net, X, y, 30, record=5, checkpoints=10, on_checkpoint=saved.append, stop=lambda: len(saved) >= 2, **kw)
    assert not part.finished and part.state.epoch == 10
    state = TrainState.from_arrays({k: np.asarray(v) for k, v in saved[-1].arrays().items()})  # through .npz-ready arrays
    resumed = train(net, X, y, 30, record=5, checkpoints=10, resume=state, **kw)
    assert resumed.finished and _same(resumed.params, straight.params)
    assert _same(resumed.history, straight.history)
    other_record = train(net, X, y, 30, record=1, **kw)
    assert _same(other_record.params, straight.params)
    assert np.array_equal(other_record.history["loss"], straight.history["loss"])
    assert straight.state.step == 30 * math.ceil(75 / 16)


def test_same_result_for_any_thread_count():
    net = Network.from_spec("2-8-2-1", hidden="esp")
    X, y = _small(m=700)
    runs = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        runs.append(train(net, X, y, 5, seed=4).params)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert _same(*runs)


def test_history_contents():
    net = Network.from_spec("2-4-1", hidden="relu")
    X, y = _small()
    Xt, yt = _small(m=30, seed=5)
    res = train(net, X, y, 20, X_test=Xt, y_test=yt, record=8, checkpoints=10)
    h = res.history
    assert h["loss"].shape == (21,) and np.array_equal(h["epoch"], [0, 8, 16, 20])
    assert np.array_equal(h["checkpoint_epoch"], [0, 10, 20])
    assert h["residuals"].shape == (4, 90, 1)
    assert h["loss"][-1] == pytest.approx(net.loss(res.params, X, y), rel=1e-15)
    assert np.allclose(h["residuals"][-1], net.predict(res.params, X) - y[:, None], rtol=0, atol=1e-15)
    assert h["train_accuracy"][-1] == net.accuracy(res.params, X, y)
    assert h["test_loss"][-1] == pytest.approx(net.loss(res.params, Xt, yt), rel=1e-15)
    assert h["test_accuracy"][-1] == net.accuracy(res.params, Xt, yt)
    assert _same(res.checkpoint_params(2), res.params)
    lin = train(Network.from_spec("2-3-1", output="linear"), *_small("linear"), 3)
    assert "train_accuracy" not in lin.history and lin.history["residuals"].shape[0] == 4


def test_divergence_stops_and_keeps_the_last_finite_checkpoint():
    net = Network.from_spec("2-3-1", hidden="linear", output="linear")
    X, y = _small("linear")
    with pytest.raises(TrainingDiverged, match=r"at epoch \d+") as info:
        train(net, 30 * X, y, 500, lr=1.0, optimizer="sgd", checkpoints=2)
    state = info.value.state
    assert state.epoch < info.value.epoch and state.epoch % 2 == 0
    assert np.all(np.isfinite(state.theta)) and math.isfinite(state.history["loss"][-1])
    back = pickle.loads(pickle.dumps(info.value))
    assert type(back) is TrainingDiverged and str(back) == str(info.value) and back.epoch == info.value.epoch
    assert back.state.epoch == state.epoch and np.array_equal(back.state.theta, state.theta)


def test_bad_arguments():
    net = Network.from_spec("2-3-1")
    X, y = _small()
    for kw, match in [({"epochs": -1}, "epochs"), ({"lr": 0.0}, "lr"), ({"lr": math.inf}, "lr"),
                      ({"decay_rate": 0.9}, "together"), ({"decay_rate": -1, "decay_steps": 3}, "decay_rate"),
                      ({"optimizer": "rmsprop"}, "optimizer"), ({"batch_size": 0}, "batch_size"),
                      ({"X_test": X}, "together"), ({"record": 0}, "record")]:
        args = dict(epochs=2) | kw
        with pytest.raises(ValueError, match=match):
            train(net, X, y, **args)
    with pytest.raises(ValueError, match="training data: input width"):
        train(net, np.zeros((5, 3)), np.zeros(5), 1)
    with pytest.raises(ValueError, match="test data: labels"):
        train(net, X, y, 1, X_test=X[:3], y_test=np.array([0, 2, 1]))
    with pytest.raises(TypeError, match="Network"):
        train("2-3-1", X, y, 1)


@needs_paper
def test_paper_esp_beats_sigmoid_and_relu_on_the_nonlinear_set():
    """2-8-2-1, the paper's split and schedule (Adam, lr 0.01 x 0.9 per 500 steps), 3000 epochs."""
    X, y = data.load(PAPER / "NLdata.mat")
    X, Xt, y, yt = data.split(X, y, 0.2, 1)
    final = {}
    for act in ("esp", "sigmoid", "relu"):
        res = train(Network.from_spec("2-8-2-1", hidden=act), X, y, 3000, lr=0.01, decay_rate=0.9, decay_steps=500,
                    X_test=Xt, y_test=yt, seed=0)
        final[act] = (res.history["loss"][-1], res.history["train_accuracy"][-1], res.history["test_accuracy"][-1])
    assert final["esp"][0] < 0.5 * min(final["sigmoid"][0], final["relu"][0]), final
    assert final["esp"][1] > 0.95 and final["esp"][2] > 0.9, final


@needs_paper
@pytest.mark.slow
@pytest.mark.parametrize("arch", ["2-8-2-1", "2-10-1"])
def test_paper_full_schedule_five_seeds(arch):
    """10000 epochs of the paper's schedule, seeds 0-4: ESP's median training loss is the lowest of ESP, sigmoid, ReLU."""
    X, y = data.load(PAPER / "NLdata.mat")
    X, Xt, y, yt = data.split(X, y, 0.2, 1)
    median = {}
    for act in ("esp", "sigmoid", "relu"):
        losses = [train(Network.from_spec(arch, hidden=act), X, y, 10000, lr=0.01, decay_rate=0.9, decay_steps=500,
                        seed=seed, record=10000).history["loss"][-1] for seed in range(5)]
        median[act] = float(np.median(losses))
    assert median["esp"] < 0.5 * min(median["sigmoid"], median["relu"]), median


def test_thread_plan_is_measured_once_per_shape(monkeypatch):
    """A run reuses the plan measured for its layer table, output, batch and thread count; another batch is
    measured afresh, and a busy machine runs serial without measuring."""
    import sys

    from numerics.mlp.network import GROUPS, SERIAL

    module = sys.modules["numerics.mlp.train"]  # numerics.mlp.train is also the name of the function
    measured = []
    monkeypatch.setattr(module, "_PLANS", {})
    monkeypatch.setattr(module, "machine_busy", lambda: False)
    monkeypatch.setattr(module, "_fastest", lambda net, theta, X, Y, batch, work, ways: measured.append(batch) or ways[-1])
    X, y = _small(m=800)
    net = Network.from_spec("2-4-1", hidden="esp")
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        if numba.get_num_threads() < 2:
            pytest.skip("needs two numba threads")
        theta, work = net.pack(net.init(0)), net.workspace(800)
        X, Y = net.targets(X, y)
        assert module.thread_plan(net, theta, X, Y, 800, work) == GROUPS
        assert module.thread_plan(net, theta, X, Y, 800, work) == GROUPS
        assert measured == [800]
        assert module.thread_plan(Network.from_spec("2-5-1", hidden="esp"), theta, X, Y, 800, work) == GROUPS
        assert measured == [800, 800]
        monkeypatch.setattr(module, "machine_busy", lambda: True)
        assert module.thread_plan(net, theta, X, Y, 800, work) == SERIAL
        assert measured == [800, 800]
    finally:
        numba.set_num_threads(threads)
