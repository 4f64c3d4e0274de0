"""The table of checks and the hypothesis-driven runner.

A :class:`Check` pairs a strategy of examples with a function returning the
error of the implementation against an oracle on one example; the runner
draws examples with hypothesis (derandomized by default, so a run is
reproducible), records the worst error and, on failure, lets hypothesis
shrink to a minimal failing example.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

# Modules of this package whose ``CHECKS`` list joins the table.
CHECK_MODULES = ("verify.gate", "verify.storage", "verify.mlp", "verify.function_space", "verify.hessian")
CHECK_MODULES += ("verify.spectrum", "verify.kernels")


@dataclass(frozen=True)
class Check:
    """One row: ``error(example)`` must stay <= ``tol`` on every example.

    ``strategy`` is a zero-argument callable returning a hypothesis strategy
    (built lazily so that importing the table stays cheap); ``explicit``
    examples always run before the drawn ones (extremes, published points).
    """

    name: str
    oracle: str
    tol: float
    strategy: Callable[[], Any]
    error: Callable[[Any], float]
    explicit: tuple = ()
    max_examples: int = 100
    ci_examples: int | None = None  # examples the test suite draws (None: max_examples)
    slow: bool = False  # too long for the default test run (``pytest -m slow`` runs it)


def with_budget(checks: list[Check], examples: int | None = None, per_name: dict | None = None,
                slow: tuple = ()) -> list[Check]:
    """The rows with the test suite's example budget set (``per_name`` overrides ``examples``) and the
    rows named in ``slow`` marked slow."""
    per_name = per_name or {}
    unknown = set(slow) - {c.name for c in checks}
    if unknown:
        raise ValueError(f"slow rows that are not in the table: {sorted(unknown)}")
    return [replace(c, ci_examples=min(c.max_examples, per_name.get(c.name, examples) or c.max_examples),
                    slow=c.name in slow) for c in checks]


@dataclass
class CheckResult:
    name: str
    oracle: str
    examples: int
    worst_error: float
    tol: float
    passed: bool
    worst_example: Any = None
    failure: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "check": self.name,
            "oracle": self.oracle,
            "examples": self.examples,
            "worst_error": self.worst_error,
            "tol": self.tol,
            "passed": self.passed,
            "worst_example": repr(self.worst_example),
            "failure": self.failure,
        }


class _ToleranceExceeded(AssertionError):
    pass


def run_check(check: Check, max_examples: int | None = None, derandomize: bool = True) -> CheckResult:
    """Run one check under hypothesis and summarize it."""
    from hypothesis import HealthCheck, Phase, example, given, settings

    state = {"count": 0, "worst": 0.0, "worst_example": None}

    def prop(ex):
        err = float(check.error(ex))
        state["count"] += 1
        bad = not (err <= check.tol)  # NaN counts as a failure
        if bad or err > state["worst"]:
            state["worst"] = math.inf if math.isnan(err) else max(err, state["worst"])
            state["worst_example"] = ex
        if bad:
            raise _ToleranceExceeded(f"error {err:.3g} > tol {check.tol:.3g} at {ex!r}")

    test = given(check.strategy())(prop)
    for ex in check.explicit:
        test = example(ex)(test)
    test = settings(
        max_examples=max_examples or check.max_examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )(test)
    failure = ""
    try:
        test()
    except _ToleranceExceeded as exc:
        failure = str(exc).splitlines()[0]
    return CheckResult(
        name=check.name,
        oracle=check.oracle,
        examples=state["count"],
        worst_error=state["worst"],
        tol=check.tol,
        passed=not failure,
        worst_example=state["worst_example"],
        failure=failure,
    )


def all_checks(pattern: str | None = None) -> list[Check]:
    """Every registered check, optionally only those whose name matches ``pattern`` (regex)."""
    checks = []
    for module in CHECK_MODULES:
        mod = importlib.import_module(module)
        checks.extend(mod.CHECKS)
        checks.extend(getattr(mod, "late_checks", list)())  # rows of what was registered after the import
    names = [c.name for c in checks]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise RuntimeError(f"duplicate check names: {sorted(duplicates)}")
    if pattern is not None:
        rx = re.compile(pattern)
        checks = [c for c in checks if rx.search(c.name)]
    return checks


def run_checks(pattern: str | None = None, max_examples: int | None = None, progress: Callable | None = None,
               derandomize: bool = True):
    """Run all (matching) checks; ``progress(i, n, name)`` is called before each."""
    checks = all_checks(pattern)
    results = []
    for i, check in enumerate(checks):
        if progress:
            progress(i, len(checks), check.name)
        results.append(run_check(check, max_examples, derandomize))
    return results
