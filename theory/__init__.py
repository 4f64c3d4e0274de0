"""Symbolic derivations (sympy). Imports no numerics."""
