"""numerics.mlp.engine: the output layers' loss, gradient and curvature against the theory's derivation
(theory.cross_entropy), evaluated in mpmath with enough digits for every field, entry by entry.

The bound is backward-stable: ULPS roundings of the fields, i.e. a relative error up to ULPS eps (1 + |z|max),
since e^z moves by |z| eps relative when z moves by one rounding (the softmax forms z_j - z_max in float64)."""

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from numerics.mlp.engine import OUT_LINEAR, OUT_SIGMOID, OUT_SOFTMAX, output_curvature
from numerics.mlp.network import Network
from theory.cross_entropy import derivation, y, ys, z, zs

THEORY = derivation()
KINDS = {"sigmoid": OUT_SIGMOID, "softmax": OUT_SOFTMAX, "linear": OUT_LINEAR}
ULPS = 4


def _theory(kind, what, fields, labels):
    """The theory's ``kind.what`` at the given fields and labels, in mpmath (digits to spare beyond e^|z|)."""
    expr = THEORY[f"{kind}.{what}"]
    point = dict(zip(zs, fields)) | dict(zip(ys, labels)) if kind == "softmax" else {z: fields[0], y: labels[0]}
    with mp.workdps(60 + int(max(abs(f) for f in fields) / 2.3)):
        value = sp.lambdify(list(point), expr, "mpmath")(*[mp.mpf(float(v)) for v in point.values()])
        return np.array(mp.matrix(value).tolist(), dtype=float) if isinstance(value, mp.matrix) else float(value)


def _ulps(got, ref, fields):
    """The largest relative error, in units of eps (1 + |z|max)."""
    got, ref = np.ravel(got), np.ravel(ref)
    relative = np.abs(got - ref) / np.maximum(np.abs(ref), np.finfo(float).tiny)
    return float(np.max(relative) / (np.finfo(float).eps * (1.0 + np.max(np.abs(fields)))))


def _cases(kind, count=40):
    """(fields, labels) pairs: fields from 1e-3 to 700 in size (log-uniform, both signs), labels one-hot or 0/1."""
    rng = np.random.default_rng(KINDS[kind])
    n = 3 if kind == "softmax" else 1
    for _ in range(count):
        fields = rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-3, np.log10(700), n)
        labels = np.eye(n)[rng.integers(n)] if kind == "softmax" else (
            rng.integers(2, size=1).astype(float) if kind == "sigmoid" else rng.standard_normal(1))
        yield fields, labels


@pytest.mark.parametrize("kind", KINDS)
def test_output_curvature_is_the_theory_gradient_and_curvature(kind):
    worst = 0.0
    for fields, labels in _cases(kind):
        n = fields.size
        gz, lam = np.empty((n, 1)), np.empty((n, n, 1))
        beta = 1.0 if kind == "linear" else 2.0  # z = beta h, split over h and beta as in a network (linear: z = h)
        output_curvature(KINDS[kind], (fields / beta).reshape(n, 1), np.full(n, beta), labels.reshape(1, n), 0, gz, lam)
        worst = max(worst, _ulps(gz, _theory(kind, "dl_dz", fields, labels), fields),
                    _ulps(lam, _theory(kind, "d2l_dz2", fields, labels), fields))
    assert worst <= ULPS, worst


@pytest.mark.parametrize("kind", KINDS)
def test_training_loss_and_gradient_are_the_theory_loss_and_gradient(kind):
    """A network without hidden layers (h = x, z = beta h): its loss is the theory's loss at z, its bias
    gradient beta dl/dz and its beta gradient h dl/dz."""
    worst = 0.0
    for fields, labels in _cases(kind):
        n = fields.size
        net = Network.from_spec(f"{n}-{n}", output=kind)
        beta = 1.0 if kind == "linear" else 2.0
        params = {"W1": np.eye(n), "b1": np.zeros(n), "beta1": np.full(n, beta)}
        x = (fields / beta).reshape(1, n)
        target = labels.reshape(1, n) if kind == "softmax" else labels
        loss, grad = net.loss_and_grad(params, x, np.argmax(target, axis=1) if kind == "softmax" else target)
        dl_dz = _theory(kind, "dl_dz", fields, labels)
        worst = max(worst, _ulps(loss, _theory(kind, "loss", fields, labels), fields),
                    _ulps(grad["b1"], beta * np.ravel(dl_dz), fields))
        if kind != "linear":
            worst = max(worst, _ulps(grad["beta1"], x.ravel() * np.ravel(dl_dz), fields))
    assert worst <= ULPS, worst
