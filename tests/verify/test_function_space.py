"""Every function-space check passes; each kind of check fails against a perturbed implementation."""

import dataclasses

import numpy as np
import pytest

from numerics.solvers import function_space as nfs
from numerics.solvers import majority as nm
from verify import function_space as vf
from verify import run_check


def _check(name_part):
    (check,) = [c for c in vf.CHECKS if name_part in c.name]
    return check


def _run_few(check):
    return run_check(dataclasses.replace(check, max_examples=2))


def test_quadrature_check_fails_for_a_slightly_wrong_integral(monkeypatch):
    real = nfs.tanh_overlap
    monkeypatch.setattr(nfs, "tanh_overlap", lambda rho, b: real(rho, b) * (1 + 1e-8))
    assert not _run_few(_check("finite beta vs mpmath")).passed


def test_closed_form_check_fails_for_a_wrong_step(monkeypatch):
    from numerics._generated import function_space as gen

    real = gen.error_step
    monkeypatch.setattr(gen, "error_step", lambda r, x: real(r, x) * (1 + 1e-12))
    assert not _run_few(_check("arcsine step")).passed


def test_simulation_check_fails_for_a_wrong_recursion(monkeypatch):
    real = nfs.overlap_recursion

    def shifted(perturbations, *args, **kwargs):  # the recursion evaluated at perturbations 0.1 too small
        return real(np.maximum(np.asarray(perturbations) - 0.1, 0.0), *args, **kwargs)

    monkeypatch.setattr(nfs, "overlap_recursion", shifted)
    check = _check("sign units vs simulation")
    assert check.error(dict(perturbations=[0.6, 0.8])) > check.tol


def test_max_entropy_check_fails_for_a_suboptimal_solver(monkeypatch):
    # a solver that stops at the best point of a coarse grid (no polish)
    real = nfs.max_entropy_perturbation

    def unpolished(lr_out, ltheta, binary, extra=None):
        work = np.empty(ltheta.size + 1)
        return ltheta, nfs._chain(lr_out, ltheta, binary, work, work.copy()), None

    monkeypatch.setattr(nfs, "_polish", unpolished)
    monkeypatch.setattr(nfs, "max_entropy_perturbation", lambda e, L, w="continuous": real(e, L, w, grid_points=8, candidates=1))
    check = _check("brute-force grid")
    assert check.error(("continuous", 3, 0.2)) > check.tol


def test_majority_check_fails_for_a_wrong_p_c(monkeypatch):
    real = nm.critical_perturbation
    monkeypatch.setattr(nm, "critical_perturbation", lambda k: real(k) * (1 + 1e-14))
    assert not _run_few(_check("p_c vs exact counting")).passed


ERRORS = np.unique(np.round(np.concatenate([np.arange(0.01, 0.495, 0.01), np.arange(0.40, 0.4951, 0.0025)]), 4))


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["continuous", "binary"])
@pytest.mark.parametrize("layers", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("grid_points", [600, 150])  # CLI default, reproduce --quick
def test_max_entropy_is_never_beaten_by_brute_force(layers, weights, grid_points):
    n = {2: 200, 3: 40, 4: 14, 5: 9, 6: 7}[layers]
    for eps in ERRORS:
        ours = nfs.max_entropy_perturbation(float(eps), layers, weights, grid_points=grid_points).entropy
        assert vf.brute_max_entropy(float(eps), layers, weights, n=n) <= ours + 1e-12 * abs(ours) + 1e-14, eps


@pytest.mark.slow
def test_binary_switch_on_does_not_depend_on_the_grid():
    fine, coarse = (nfs.switch_on_errors(4, grid_points=gp) for gp in (600, 150))
    assert [s.layer for s in fine] == [s.layer for s in coarse] == [1, 2, 3]
    for a, b in zip(fine, coarse):
        assert abs(a.error - b.error) < 1e-6
        # the maximum entropy is continuous across a first-order switch (both branches have the same value)
        assert a.above.entropy - a.below.entropy < 1e-7
