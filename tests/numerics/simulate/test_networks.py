"""Monte Carlo twins: measured overlaps of coupled finite networks against the recursions."""

import numpy as np
import pytest

from numerics.simulate import networks as sim
from numerics.solvers import function_space as nfs
from numerics.solvers import majority as nm

SMALL = dict(width=500, inputs=30, replicas=12)


def _within(measured, stderr, expected, n_sigma=4.0):
    return np.all(np.abs(measured - expected) <= n_sigma * stderr)


@pytest.mark.parametrize(
    "case",
    [
        dict(perturbations=[0.4, 0.7, 0.3]),
        dict(perturbations=[0.15, 0.25], weights="binary"),
        dict(perturbations=[0.4, 0.6], beta=1.5),
        dict(perturbations=[0.5, 0.5], activation="esp", beta=2.0, sigma=1.3),
        dict(perturbations=[0.5, 0.8], activation="relu"),
    ],
)
def test_dense_overlaps_match_the_recursion(case):
    theory = nfs.overlap_recursion(**case).q
    measured = sim.simulate_overlap(**case, **SMALL, seed=20240611)
    assert _within(measured.q, measured.stderr, theory)
    assert np.all(measured.stderr > 0) and np.all(measured.stderr < 0.01)


def test_simulation_detects_a_wrong_theory():
    # the same measurement rejects the recursion evaluated at a perturbation 0.1 too small
    case = dict(perturbations=[0.4, 0.7, 0.3])
    measured = sim.simulate_overlap(**case, **SMALL, seed=20240611)
    wrong = nfs.overlap_recursion([0.3, 0.6, 0.2]).q
    assert not _within(measured.q, measured.stderr, wrong)


def test_seeded_and_independent_of_workers():
    case = dict(perturbations=[0.3, 0.5], width=200, inputs=20, replicas=4, seed=7)
    a = sim.simulate_overlap(**case, workers=1)
    b = sim.simulate_overlap(**case, workers=2)
    np.testing.assert_array_equal(a.samples, b.samples)
    c = sim.simulate_overlap(**{**case, "seed": 8})
    assert not np.array_equal(a.samples, c.samples)


@pytest.mark.parametrize("k, p, m0", [(3, 0.1, 0.1), (5, 0.2, 0.3), (3, 0.2, 0.5)])
def test_majority_matches_the_recursion(k, p, m0):
    L, N, R = 6, 100_000, 12
    tr = nm.majority_recursion(k, p, L, m0)
    measured = sim.simulate_majority(k, p, L, m0, width=N, replicas=R, seed=99)
    pairs = [(measured.m, measured.m_stderr, tr.m), (measured.q, measured.q_stderr, tr.q), (measured.m_hat, measured.m_hat_stderr, tr.m_hat)]
    for value, err, ref in pairs:
        # layers >= 1; where the reference saturates (m^ -> 1) every replica can read exactly 1 and the
        # spread vanishes, so the error is floored by the binomial one, sqrt((1 - ref^2) / (N R))
        floor = np.sqrt((1 - ref[1:] ** 2) / (N * R))
        assert np.all(np.abs(value[1:] - ref[1:]) <= 4 * np.maximum(err[1:], floor))


def test_bad_input():
    with pytest.raises(ValueError, match="width must be an integer >= 2"):
        sim.simulate_overlap([0.1], width=1)
    with pytest.raises(ValueError, match="eta must lie"):
        sim.simulate_overlap([1.5])
    with pytest.raises(ValueError, match="odd integer"):
        sim.simulate_majority(4, 0.1, 3, 0.1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        dict(perturbations=[0.3, 0.6, 0.2, 0.4]),
        # small flip probabilities carry an O(1/N) finite-size bias (+0.8/N at p = 0.05 in layer 1, by exact
        # enumeration of the +-1 field sums) that 8 x 200 inputs at N = 3000 resolve; moderate p do not
        dict(perturbations=[0.1, 0.2, 0.15, 0.25], weights="binary"),
        dict(perturbations=[0.3, 0.6, 0.2], beta=3.0),
        dict(perturbations=[0.3, 0.6, 0.2], activation="esp", beta=1.0),
        dict(perturbations=[0.3, 0.6, 0.2], activation="sigmoid", beta=2.0),
        dict(perturbations=[0.3, 0.6, 0.2], activation="tanh", beta=1.5, sigma=1.3),
    ],
)
def test_dense_overlaps_large(case):
    theory = nfs.overlap_recursion(**case).q
    measured = sim.simulate_overlap(**case, width=3000, inputs=200, replicas=8, seed=1, workers=2)
    assert _within(measured.q, measured.stderr, theory)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sim.simulate_overlap([0.1], width=10_000_000, inputs=10), r"width N = 10000000 .* needs [0-9.e+]+ GiB"),
        (lambda: sim.simulate_overlap([0.1], width=20, inputs=4, replicas=10**12), r"needs [0-9.e+]+ multiply-adds"),
        (lambda: sim.simulate_majority(3, 0.1, 2, 0.1, width=10**9), r"width N = 1000000000 with k = 3 .* GiB"),
    ],
)
def test_sizes_are_refused_before_allocation(call, match):
    with pytest.raises(ValueError, match=match):
        call()
