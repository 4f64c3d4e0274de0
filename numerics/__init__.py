"""Fast numerics: generated activation kernels, MLP training, Hessians, solvers, simulations."""

from numerics.activations import NAMES as ACTIVATIONS
from numerics.activations import Activation, activation
