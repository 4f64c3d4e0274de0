"""Stages for the function space of deep networks (Li & Saad, PRL 120, 248301 (2018)) and its ESP extension.

* ``li-saad-fig2``: the six panels of the letter's Fig. 2 (beta -> oo): maximum-entropy perturbations
  against the output error for continuous and binary weights, the annealed generalization curve, and the
  sparse MAJ-3 networks (stationary state against p, evolution over layers);
* ``esp-function-space``: beyond the papers, the overlap map of two coupled networks of ESP units across
  beta next to ReLU and tanh, and the order-to-chaos line sigma_w,c(sigma_b) of the same units.
"""

from __future__ import annotations

import math

import numpy as np

from meanfield.reproduce import Stage

LAYERS = 4  # the letter's four-layer dense networks, Fig. 2a-c
REFERENCE_ERROR = 0.1  # output error at which the entropies are reported
MAJ_K = 3
MAJ_M0 = 0.1  # initial magnetization m^_0 = m_0 of the MAJ-3 panels (e, f)
MAJ_PS = (0.0, 0.05, 0.1, 0.15, 0.2)


def _max_entropy_table(errors, weights, grid_points):
    """Maxima on the error grid; binary weights add both sides of every first-order switch-on at its error
    (so a jump is drawn as a vertical segment). Returns (errors, perturbations, entropies, switch-ons)."""
    from numerics.solvers.function_space import max_entropy_perturbation, switch_on_errors

    rows = [(float(e), 0, max_entropy_perturbation(float(e), LAYERS, weights, grid_points=grid_points)) for e in errors]
    switches = switch_on_errors(LAYERS, grid_points=grid_points) if weights == "binary" else []
    for sw in switches:
        rows += [(sw.error, 0, sw.below), (sw.error, 1, sw.above)]
    rows.sort(key=lambda row: row[:2])
    return (np.array([e for e, _, _ in rows]), np.array([r.perturbation for _, _, r in rows]),
            np.array([r.entropy for _, _, r in rows]), switches)


def _perturbation_panel(ax, errors, pert, entropy, symbol, title, inset_at):
    for l in range(LAYERS):
        ax.plot(errors, pert[:, l], label=f"{symbol}$^{{*{l + 1}}}$")
    ax.set(xlabel="output error ε", ylabel=f"max-entropy perturbation {symbol}$^{{*l}}$", title=title, xlim=(0, 0.5))
    ax.legend(loc="upper left", ncol=2)
    inset = ax.inset_axes(inset_at)
    inset.plot(errors, entropy, "k")
    inset.set_xlabel("ε", fontsize=8)
    inset.set_ylabel("S", fontsize=8)
    inset.tick_params(labelsize=8)


def _panels_ab(ctx, axes, data, errors, grid_points) -> None:
    """(a), (b): maximum-entropy perturbations against the output error, entropy inset; the reference numbers."""
    from numerics.solvers.function_space import max_entropy_perturbation

    ctx.progress("(a), (b) maximum-entropy perturbations")
    panels = ((axes[0], "continuous", "η", "a", [0.12, 0.45, 0.38, 0.33]), (axes[1], "binary", "p", "b", [0.09, 0.48, 0.27, 0.27]))
    for ax, weights, symbol, letter, inset_at in panels:
        errs, pert, ent, switches = _max_entropy_table(errors, weights, grid_points)
        data[f"{weights}_error"], data[f"{weights}_perturbation"], data[f"{weights}_entropy"] = errs, pert, ent
        _perturbation_panel(ax, errs, pert, ent, symbol, f"({letter}) {weights} weights, L = {LAYERS}", inset_at)
        for sw in switches:
            ctx.number(f"binary_switch_on_layer_{sw.layer}", sw.error,
                       f"binary weights, L = {LAYERS}: layer {sw.layer} is perturbed at the maximum above this ε "
                       "(a first-order jump of every p_l)")
        ref = max_entropy_perturbation(REFERENCE_ERROR, LAYERS, weights, grid_points=grid_points)
        ctx.number(f"entropy_{weights}_eps_{REFERENCE_ERROR:g}", ref.entropy,
                   f"max entropy S_{weights[:3]} at ε = {REFERENCE_ERROR:g}, L = {LAYERS} (Eq. {9 if weights == 'continuous' else 12})")
        data[f"{weights}_reference"] = {"error": REFERENCE_ERROR, "perturbation": ref.perturbation, "entropy": ref.entropy}


def _panel_c(ctx, ax, data) -> None:
    """(c): the annealed generalization curve against the large-alpha law eps* = K/(alpha + K) of the theory."""
    import sympy as sp

    from numerics.solvers.function_space import generalization_curve
    from theory import function_space as fs

    ctx.progress("(c) generalization curve")
    quick = ctx.quick
    alphas = np.geomspace(0.5, 1000.0, 14 if quick else 60)
    gen = generalization_curve(alphas, LAYERS, "continuous", table_points=20 if quick else 64, grid_points=100 if quick else 300)
    K = float(fs.entropy_growth_exponent().subs(sp.Symbol("L", positive=True, integer=True), LAYERS))
    eps_star, series = fs.generalization_asymptote()
    k_sym = sp.Symbol("K", positive=True)
    law = sp.lambdify((k_sym, fs.alpha), eps_star)  # K/(alpha + K)
    leading = sp.lambdify((k_sym, fs.alpha), sp.series(eps_star, fs.alpha, sp.oo, 2).removeO())  # K/alpha
    ax.semilogx(alphas, gen.error, "o", ms=3, label="annealed ε*(α)")
    guide = np.geomspace(K, alphas[-1], 200)  # K/(α + K) <= 1/2, the largest error there is
    ax.semilogx(guide, law(K, guide), "k:", label=f"K/(α + K), K = (2^L − 1)/L = {K:g}")
    ax.set(xlabel="examples per weight α = P/(L N²)", ylabel="generalization error ε*", title="(c) generalization, continuous weights")
    ax.legend(loc="lower left")
    inset = ax.inset_axes([0.62, 0.55, 0.35, 0.35])
    large = alphas >= 20.0
    inset.plot(1.0 / alphas[large], gen.error[large], "o", ms=3)
    inset.plot(1.0 / alphas[large], leading(K, alphas[large]), "k:")
    inset.set_xlabel("1/α", fontsize=8)
    inset.set_ylabel("ε*", fontsize=8)
    inset.tick_params(labelsize=8)
    data.update(alpha=alphas, generalization_error=gen.error, K=K)
    ctx.number("large_alpha_constant", float(alphas[-1] * gen.error[-1]),
               f"α ε*(α) at α = {alphas[-1]:g} (→ K = (2^L − 1)/L = {K:g} as α → ∞)")
    jump = int(np.flatnonzero(gen.error < 0.5)[0])
    ctx.number("generalization_onset_alpha", float(alphas[jump]), "first α on the grid with ε* < 1/2 (the curve jumps from ε* = 1/2)")


def _panel_d(ctx, ax, data) -> float:
    """(d): MAJ-k stationary magnetization and error against p; returns p_c."""
    from numerics.solvers.majority import critical_perturbation, majority_stationary

    ctx.progress("(d) MAJ-3 stationary state")
    p_c = critical_perturbation(MAJ_K)
    ps = np.linspace(0.0, 0.3, 61 if ctx.quick else 301)
    stat = [majority_stationary(MAJ_K, p) for p in ps]
    m_inf, eps_inf = np.array([s.m for s in stat]), np.array([s.error for s in stat])
    ax.plot(ps, m_inf, label="magnetization m$^∞$")
    ax.plot(ps, eps_inf, label="function error ε = (1 − q$^∞$)/2")
    ax.axvline(p_c, color="k", ls=":", label=f"p$_c$ = {p_c:.4f}")
    ax.set(xlabel="perturbation probability p", ylabel="m$^∞$, ε", title=f"(d) MAJ-{MAJ_K}, L → ∞", xlim=(0, 0.3))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=2, fontsize=8, frameon=False)  # above, clear of p_c
    data.update(p=ps, m_stationary=m_inf, error_stationary=eps_inf, p_c=p_c)
    ctx.number("p_c_k3", p_c, "critical perturbation of MAJ-3 networks (1/6)")
    return p_c


def _panels_ef(ctx, axes, data) -> int:
    """(e), (f): MAJ-k magnetization and internal error over layers, recursion against simulation; returns the width."""
    from numerics.simulate.networks import simulate_majority
    from numerics.solvers.majority import majority_recursion

    ctx.progress("(e), (f) MAJ-3 over layers")
    seeds = np.random.SeedSequence(ctx.seed).spawn(len(MAJ_PS))
    depth = 30 if ctx.quick else 50
    maj_width, maj_replicas = (20_000, 2) if ctx.quick else (200_000, 8)
    layers = np.arange(depth + 1)
    for p, child in zip(MAJ_PS, seeds):
        traj = majority_recursion(MAJ_K, p, depth, MAJ_M0)
        sim = simulate_majority(MAJ_K, p, depth, MAJ_M0, width=maj_width, replicas=maj_replicas, seed=child, workers=2)
        line, = axes[0].plot(layers, traj.m, label=f"p = {p:g}")
        axes[0].plot(layers[::3], sim.m[::3], "o", ms=3, color=line.get_color())
        axes[1].plot(layers, traj.error_per_layer, color=line.get_color(), label=f"p = {p:g}")
        axes[1].plot(layers[::3], (1.0 - sim.q[::3]) / 2.0, "o", ms=3, color=line.get_color())
        data[f"maj_p_{p:g}"] = {"m": traj.m, "delta": traj.error_per_layer, "m_simulated": sim.m,
                                "m_simulated_stderr": sim.m_stderr, "delta_simulated": (1.0 - sim.q) / 2.0,
                                "delta_simulated_stderr": sim.q_stderr / 2.0}
    axes[0].set(xlabel="layer l", ylabel="magnetization m$^l$", title=f"(e) MAJ-{MAJ_K}, m$^0$ = {MAJ_M0:g}")
    axes[1].set(xlabel="layer l", ylabel="internal error δ(l) = (1 − q$^l$)/2", title=f"(f) MAJ-{MAJ_K}, m$^0$ = {MAJ_M0:g}")
    for ax, height in ((axes[0], 0.68), (axes[1], 0.3)):
        ax.plot([], [], "ko", ms=3, label="simulation")
        ax.legend(loc="center right", bbox_to_anchor=(1.0, height), ncol=2)
    data.update(maj_m0=MAJ_M0, maj_width=maj_width, maj_replicas=maj_replicas)
    ctx.note(f"MAJ-3 simulations: width {maj_width}, {maj_replicas} replicas per p, wiring with replacement; "
             "the generalization curve uses the annealed approximation of the letter.")
    return maj_width


def li_saad_fig2(ctx) -> None:
    """Fig. 2 (a)-(f) of Li & Saad: function-space entropy, generalization, MAJ-3 networks."""
    import matplotlib.pyplot as plt

    grid_points = 150 if ctx.quick else 600
    errors = np.linspace(0.005, 0.495, 30 if ctx.quick else 99)
    data = {"layers": LAYERS, "error": errors}
    fig, axes = plt.subplots(2, 3, figsize=(15, 9))
    _panels_ab(ctx, axes[0, :2], data, errors, grid_points)
    _panel_c(ctx, axes[0, 2], data)
    p_c = _panel_d(ctx, axes[1, 0], data)
    maj_width = _panels_ef(ctx, axes[1, 1:], data)
    fig.tight_layout()
    ctx.figure("li_saad_fig2", fig,
               f"Li & Saad Fig. 2 (β → ∞): (a, b) maximum-entropy perturbations of a {LAYERS}-layer network against the output "
               "error ε with the entropy S(ε) inset; (c) annealed generalization curve with ε* against 1/α inset; (d) MAJ-3 "
               f"stationary magnetization and error against p with p_c = {p_c:.4f}; (e, f) magnetization and internal error "
               f"over layers from m^0 = {MAJ_M0:g} (lines: Eqs. 13-14; dots: simulated networks of width {maj_width}).",
               data)


ESP_BETAS = (0.3, 1.0, 3.0, 30.0)
OVERLAP_SIGMA_W = math.sqrt(2.0)  # weight scale of the overlap-map figure (ReLU's critical point at sigma_b = 0)


UNITS = tuple((f"ESP, β = {b:g}", "esp", b) for b in ESP_BETAS) + (("ReLU", "relu", None), ("tanh", "tanh", 1.0))


def _overlap_map_figure(ctx) -> None:
    """The one-layer overlap map of ESP across beta, ReLU and tanh, and its iteration over layers."""
    import matplotlib.pyplot as plt
    import sympy as sp

    from numerics.solvers.function_space import overlap_recursion
    from theory import function_space as fs

    rhos = np.linspace(0.0, 1.0, 6 if ctx.quick else 21)
    depth = 8 if ctx.quick else 15
    eta_first = 0.8  # perturbation of layer 1 only; deeper layers copy the reference weights
    eta_of_x = sp.lambdify(fs.x, fs.perturbation_of_x("continuous"))  # eta = sqrt(x (2 - x)), x = 1 - c
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
    data = {"sigma_w": OVERLAP_SIGMA_W, "rho": rhos, "eta_first_layer": eta_first}
    for label, name, beta in UNITS:
        ctx.progress(f"overlap map, {label}")
        etas = eta_of_x(1.0 - rhos)  # input-field correlation rho = c = sqrt(1 - eta^2)
        q_map = np.array([overlap_recursion([e], activation=name, beta=beta, sigma=OVERLAP_SIGMA_W).q[0] for e in etas])
        q_layers = overlap_recursion([eta_first] + [0.0] * (depth - 1), activation=name, beta=beta, sigma=OVERLAP_SIGMA_W).q
        style = "--" if name != "esp" else "-"
        line, = a.plot(rhos, q_map, style, label=label)
        b.plot(np.arange(1, depth + 1), q_layers, style + "o", ms=3, color=line.get_color(), label=label)
        data[label] = {"activation": name, "beta": beta, "q_map": q_map, "q_layers": q_layers}
    a.plot(rhos, rhos, "k:", lw=1, label="q$_l$ = q$_{l-1}$ (linear units)")
    a.set(xlabel="input overlap q$_{l-1}$ (field correlation)", ylabel="output overlap q$_l$",
          title="overlap map, σ$_w$ = √2, σ$_b$ = 0, unit input variance", xlim=(0, 1), ylim=(0, 1))
    a.legend(fontsize=8)
    b.set(xlabel="layer l", ylabel="overlap q$_l$ with the reference", ylim=(0, 1.02),
          title=f"only layer 1 perturbed (η$^1$ = {eta_first:g}), σ$_w$ = √2")
    b.legend(fontsize=8)
    fig.tight_layout()
    ctx.figure("overlap_map", fig,
               "Normalized overlap q_l = C_l/Q_l of a reference network and a copy, units a = φ(h, β) without bias: the "
               "one-layer map from the input-field correlation (left) and its iteration over layers when only the first "
               "layer is perturbed (right); ESP moves from the linear map (β → 0) to ReLU's (β → ∞), tanh at σ_w = √2 is "
               "chaotic and decorrelates.", data)


def _order_to_chaos_figure(ctx) -> None:
    """The critical sigma_w against sigma_b of the same units, and ESP's edge at sigma_b = 0 as numbers."""
    import matplotlib.pyplot as plt

    from numerics.solvers.propagation import critical_sigma_w

    sigma_bs = np.linspace(0.0, 1.5, 4 if ctx.quick else 16)
    rtol = 1e-5 if ctx.quick else 1e-8
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    data = {"sigma_b": sigma_bs, "rtol": rtol, "q0": 1.0}
    for label, name, beta in UNITS:
        ctx.progress(f"order-to-chaos line, {label}")
        crit = [critical_sigma_w(name, sb, beta=beta, rtol=rtol) for sb in sigma_bs]
        sw = np.array([c.sigma_w for c in crit])
        line, = ax.plot(sigma_bs, sw, ("-" if name == "esp" else "--") + "o", ms=3, label=label)
        chaotic = np.array([c.kind == "chaotic" for c in crit])
        ax.plot(sigma_bs[chaotic], sw[chaotic], "s", ms=7, mfc="none", color=line.get_color())
        data[label] = {"activation": name, "beta": beta, "sigma_w_critical": sw, "kind": [c.kind for c in crit]}
    ax.axhline(math.sqrt(2.0), color="k", ls=":", lw=1, label="√2")
    ax.plot([], [], "s", ms=7, mfc="none", color="k", label="edge where χ$_1$ = 1 (else q* → ∞)")
    ax.set(xlabel="bias scale σ$_b$", ylabel="critical weight scale σ$_{w,c}$",
           title="edge of the ordered phase (input variance q$_0$ = 1)", ylim=(0.85, None))
    ax.legend(fontsize=8, ncol=2, loc="lower right")
    fig.tight_layout()
    ctx.figure("order_to_chaos", fig,
               "Critical σ_w against σ_b (mean-field signal propagation, q_0 = 1): ESP lies between 2 (β → 0) and ReLU's √2 "
               "(β → ∞) at σ_b = 0, where the variance diverges beyond the line; with a bias ESP's edge can become chaotic "
               "(χ_1 = 1, open squares); tanh's line starts at σ_w = 1/β for σ_b = 0.", data)
    label, name, beta = UNITS[len(ESP_BETAS) - 1]
    top = data[label]["sigma_w_critical"][0]
    ctx.number("esp_critical_sigma_w_sb0", float(top), f"ESP critical σ_w at σ_b = 0, β = {beta:g} (ReLU: √2 = {math.sqrt(2):.6f})")
    ctx.number("esp_critical_sigma_w_sb0_minus_sqrt2", float(top - math.sqrt(2.0)), f"its distance from √2 at β = {beta:g}")


def esp_function_space(ctx) -> None:
    """Beyond the papers: overlap map and order-to-chaos line of ESP networks across beta, next to ReLU and tanh."""
    _overlap_map_figure(ctx)
    _order_to_chaos_figure(ctx)


STAGES = (
    Stage("li-saad-fig2", "Li & Saad Fig. 2: function space of deep networks", li_saad_fig2),
    Stage("esp-function-space", "Beyond the papers: ESP overlap map and order-to-chaos line", esp_function_space),
)
