"""The Gardner stages of `meanfield reproduce` (quick run) against closed forms, published values and Cover's count."""

import json
import math

import pytest
from scipy.stats import binomtest

from meanfield.reproduce import run_stage, stages
from meanfield.reproduce.storage import STAGES, TEACHER_ALPHAS


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce-storage")
    for stage in STAGES:
        run_stage(stage, out, quick=True, data_dir=None, seed=0, force=False, progress=lambda message: None)
    return out


def _record(out, stage):
    return json.loads((out / stage / "stage.json").read_text())


def _numbers(out, stage):
    return {n["key"]: n["value"] for n in _record(out, stage)["numbers"]}


def _data(out, stage, name):
    return json.loads((out / stage / f"{name}.json").read_text())


def test_registered():
    names = [s.name for s in stages()]
    assert "gardner" in names and "gardner-twin" in names


def test_files(out):
    for stage, figures in (("gardner", ("capacity", "overlap", "teacher")), ("gardner-twin", ("twin",))):
        record = _record(out, stage)
        assert record["quick"] is True and [f["file"] for f in record["figures"]] == [f"{f}.png" for f in figures]
        for f in figures:
            assert (out / stage / f"{f}.png").stat().st_size > 10_000
            assert _data(out, stage, f)


def test_capacity_published(out):
    numbers = _numbers(out, "gardner")
    assert numbers["alpha_c_kappa0"] == 2.0  # Gardner 1988
    assert numbers["ising_alpha_c_kappa0"] == pytest.approx(0.833078599, abs=1e-9)  # Krauth-Mezard; Ding & Sun
    assert numbers["ising_alpha_rs_kappa0"] == pytest.approx(4 / math.pi, rel=1e-14)  # Gardner-Derrida
    assert numbers["ising_alpha_c_kappa0"] < 1.0 < numbers["ising_alpha_at_kappa0"] < 4 / math.pi
    data = _data(out, "gardner", "capacity")
    # alpha_c(kappa) = 1 / int_{-kappa}^oo Dt (t + kappa)^2 = 1 / (kappa^2 + 1) up to a Gaussian tail at kappa = 5
    kappa, alpha_c = data["kappa"][-1], data["alpha_c"][-1]
    assert alpha_c == pytest.approx(1 / (kappa**2 + 1), rel=1e-6)
    assert all(at < c for at, c in zip(data["alpha_at"], data["alpha_c"]) if at is not None)


def test_overlap_limits(out):
    data = _data(out, "gardner", "overlap")
    ratio, q = data["alpha_over_alpha_c"], data["q_kappa_0"]
    # small alpha at kappa = 0: q = alpha (1-q) <M(x)^2> -> alpha M(0)^2 = 2 alpha / pi
    assert q[0] == pytest.approx(2 * ratio[0] * 2.0 / math.pi, rel=0.05)
    # near capacity: 1 - q ~ delta / (1 + alpha_c H(0)) = delta / 2, with corrections O(delta^(3/2))
    delta = 1 - ratio[-1]
    assert 1 - q[-1] == pytest.approx(delta / 2, rel=0.15)
    for kappa in (-0.5, 0, 0.5, 1):
        qk = data[f"q_kappa_{kappa:g}"]
        assert all(a < b for a, b in zip(qk, qk[1:])) and 0.99 < qk[-1] < 1.0
    assert not all(data["rs_stable_kappa_-0.5"]) and all(data["rs_stable_kappa_0"])


def test_teacher_limits(out):
    numbers = _numbers(out, "gardner")
    assert numbers["teacher_asymptote"] == pytest.approx(0.625, abs=5e-4)  # Engel & Van den Broeck, sec. 2.3
    data = _data(out, "gardner", "teacher")
    # small alpha: R ~ 2 alpha / pi, eps = arccos(R)/pi ~ 1/2 - 2 alpha / pi^2
    alpha = TEACHER_ALPHAS[0]
    assert data["error"][0] == pytest.approx(0.5 - 2 * alpha / math.pi**2, abs=1e-3)
    assert data["error"][-1] * TEACHER_ALPHAS[1] == pytest.approx(numbers["teacher_asymptote"], rel=0.02)


def cover_fraction(n, p):
    """Cover (1965): 2^(1-p) sum_{k<n} C(p-1, k)."""
    return math.fsum(math.comb(p - 1, k) for k in range(min(n, p))) / 2 ** (p - 1)


def test_twin_matches_cover(out):
    data = _data(out, "gardner-twin", "twin")
    trials = data["trials"]
    sizes = sorted(int(k.removeprefix("fraction_N")) for k in data if k.startswith("fraction_N"))
    assert sizes == [25, 50]
    for n in sizes:
        for p, f, drawn in zip(data[f"p_N{n}"], data[f"fraction_N{n}"], data[f"cover_N{n}"]):
            ref = cover_fraction(n, p)
            assert drawn == pytest.approx(ref, abs=1e-12)
            assert binomtest(round(f * trials), trials, ref).pvalue > 1e-3, (n, p, f, ref)
    alpha, err = _numbers(out, "gardner-twin")["twin_crossing_largest_N"]
    assert abs(alpha - 2.0) < 3 * err + 0.02  # Cover: the fraction is exactly 1/2 at P = 2N


def test_cached_rerun(out):
    again = run_stage(STAGES[1], out, quick=True, data_dir=None, seed=0, force=False, progress=lambda message: None)
    assert again["cached"] is True
