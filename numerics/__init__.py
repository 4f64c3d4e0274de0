"""Fast numerics: generated activation kernels, MLP training, Hessians, solvers, simulations."""

from numerics.activations import NAMES as ACTIVATIONS
from numerics.activations import Activation, activation, register_activation
from numerics.data import digits, load, mnist, one_hot, read_idx, split, synthetic
from numerics.network import Network
from numerics.train import TrainResult, TrainState, train
from numerics.data import dataset, paper_data_dir
from numerics import spectrum
from numerics.hessian_operators import jax_hessian, torch_hessian
from numerics.infinite_width import nngp, ntk, simulate_kernel
