"""Independent checks of every analytic result: autodiff, mpmath, simulation.

Checks are rows of one table (:mod:`verify.registry`); ``meanfield verify``
runs them all and the test suite runs each one.
"""

from verify.registry import Check, CheckResult, all_checks, run_check, run_checks

__all__ = ["Check", "CheckResult", "all_checks", "run_check", "run_checks"]
