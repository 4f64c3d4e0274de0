"""A derivation: an ordered list of named steps, each a sympy result.

Every topic of ``meanfield derive`` returns one :class:`Derivation`; the CLI
prints it as text, LaTeX or JSON (values are sympy-parsable strings).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp


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
        """``{key: sympy string}``; ``sympy.sympify`` parses each value back."""
        return {s.key: sp.sstr(s.expr) for s in self.steps}

    def as_text(self, latex: bool = False) -> str:
        lines = [self.title, "=" * len(self.title)]
        for s in self.steps:
            body = sp.latex(s.expr) if latex else sp.pretty(s.expr, use_unicode=True)
            lines += ["", f"[{s.key}] {s.description}", body]
        return "\n".join(lines)
