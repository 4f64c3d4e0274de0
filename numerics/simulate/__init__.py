"""Simulation twins: finite systems sampled at random, whose averages the theory predicts as N -> oo, each
with its statistical error (perceptron storage, infinite-width kernels, coupled networks)."""

from numerics.simulate.kernels import simulate_kernel
from numerics.simulate.networks import simulate_majority, simulate_overlap
from numerics.simulate.storage import simulate_storage

__all__ = ["simulate_storage", "simulate_kernel", "simulate_overlap", "simulate_majority"]
