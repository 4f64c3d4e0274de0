import math

from hypothesis import strategies as st

from verify import Check, all_checks, run_check
from verify.metrics import relative_error


def test_nan_error_counts_as_failure():
    check = Check("nan", "none", 1.0, lambda: st.just(0), lambda ex: math.nan)
    result = run_check(check, max_examples=3)
    assert not result.passed and result.worst_error == math.inf


def test_explicit_examples_always_run():
    seen = []
    check = Check("explicit", "none", 1.0, lambda: st.just(1), lambda ex: seen.append(ex) or 0.0, explicit=(42,))
    assert run_check(check, max_examples=2).passed
    assert 42 in seen


def test_worst_error_and_example_are_reported():
    check = Check("worst", "none", 10.0, lambda: st.sampled_from([1, 2, 3]), lambda ex: float(ex))
    result = run_check(check, max_examples=20)
    assert result.passed and result.worst_error == 3.0 and result.worst_example == 3


def test_relative_error_floors_at_the_smallest_normal():
    assert relative_error(1.0, 1.0) == 0.0
    assert relative_error(2.0, 1.0) == 1.0
    assert relative_error(5e-324, 0.0) < 1e-15  # subnormal noise judged absolutely
    assert relative_error(math.inf, 1.0) == math.inf
    assert relative_error(math.inf, math.inf) == 0.0


def test_check_names_are_unique_and_filterable():
    names = [c.name for c in all_checks()]
    assert len(names) == len(set(names))
    assert all("esp" in c.name for c in all_checks("esp"))
