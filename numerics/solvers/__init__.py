"""Solvers of the theory's equations (generated into numerics/_generated/ with each Gaussian average as an
argument): Gardner's storage problem, signal propagation, function-space overlaps and majority-gate networks.
Each module chooses quadrature and root finding; the equations themselves come from theory/."""

from numerics.solvers.function_space import (
    entropy,
    generalization_curve,
    max_entropy_perturbation,
    overlap_recursion,
    switch_on_errors,
)
from numerics.solvers.majority import critical_perturbation, majority_recursion, majority_stationary
from numerics.solvers.propagation import chi1, critical_sigma_w, fixed_point, variance_map
from numerics.solvers.storage import ConvergenceError, at_line, capacity, storage_saddle, teacher_student

__all__ = ["capacity", "storage_saddle", "teacher_student", "at_line", "ConvergenceError",
           "variance_map", "chi1", "fixed_point", "critical_sigma_w",
           "overlap_recursion", "entropy", "max_entropy_perturbation", "switch_on_errors", "generalization_curve",
           "majority_recursion", "majority_stationary", "critical_perturbation"]
