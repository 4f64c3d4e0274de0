"""Every storage check passes, and each kind of check fails against a perturbed implementation."""

import dataclasses
import math

import numpy as np
import pytest

from numerics.simulate.storage import simulate_storage
from numerics.solvers import storage as ns
from verify import run_check
from verify import storage as vs


def _check(name_part):
    (check,) = [c for c in vs.CHECKS if name_part in c.name]
    return check


def _run_few(check, **overrides):
    return run_check(dataclasses.replace(check, max_examples=2, **overrides))


def test_capacity_check_fails_for_a_wrong_capacity(monkeypatch):
    real = ns.capacity
    monkeypatch.setattr(ns, "capacity", lambda k, w="spherical": dataclasses.replace(
        real(k, w), alpha_c=real(k, w).alpha_c * (1 + 1e-11)))
    assert not _run_few(_check("alpha_c(kappa) closed form")).passed


def test_q_check_fails_for_a_slightly_wrong_solver(monkeypatch):
    real = ns.storage_saddle
    monkeypatch.setattr(ns, "storage_saddle", lambda a, k=0.0, weights="spherical": dataclasses.replace(
        real(a, k, weights), q=real(a, k, weights).q * (1 + 1e-9)))
    check = _check("q(alpha, kappa) vs mpmath")
    error = check.error(check.explicit[0])
    assert error > check.tol and error == pytest.approx(1e-9, rel=1e-3)


def test_derivative_check_fails_for_a_wrong_saddle_equation(monkeypatch):
    real = vs._mp_theory

    def wrong(key, args):  # a by-parts slip: the energetic derivative off by 1e-12 relative
        f = real(key, args)
        return (lambda *v: f(*v) * (1 + 1e-12)) if key == "dS_dq" else f

    monkeypatch.setattr(vs, "_mp_theory", wrong)
    check = _check("derived dS/dq")
    assert check.error((1.3, 0.4, 0.6)) > check.tol


def test_q1_check_fails_for_a_wrong_limit(monkeypatch):
    monkeypatch.setattr(vs.gen, "gardner_near_capacity_slope", lambda k: 0.5)  # right only at kappa = 0
    assert not run_check(dataclasses.replace(_check("(1-q)/delta"), explicit=(-2.0,)), max_examples=1).passed


def test_teacher_check_fails_for_a_wrong_error(monkeypatch):
    real = ns.teacher_student
    monkeypatch.setattr(ns, "teacher_student", lambda a: dataclasses.replace(real(a), error=real(a).error * (1 + 1e-8)))
    assert not run_check(dataclasses.replace(_check("teacher eps(alpha) vs mpmath"), explicit=(1.0,)),
                         max_examples=1).passed


def test_published_check_fails_for_a_wrong_value(monkeypatch):
    real = ns.capacity
    monkeypatch.setattr(ns, "capacity", lambda k, w="spherical": dataclasses.replace(
        real(k, w), alpha_c=0.8331) if w == "ising" else real(k, w))
    assert not run_check(_check("published values")).passed


def test_twin_checks_fail_for_a_biased_simulation():
    def biased(n, alpha, trials, seed, method):  # decides as if the load were 10% lower
        sim = simulate_storage(n, [alpha * 0.9], trials, seed=seed, method=method, workers=2)
        return dataclasses.replace(sim, alphas=(alpha,), p=(round(alpha * n),))

    assert vs._twin_cover_error(2.0, simulate=biased) > 4.0
    sim = simulate_storage(100, [1.8], 100, seed=1, method="nnls", workers=2)
    assert vs._twin_capacity_error(0, simulate=lambda *a: sim) > 3.0


def test_cover_fraction():
    assert vs.cover_fraction(10, 20) == 0.5
    assert vs.cover_fraction(10, 10) == 1.0
    assert vs.cover_fraction(3, 5) == pytest.approx(11 / 16)
    assert np.isclose(vs.cover_fraction(50, 150), sum(math.comb(149, k) for k in range(50)) / 2**149)


def test_replicon_check_fails_for_the_cancelling_form(monkeypatch):
    # M (M - x) evaluated as (x + E) E loses M where it is tiny (x -> -oo): the old kernel's failure
    from numerics.solvers.gaussian import mills_excess

    def cancelling(t, q, kappa):
        x = (kappa + np.sqrt(q) * t) / np.sqrt(1 - q)
        e = mills_excess(x)
        return ((x + e) * e) ** 2

    monkeypatch.setattr(vs.ns.gen, "gardner_replicon_integrand", cancelling)
    check = _check("replicon <[(ln H)'']^2>")
    assert check.error((-10.0, 0.5)) > check.tol


def test_at_check_fails_for_a_shifted_crossing(monkeypatch):
    real = ns.capacity
    monkeypatch.setattr(ns, "capacity", lambda k, w="spherical": dataclasses.replace(
        real(k, w), alpha_at=real(k, w).alpha_at * (1 + 1e-8)))
    check = _check("AT crossing on the selected branch")
    assert check.error(-1.0) > check.tol
