"""Activation kernels: generated from theory.activations into numerics/_generated/activations.py, the
branch-free primitives they are built from, and the registry of the user's own activations."""

from numerics.kernels.activations import (
    NAMES,
    Activation,
    activation,
    depends_on_beta,
    first_rows,
    register_activation,
    registered,
    second_rows,
    unregister_activation,
)

__all__ = ["NAMES", "Activation", "activation", "depends_on_beta", "first_rows", "second_rows", "register_activation",
           "registered", "unregister_activation"]
