"""Fast numerics, in subpackages that mirror theory/:

* numerics.kernels - activation kernels generated from theory.activations, their primitives, user activations;
* numerics.mlp - the block engine, networks, training, exact Hessians, spectra, infinite-width kernels, data;
* numerics.solvers - storage, propagation, function-space and majority equations generated from theory/;
* numerics.simulate - the simulation twins of the theory;
* numerics.codegen - the generators that write numerics/_generated/ (``python -m numerics.codegen``).

This module lists the API most users need."""

from numerics.kernels.activations import NAMES as ACTIVATIONS
from numerics.kernels.activations import Activation, activation, register_activation
from numerics.mlp import spectrum
from numerics.mlp.data import dataset, digits, load, mnist, one_hot, paper_data_dir, read_idx, split, synthetic
from numerics.mlp.hessian_operators import jax_hessian, torch_hessian
from numerics.mlp.infinite_width import nngp, ntk
from numerics.mlp.network import Network
from numerics.mlp.train import TrainResult, TrainState, train
from numerics.simulate.kernels import simulate_kernel

__all__ = [
    "ACTIVATIONS", "Activation", "activation", "register_activation",
    "Network", "TrainResult", "TrainState", "train",
    "spectrum", "jax_hessian", "torch_hessian",
    "nngp", "ntk", "simulate_kernel",
    "dataset", "digits", "load", "mnist", "one_hot", "paper_data_dir", "read_idx", "split", "synthetic",
]
