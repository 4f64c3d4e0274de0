"""Stages `li-saad-fig2` and `esp-function-space` of `meanfield reproduce` (quick), against closed forms."""

import json
import math

import matplotlib
import matplotlib.text
import mpmath
import numpy as np
import pytest

from meanfield.reproduce import Context, run_stage, stages
from meanfield.reproduce.function_space import STAGES

SQRT2 = math.sqrt(2.0)


FIGURES = {}  # name -> facts read off the matplotlib figure before it is closed


def _figure_facts(fig):
    fig.canvas.draw()
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]
    facts = {"min_font": min(t.get_fontsize() for t in texts), "axes": []}
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        facts["axes"].append({
            "title": ax.get_title(),
            "lines": [(ln.get_label(), np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)) for ln in ax.get_lines()],
            "legend": legend.get_window_extent(renderer) if legend is not None else None,
            "to_display": ax.transData.transform,
        })
    return facts


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    root = tmp_path_factory.mktemp("reproduce")
    real = Context.figure

    def recording(self, name, fig, caption, data):
        FIGURES[name] = _figure_facts(fig)
        return real(self, name, fig, caption, data)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Context, "figure", recording)
        records = {s.name: run_stage(s, root, quick=True, data_dir=None, seed=0, force=False, progress=lambda m: None) for s in STAGES}
    return root, records


def test_figures_fonts_guides_legends_and_jumps(out):
    for name, facts in FIGURES.items():
        assert facts["min_font"] >= 8.0, name
    axes = {ax["title"]: ax for ax in FIGURES["li_saad_fig2"]["axes"] if ax["title"]}
    (c,) = [ax for t, ax in axes.items() if t.startswith("(c)")]
    guide = next(y for label, x, y in c["lines"] if label.startswith("K/"))
    assert guide.max() <= 0.5 + 1e-12  # the asymptote is drawn only where it is a possible error
    (d,) = [ax for t, ax in axes.items() if t.startswith("(d)")]
    (x_pc,) = {x[0] for label, x, y in d["lines"] if label.startswith("p$_c$")}
    box = d["legend"]
    x_disp = d["to_display"]((x_pc, 0.0))[0]
    assert not (box.x0 <= x_disp <= box.x1 and box.y0 < d["to_display"]((x_pc, 1.0))[1]), "p_c line crosses the legend"
    _, records = out
    switch = {k: v for k, v in _numbers(records["li-saad-fig2"]).items() if k.startswith("binary_switch_on")}
    assert sorted(switch) == [f"binary_switch_on_layer_{l}" for l in (1, 2, 3)]
    assert switch["binary_switch_on_layer_1"] == pytest.approx(0.46562, abs=2e-5)
    (b,) = [ax for t, ax in axes.items() if t.startswith("(b)")]
    lines = {label: (x, y) for label, x, y in b["lines"]}
    for layer in (1, 2, 3):
        x, y = lines[f"p$^{{*{layer}}}$"]
        # the switch-on is a vertical segment at its error, from p = 0 to the perturbed branch ...
        (i,) = np.flatnonzero((x[:-1] == x[1:]) & (y[:-1] == 0.0) & (y[1:] > 0.0))
        assert x[i] == switch[f"binary_switch_on_layer_{layer}"] and y[i + 1] > 0.02
        # ... and no segment climbs from p = 0 across an error interval
        assert not np.any((np.diff(x) > 0) & (y[:-1] == 0.0) & (y[1:] > 0.0))


def _numbers(record):
    return {n["key"]: n["value"] for n in record["numbers"]}


def _data(root, stage, name):
    return json.loads((root / stage / f"{name}.json").read_text())


def test_registered():
    names = [s.name for s in stages()]
    assert "li-saad-fig2" in names and "esp-function-space" in names


def test_files_written(out):
    root, records = out
    for name, record in records.items():
        assert (root / name / "stage.json").is_file()
        for fig in record["figures"]:
            assert (root / name / fig["file"]).stat().st_size > 10_000
            assert (root / name / fig["data"]).is_file()


def test_majority_panels(out):
    root, records = out
    assert _numbers(records["li-saad-fig2"])["p_c_k3"] == pytest.approx(1.0 / 6.0, rel=1e-14)
    d = _data(root, "li-saad-fig2", "li_saad_fig2")
    p = np.array(d["p"])
    below = p < 1.0 / 6.0
    # Li & Saad: m_oo = sqrt((1 - 6p)/(1 - 2p)^3) below p_c, q_oo = m_oo; paramagnetic above
    m_closed = np.sqrt((1 - 6 * p[below]) / (1 - 2 * p[below]) ** 3)
    assert np.array(d["m_stationary"])[below] == pytest.approx(m_closed, rel=1e-10)
    assert np.array(d["error_stationary"])[below] == pytest.approx((1 - m_closed) / 2, rel=1e-9, abs=1e-15)
    assert np.all(np.array(d["m_stationary"])[~below] == 0.0)
    # recursion against the simulated networks (width 20000) where the recursion has settled (the transient
    # amplifies the sample's own initial magnetization, off by ~1/sqrt(N))
    settled = 0
    for key in (k for k in d if k.startswith("maj_p_")):
        m, delta = np.array(d[key]["m"]), np.array(d[key]["delta"])
        if abs(m[-1] - m[-6]) < 0.01:
            settled += 1
            assert np.abs(m[-5:] - d[key]["m_simulated"][-5:]) == pytest.approx(np.zeros(5), abs=0.02)
            assert np.abs(delta[-5:] - d[key]["delta_simulated"][-5:]) == pytest.approx(np.zeros(5), abs=0.02)
    assert settled >= 4


def test_entropies_and_generalization(out):
    root, records = out
    numbers = _numbers(records["li-saad-fig2"])
    d = _data(root, "li-saad-fig2", "li_saad_fig2")
    eps = 0.1
    # binary weights at eps = 0.1: only the last layer is perturbed, q_L = (2/pi) asin(1 - 2p) = 1 - 2 eps (Eq. 11)
    p = (1 - math.sin(math.pi * (1 - 2 * eps) / 2)) / 2
    h2 = -p * math.log(p) - (1 - p) * math.log1p(-p)
    assert numbers["entropy_binary_eps_0.1"] == pytest.approx(h2 / 4, rel=1e-9)
    # continuous weights: the reported eta* meets the arcsine recursion's constraint and S_con = mean log eta (Eqs. 8-9)
    eta = np.array(d["continuous_reference"]["perturbation"])
    with mpmath.workdps(40):
        q = mpmath.mpf(1)
        for e in eta:
            q = 2 / mpmath.pi * mpmath.asin(mpmath.sqrt(1 - mpmath.mpf(e) ** 2) * q)
        assert float((1 - q) / 2) == pytest.approx(eps, rel=1e-10)
    assert numbers["entropy_continuous_eps_0.1"] == pytest.approx(np.mean(np.log(eta)), rel=1e-10)
    # small eps: S_con = K log eps + C, K = 15/4, C = 2.5716464 (L = 4; theory.function_space.small_error_asymptote)
    assert d["continuous_entropy"][0] == pytest.approx(3.75 * math.log(d["error"][0]) + 2.57164637308855, rel=1e-4)
    # large alpha: eps* = K/(alpha + K)
    assert numbers["large_alpha_constant"] == pytest.approx(1000 * 3.75 / 1003.75, rel=1e-4)
    assert 5.0 < numbers["generalization_onset_alpha"] < 10.0  # letter's Fig. 2c: eps* leaves 1/2 near alpha ~ 5.5


def test_esp_order_to_chaos(out):
    root, records = out
    d = _data(root, "esp-function-space", "order_to_chaos")
    rtol = d["rtol"]
    assert d["ReLU"]["sigma_w_critical"] == pytest.approx([SQRT2] * len(d["sigma_b"]), rel=2 * rtol)
    assert d["tanh"]["sigma_w_critical"][0] == pytest.approx(1.0, rel=2 * rtol)  # tanh(beta h), sigma_b = 0: 1/beta
    esp0 = [d[k]["sigma_w_critical"][0] for k in d if k.startswith("ESP")]
    assert all(SQRT2 * (1 - 2 * rtol) < s < 2.0 for s in esp0)
    assert np.all(np.diff(esp0) < 0)  # decreasing in beta towards ReLU's sqrt(2)
    top = _numbers(records["esp-function-space"])["esp_critical_sigma_w_sb0"]
    assert top == pytest.approx(SQRT2, rel=1e-3)


def test_overlap_map(out):
    root, _ = out
    d = _data(root, "esp-function-space", "overlap_map")
    rho = np.array(d["rho"])
    arc_cosine = (np.sqrt(1 - rho**2) + (math.pi - np.arccos(rho)) * rho) / math.pi  # ReLU (Cho & Saul)
    assert d["ReLU"]["q_map"] == pytest.approx(arc_cosine, rel=1e-8)
    assert d["tanh"]["q_map"][0] == pytest.approx(0.0, abs=1e-10)  # odd unit: uncorrelated fields stay uncorrelated
    assert d["ESP, β = 30"]["q_map"] == pytest.approx(arc_cosine, abs=2e-2)  # beta -> oo: ReLU
