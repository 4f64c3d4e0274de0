"""Every row of the check table passes, drawing the row's CI example budget; rows marked slow run with ``-m slow``."""

import pytest

from verify import all_checks, run_check

ROWS = all_checks()


@pytest.mark.parametrize("check", [pytest.param(c, marks=pytest.mark.slow) if c.slow else c for c in ROWS],
                         ids=[c.name for c in ROWS])
def test_row_passes(check):
    result = run_check(check, check.ci_examples)
    assert result.passed, result.failure
    assert result.examples >= max(1, len(check.explicit))  # the explicit examples (extremes, published points) ran


def test_every_row_has_a_budget_within_its_maximum():
    assert ROWS and all(c.ci_examples is not None and 1 <= c.ci_examples <= c.max_examples for c in ROWS)
