"""numerics.simulate.storage: the finite-N twin against Cover's exact count; its seeding, deciders and validation."""

import math

import numpy as np
import pytest

from numerics.simulate import storage as twin
from numerics.solvers.storage import capacity
from verify.storage import cover_fraction


@pytest.mark.parametrize("call,exc,match", [
    (lambda: twin.simulate_storage(1, [1.0], 3), ValueError, "n"),
    (lambda: twin.simulate_storage(10, [1.0], 0), ValueError, "trials"),
    (lambda: twin.simulate_storage(10, [1.0], 2.5), ValueError, "trials"),
    (lambda: twin.simulate_storage(10, [0.0], 3), ValueError, "alpha"),
    (lambda: twin.simulate_storage(10, [], 3), ValueError, "alphas"),
    (lambda: twin.simulate_storage(10, [1.0], 3, kappa=-0.5), ValueError, "kappa"),
    (lambda: twin.simulate_storage(10, [1.0], 3, kappa=0.5, method="highs"), ValueError, "highs"),
    (lambda: twin.simulate_storage(10, [1.0], 3, patterns="uniform"), ValueError, "patterns"),
    (lambda: twin.simulate_storage(10, [1.0], "3"), TypeError, "trials"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()

def test_oversized_simulation_is_refused_before_allocating():
    with pytest.raises(ValueError, match="n=1000000 with 2000000 patterns needs about"):
        twin.simulate_storage(1_000_000, [2.0], 1)
    with pytest.raises(ValueError, match="multiply-adds"):
        twin.simulate_storage(2000, [2.0], 10**7)


def test_simulation_independent_of_workers_and_alpha_list():
    a = twin.simulate_storage(20, [1.5, 2.0, 2.5], 12, seed=3, workers=1)
    b = twin.simulate_storage(20, [2.5, 2.0], 12, seed=3, workers=2)
    assert a.separable[1:] == b.separable[::-1]
    assert a.p == (30, 40, 50) and a.method == "highs"


def test_seed_changes_instances():
    r1 = twin.instance(30, 60, 0, 1, "gaussian")
    r2 = twin.instance(30, 60, 0, 2, "gaussian")
    r3 = twin.instance(30, 60, 0, 1, "gaussian")
    assert not np.array_equal(r1, r2) and np.array_equal(r1, r3)
    assert np.allclose(np.abs(twin.instance(30, 60, 0, 1, "binary")), 1 / math.sqrt(30), rtol=1e-15)


def test_lp_and_nnls_agree_instance_by_instance():
    for p in (50, 60, 70):
        for trial in range(25):
            rows = twin.instance(30, p, trial, 11, "gaussian")
            assert twin.stores_lp(rows) == twin.stores_nnls(rows, 0.0)


def test_simple_instances():
    assert twin.stores_lp(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert not twin.stores_lp(np.array([[1.0, 0.0], [-1.0, 0.0]]))
    assert not twin.stores_nnls(np.array([[1.0, 0.0], [-1.0, 0.0]]), 0.0)
    # rows e_i/sqrt(2), |J|^2 = 2: the best J = (1, 1) has stability 1/sqrt(2) = 0.7071
    rows = np.eye(2) / math.sqrt(2)
    assert twin.stores_nnls(rows, 0.707) and not twin.stores_nnls(rows, 0.708)


def test_fraction_agrees_with_cover():
    sim = twin.simulate_storage(40, [1.5, 2.0, 2.5], 80, seed=5, workers=2)
    for p, f in zip(sim.p, sim.fraction):
        ref = cover_fraction(40, p)
        assert abs(f - ref) <= 4 * math.sqrt(ref * (1 - ref) / sim.trials) + 1e-12


def test_stability_lowers_the_fraction():
    zero = twin.simulate_storage(40, [1.0], 60, seed=2, method="nnls", workers=1)
    positive = twin.simulate_storage(40, [1.0], 60, kappa=0.5, seed=2, workers=1)
    assert positive.method == "nnls"
    assert positive.fraction[0] < zero.fraction[0]
    assert set(positive.separable) <= set(range(61))


def test_crossing_interpolation():
    sim = twin.StorageSimulation(10, (1.0, 2.0, 3.0), (10, 20, 30), 100, 0.0, 0, "gaussian", "highs", (90, 60, 20),
                               np.array([0.9, 0.6, 0.2]), np.array([0.03, 0.05, 0.04]))
    alpha, err = sim.crossing()
    assert alpha == pytest.approx(2.25) and err > 0
    flat = twin.StorageSimulation(10, (1.0,), (10,), 10, 0.0, 0, "gaussian", "highs", (10,), np.array([1.0]),
                                np.array([0.0]))
    with pytest.raises(ValueError, match="cross"):
        flat.crossing()


@pytest.mark.slow
@pytest.mark.parametrize("n,patterns", [(50, "gaussian"), (100, "gaussian"), (200, "gaussian"), (400, "gaussian"),
                                        (100, "binary")])
def test_curves_cross_half_at_alpha_c(n, patterns):
    """N = 50..400: the crossing of 1/2 agrees with alpha_c(0) = 2 within its statistical error."""
    sim = twin.simulate_storage(n, [1.9, 2.1], 150, seed=n, patterns=patterns, method="nnls")
    alpha, err = sim.crossing()
    assert abs(alpha - 2.0) < 3 * err, (alpha, err)


@pytest.mark.slow
def test_positive_kappa_crossing_approaches_capacity():
    kappa = 0.5
    alpha_c = capacity(kappa).alpha_c
    gaps = []
    for n in (50, 200):
        sim = twin.simulate_storage(n, list(np.linspace(0.6, 1.3, 8)), 150, kappa=kappa, seed=n)
        alpha, err = sim.crossing()
        gaps.append(abs(alpha - alpha_c))
    assert gaps[1] < gaps[0] and gaps[1] < 0.1
