"""Fast numerics: generated activation kernels, MLP training, Hessians, solvers, simulations."""

from numerics import spectrum
from numerics.activations import NAMES as ACTIVATIONS
from numerics.activations import Activation, activation, register_activation
from numerics.data import dataset, digits, load, mnist, one_hot, paper_data_dir, read_idx, split, synthetic
from numerics.hessian_operators import jax_hessian, torch_hessian
from numerics.infinite_width import nngp, ntk, simulate_kernel
from numerics.network import Network
from numerics.train import TrainResult, TrainState, train

__all__ = [
    "ACTIVATIONS", "Activation", "activation", "register_activation",
    "Network", "TrainResult", "TrainState", "train",
    "spectrum", "jax_hessian", "torch_hessian",
    "nngp", "ntk", "simulate_kernel",
    "dataset", "digits", "load", "mnist", "one_hot", "paper_data_dir", "read_idx", "split", "synthetic",
]
