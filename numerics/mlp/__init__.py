"""Multilayer perceptrons: the block engine shared by training and curvature, networks, Adam/SGD training,
exact Hessians and Hessian-vector products, their spectra, infinite-width kernels and the data sets.

The modules hessian (``hessian.hessian``: the dense matrix) and spectrum (``spectrum.spectrum``) keep their names."""

from numerics.mlp.data import dataset, digits, load, mnist, one_hot, paper_data_dir, read_idx, split, synthetic
from numerics.mlp.hessian import HessianOperator, hvp
from numerics.mlp.hessian_operators import jax_hessian, torch_hessian
from numerics.mlp.infinite_width import nngp, ntk
from numerics.mlp.network import Network
from numerics.mlp.spectrum import analyze, slq
from numerics.mlp.train import TrainResult, TrainState, train

__all__ = ["Network", "TrainResult", "TrainState", "train", "HessianOperator", "hvp", "jax_hessian",
           "torch_hessian", "analyze", "slq", "nngp", "ntk",
           "dataset", "digits", "load", "mnist", "one_hot", "paper_data_dir", "read_idx", "split", "synthetic"]
