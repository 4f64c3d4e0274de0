import numpy as np

from verify import run_check
from verify.mlp import CHECKS, PAPER, build, gradient_error, loss_error
from verify.registry import Check


def _perturbed_loss_and_grad(example_net_key):
    """A loss_and_grad whose gradient of one array is off by a relative 1e-8."""

    def wrong(params, X, y):
        net, _, _, _ = build(example_net_key)
        loss, grad = net.loss_and_grad(params, X, y)
        grad[sorted(grad)[0]] = grad[sorted(grad)[0]] * (1 + 1e-8)
        return loss, grad

    return wrong


def test_a_wrong_gradient_fails_its_check():
    def error(example):
        return gradient_error(example, loss_and_grad=_perturbed_loss_and_grad(example))

    check = Check("perturbed mlp gradient", "jax", 1e-10, CHECKS[1].strategy, error, explicit=PAPER[:1])
    result = run_check(check, max_examples=3)
    assert not result.passed and "error" in result.failure


def test_a_wrong_loss_fails_its_check():
    example = PAPER[0]
    net = build(example)[0]
    assert loss_error(example) <= 1e-12
    assert loss_error(example, loss=lambda p, X, y: net.loss(p, X, y) * (1 + 1e-9)) > 1e-10


def test_a_missing_beta_gradient_counts_as_a_failure():
    example = PAPER[0]

    def drop_beta(params, X, y):
        net = build(example)[0]
        loss, grad = net.loss_and_grad(params, X, y)
        del grad["beta1"]
        return loss, grad

    assert gradient_error(example, loss_and_grad=drop_beta) == np.inf
