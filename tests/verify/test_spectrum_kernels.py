"""The check rows of verify.spectrum and verify.kernels pass, and catch a wrong implementation."""

import numpy as np

from verify import run_check
from verify.registry import Check
from verify.spectrum import CHECKS as SPECTRUM_CHECKS
from verify.spectrum import dense_error, planted


def test_planted_matrix_has_its_decoupled_rows():
    H, keep = planted(12, 4, 2, 0)
    assert keep.size == 8 and np.all(H[np.setdiff1d(np.arange(12), keep)] == 0)
    assert np.sum(np.abs(np.linalg.eigvalsh(H)) < 1e-12) == 6


def test_a_wrong_zero_count_fails_the_dense_check(monkeypatch):
    import verify.spectrum as vs

    real = vs.analyze

    def off_by_one(H, **kw):
        a = real(H, **kw)
        a.gamma["absolute"] += 1.0 / H.shape[0]
        return a

    monkeypatch.setattr(vs, "analyze", off_by_one)
    check = Check("wrong", "eigvalsh", 0.0, SPECTRUM_CHECKS[0].strategy, dense_error)
    assert not run_check(check, max_examples=3).passed
