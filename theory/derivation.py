"""A derivation: an ordered list of named steps, each a sympy result.

Every topic of ``meanfield derive`` returns one :class:`Derivation`; the CLI
prints it as text, LaTeX or JSON (values are sympy-parsable strings).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp


def _portable(expr: sp.Basic) -> sp.Basic:
    """Rewrite the package's own sympy functions in exp, leaving standard ones alone."""
    own = lambda e: isinstance(e, sp.Function) and type(e).__module__.startswith("theory.")
    return expr.replace(own, lambda e: e.rewrite(sp.exp))


class _PortablePrinter(sp.printing.str.StrPrinter):
    """sstr, except symbols whose names sympify reads as something else (beta, gamma, ...)."""

    def _print_Symbol(self, expr):
        name = expr.name
        return name if isinstance(sp.sympify(name), sp.Symbol) else f"Symbol('{name}')"


@dataclass(frozen=True)
class Step:
    key: str
    description: str
    expr: sp.Basic


@dataclass
class Derivation:
    title: str
    steps: list[Step] = field(default_factory=list)

    def add(self, key: str, description: str, expr) -> sp.Basic:
        """Record a step and return its expression, so derivations read top to bottom."""
        if any(s.key == key for s in self.steps):
            raise ValueError(f"duplicate step key {key!r}")
        expr = sp.sympify(expr)
        self.steps.append(Step(key, description, expr))
        return expr

    def __getitem__(self, key: str) -> sp.Basic:
        for s in self.steps:
            if s.key == key:
                return s.expr
        raise KeyError(key)

    def as_json(self) -> dict[str, str]:
        """``{key: sympy string}``; plain ``sympy.sympify`` parses each value back.

        Functions defined in this package (the logistic sigma) are written in
        terms of exp, so the strings need no local definitions.
        """
        return {s.key: _PortablePrinter().doprint(_portable(s.expr)) for s in self.steps}

    def as_text(self, latex: bool = False) -> str:
        lines = [self.title, "=" * len(self.title)]
        for s in self.steps:
            body = sp.latex(s.expr) if latex else sp.pretty(s.expr, use_unicode=True)
            lines += ["", f"[{s.key}] {s.description}", body]
        return "\n".join(lines)
