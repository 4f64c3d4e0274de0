"""Stages for Gardner's storage problem: RS capacity, overlap, teacher-student learning, and the finite-N twin.

Every number comes from numerics.solvers.storage (RS saddle points on kernels generated from theory/storage.py)
and, for the large-alpha teacher-student constant in the full run, from theory.storage's derivation.
"""

from __future__ import annotations

import numpy as np

from meanfield.reproduce import Stage

CAPACITY_KAPPAS = (-5.0, 5.0)
OVERLAP_KAPPAS = (-0.5, 0.0, 0.5, 1.0)
OVERLAP_TOP = 0.99  # largest alpha / alpha_c on the q(alpha) curves
TEACHER_ALPHAS = (0.1, 100.0)
TEACHER_PROBE = 1e5  # alpha where alpha eps(alpha) stands in for the asymptote constant in the quick run


def _twin_plan(quick: bool) -> tuple[tuple[int, ...], np.ndarray, int]:
    """(sizes N, loads alpha, trials per point) of the finite-N twin."""
    if quick:
        return (25, 50), np.linspace(1.4, 2.6, 7), 40
    return (50, 100, 200, 400), np.linspace(1.7, 2.3, 9), 80


def _capacity_figure(ctx, ns) -> None:
    import matplotlib.pyplot as plt

    kappa = np.linspace(*CAPACITY_KAPPAS, 41 if ctx.quick else 81)
    ctx.progress("spherical capacity")
    spherical = [ns.capacity(float(k)) for k in kappa]
    alpha_c = np.array([c.alpha_c for c in spherical])
    negative = kappa < 0

    def column(get):  # NaN where the quantity does not exist (not drawn; null in the data)
        return np.array([np.nan if get(c) is None else get(c) for c in spherical])

    alpha_at = column(lambda c: c.alpha_at)
    unstable = column(lambda c: c.alpha_unstable)
    first = column(lambda c: c.alpha_first_order)
    lower = column(lambda c: c.alpha_spinodals and c.alpha_spinodals[0])
    upper = column(lambda c: c.alpha_spinodals and c.alpha_spinodals[1])
    kappa3 = ns.three_root_onset()
    ctx.progress("Ising capacity")
    ising_kappa = np.array([-1.0, 0.0, 1.0, 2.0]) if ctx.quick else np.round(np.linspace(-1.0, 5.0, 13), 12)
    ising = [ns.capacity(float(k), "ising") for k in ising_kappa]
    km = np.array([c.alpha_c for c in ising])
    gd = np.array([c.alpha_rs for c in ising])
    ising_at = np.array([c.alpha_at for c in ising])

    fig, ax = plt.subplots(figsize=(7.4, 5.0))
    ax.fill_between(kappa[negative], unstable[negative], alpha_c[negative], color="0.85", lw=0,
                    label="spherical: RS unstable (onset < α < α_c)")
    ax.plot(kappa, alpha_c, "k", label="spherical α_c(κ) (Gardner)")
    ax.plot(kappa, alpha_at, "k:", label="spherical AT line on the selected RS branch")
    ax.plot(kappa, first, "C4-", lw=1.2, label="first-order jump between RS branches (equal entropy)")
    ax.plot(kappa, lower, "C4--", lw=0.8, label="spinodals: ends of the three-root window")
    ax.plot(kappa, upper, "C4--", lw=0.8)
    ax.axvline(kappa3, color="C4", lw=0.6, ls=":")
    ax.text(kappa3 - 0.1, 1.5, f"κ₃ = {kappa3:.3f}: three RS roots below;\nRS is not the full answer there",
            ha="right", va="bottom", fontsize=7, color="C4")
    ax.plot(ising_kappa, gd, "s--", color="C1", ms=4, label="Ising q → 1 value 2α_c/π (Gardner–Derrida)")
    ax.plot(ising_kappa, ising_at, "^:", color="C2", ms=4, label="Ising AT line")
    ax.plot(ising_kappa, km, "o-", color="C0", ms=4, label="Ising α_c, zero RS entropy (Krauth–Mézard)")
    ax.hlines(1.0, 0.0, CAPACITY_KAPPAS[1], color="C3", lw=0.8, ls="-.", label="Ising information bound α ≤ 1 (κ ≥ 0)")
    ax.set(yscale="log", xlabel="stability κ", ylabel="capacity α = P/N",
           title="Storage capacity of the perceptron (replica symmetry)", xlim=CAPACITY_KAPPAS,
           ylim=(0.02, 3 * alpha_c[0]))
    ax.legend(loc="upper right", fontsize=7)

    def listed(v):
        return [None if np.isnan(x) else float(x) for x in v]

    ctx.figure("capacity", fig, "Capacity α_c(κ) of the spherical perceptron with the onset of RS instability "
               "(shaded: RS unstable below capacity for κ < 0): the AT line of the selected RS branch and, below "
               f"κ₃ = {kappa3:.4f}, where the RS saddle-point equation has three roots, the spinodals and the "
               "first-order jump onto the large-q branch, which is unstable there (RS is not the full answer: "
               "replica symmetry breaking is needed). Ising perceptron: zero RS entropy (Krauth–Mézard), the "
               "q → 1 value (Gardner–Derrida) and its AT line.",
               {"kappa": kappa, "alpha_c": alpha_c, "alpha_at": listed(alpha_at), "alpha_unstable": listed(unstable),
                "alpha_first_order": listed(first), "alpha_spinodal_lower": listed(lower),
                "alpha_spinodal_upper": listed(upper), "kappa_3": kappa3,
                "ising_kappa": ising_kappa, "ising_alpha_c": km, "ising_alpha_rs": gd, "ising_alpha_at": ising_at})
    ctx.number("kappa_3", kappa3, "κ below which the spherical RS equations have three roots in a window of α")
    at0 = ising[list(ising_kappa).index(0.0)]
    ctx.number("alpha_c_kappa0", ns.capacity(0.0).alpha_c, "spherical capacity α_c(0) (Gardner: 2)")
    ctx.number("ising_alpha_c_kappa0", at0.alpha_c, "Ising capacity at κ = 0, zero RS entropy (Krauth–Mézard ≈ 0.8331)")
    ctx.number("ising_alpha_rs_kappa0", at0.alpha_rs, "Ising q → 1 value at κ = 0 (Gardner–Derrida: 4/π)")
    ctx.number("ising_alpha_at_kappa0", at0.alpha_at, "Ising AT line at κ = 0 (above α_c: RS fails by negative entropy)")
    ctx.number("alpha_at_kappa_m1", ns.capacity(-1.0).alpha_at, "spherical AT line at κ = −1 (α_c(−1) ≈ 13.27)")


def _overlap_figure(ctx, ns) -> None:
    import matplotlib.pyplot as plt

    ctx.progress("overlap q(alpha)")
    ratio = np.concatenate([np.linspace(0.02, 0.9, 23 if ctx.quick else 45), np.linspace(0.91, OVERLAP_TOP, 9)])
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    data = {"alpha_over_alpha_c": ratio}
    for i, kappa in enumerate(OVERLAP_KAPPAS):
        alpha_c = ns.capacity(kappa).alpha_c
        saddles = [ns.storage_saddle(float(r * alpha_c), kappa) for r in ratio]
        q = np.array([s.q for s in saddles])
        stable = np.array([s.rs_stable for s in saddles])
        data |= {f"q_kappa_{kappa:g}": q, f"rs_stable_kappa_{kappa:g}": stable, f"alpha_c_kappa_{kappa:g}": alpha_c}
        last = np.nonzero(stable)[0].max()  # RS stability is lost once, as alpha grows
        ax.plot(ratio[:last + 1], q[:last + 1], color=f"C{i}", label=f"κ = {kappa:g} (α_c = {alpha_c:.4g})")
        if last + 1 < ratio.size:
            ax.plot(ratio[last:], q[last:], "--", color=f"C{i}", label=f"κ = {kappa:g}, RS unstable (beyond AT)")
        if kappa == 0.0:
            ctx.number("q_kappa0_at_099", q[-1], f"overlap q at α = {OVERLAP_TOP} α_c, κ = 0 "
                       "(near-capacity law 1 − q ≈ δ/(1 + α_c H(−κ)) gives 0.995)")
    ax.axvline(1.0, color="k", lw=0.8, ls=":")
    ax.set(xlabel="load relative to capacity α/α_c(κ)", ylabel="overlap q between two solutions",
           title="RS overlap of the spherical perceptron: q → 1 at capacity", xlim=(0, 1.02), ylim=(0, 1.01))
    ax.legend(loc="upper left")
    ctx.figure("overlap", fig, "RS overlap q between two solutions against α/α_c(κ) for several stabilities κ: the "
               "version space shrinks to a point (q → 1) at capacity; dashed: beyond the AT line (κ < 0).", data)


def _teacher_figure(ctx, ns) -> None:
    import matplotlib.pyplot as plt

    ctx.progress("teacher-student")
    alpha = np.geomspace(*TEACHER_ALPHAS, 41 if ctx.quick else 81)
    eps = np.array([ns.teacher_student(float(a)).error for a in alpha])
    if ctx.quick:
        constant = TEACHER_PROBE * ns.teacher_student(TEACHER_PROBE).error
        source = f"α ε(α) at α = {TEACHER_PROBE:g} (numerics.solvers.storage)"
    else:
        from theory import storage as ts

        constant = float(ts.derivation()["ts_asymptote_value"])
        source = "c = √2/(π C), theory.storage at 30 digits"
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(alpha, eps, "k", label="Gibbs learning ε(α) (RS, Nishimori point)")
    large = alpha >= 1.0
    ax.plot(alpha[large], constant / alpha[large], "C3--", label=f"large-α asymptote {constant:.4f}/α")
    ax.set(xscale="log", yscale="log", xlabel="examples per coupling α = P/N", ylabel="generalization error ε",
           title="Teacher-student perceptron: Gibbs learning")
    ax.legend(loc="lower left")
    ctx.figure("teacher", fig, f"Generalization error ε = arccos(R)/π of Gibbs learning against α, with the "
               f"asymptote {constant:.4f}/α ({source}).",
               {"alpha": alpha, "error": eps, "asymptote_constant": constant})
    ctx.number("teacher_eps_alpha_1", ns.teacher_student(1.0).error, "Gibbs-learning ε at α = 1")
    ctx.number("teacher_asymptote", constant, f"ε α for α → ∞ (Engel & Van den Broeck: 0.625); {source}")


def theory_stage(ctx) -> None:
    """Capacity, overlap and teacher-student figures from the RS saddle points."""
    from numerics.solvers import storage as ns

    _capacity_figure(ctx, ns)
    _overlap_figure(ctx, ns)
    _teacher_figure(ctx, ns)


def twin_stage(ctx) -> None:
    """Finite-N twin: the fraction of random pattern sets a spherical perceptron stores (κ = 0)."""
    import matplotlib.pyplot as plt
    from scipy.stats import binom

    from numerics.simulate.storage import simulate_storage
    from numerics.solvers import storage as ns

    sizes, alphas, trials = _twin_plan(ctx.quick)
    seed = int(np.random.SeedSequence(ctx.seed).generate_state(1)[0])
    alpha_c = ns.capacity(0.0).alpha_c
    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    data = {"alpha": alphas, "trials": trials, "seed": seed, "alpha_c": alpha_c}
    crossings = []
    for i, n in enumerate(sizes):
        ctx.progress(f"N = {n}")
        sim = simulate_storage(n, alphas, trials, kappa=0.0, seed=seed, method="nnls")
        cover = binom.cdf(n - 1, np.array(sim.p) - 1, 0.5)  # Cover's count: P(Bin(p-1, 1/2) <= N-1)
        try:
            crossings.append(sim.crossing())
        except ValueError:  # sampling noise made the fractions cross 1/2 more than once
            crossings.append((float("nan"), float("nan")))
        data |= {f"p_N{n}": sim.p, f"fraction_N{n}": sim.fraction, f"stderr_N{n}": sim.stderr,
                 f"cover_N{n}": cover, f"crossing_N{n}": crossings[-1]}
        ax.errorbar(alphas, sim.fraction, yerr=sim.stderr, fmt="o", ms=4, capsize=2, color=f"C{i}",
                    label=f"N = {n}")
        ax.plot(np.array(sim.p) / n, cover, "-", lw=0.9, color=f"C{i}", alpha=0.7)
    ax.plot([], [], "-", color="0.4", lw=0.9, label="Cover's exact count (same N)")
    ax.axvline(alpha_c, color="k", ls=":", label=f"α_c(0) = {alpha_c:g}")
    ax.axhline(0.5, color="0.5", lw=0.6)
    ax.set(xlabel="load α = P/N", ylabel="fraction of separable pattern sets",
           title=f"Finite-N twin at κ = 0 ({trials} instances per point)", ylim=(-0.03, 1.03))
    ax.legend(loc="lower left")
    ctx.figure("twin", fig, f"Fraction of random Gaussian pattern sets with random labels that a spherical "
               f"perceptron stores (κ = 0), decided exactly per instance, with binomial errors; lines: Cover's "
               f"count; the curves sharpen with N and cross near α_c(0) = {alpha_c:g}.", data)
    alpha_x, err = crossings[-1]
    ctx.number("twin_crossing_largest_N", [alpha_x, err], f"α where the separable fraction crosses 1/2 at "
               f"N = {sizes[-1]}, ± error (RS: α_c = 2)")
    ctx.note(f"Twin: N = {', '.join(map(str, sizes))}, {trials} instances per point, seed {seed} (from the root "
             "seed); each instance decided by the least-distance problem solved as NNLS, which decides "
             "separability exactly like the linear program.")


STAGES = (
    Stage("gardner", "Gardner: capacity, overlap and teacher-student learning (RS)", theory_stage),
    Stage("gardner-twin", "Gardner: finite-N twin of the storage capacity", twin_stage),
)
