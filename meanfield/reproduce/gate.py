"""Stages for the gate theory: the derivations page and the activation figures."""

from __future__ import annotations

import html

import numpy as np

from meanfield.reproduce import Stage

TOPICS = ("gate", "noise", "cross-entropy", "activations")


def derivations(ctx) -> None:
    """page.md / page.html: every derivation step as an equation (MathML with its TeX in the HTML page)."""
    from meanfield.cli.derive import load
    from meanfield.reproduce.report import (
        equation_html,
        equation_markdown,
        heading_anchor,
        html_page,
    )

    loaded = []
    for topic in TOPICS:
        ctx.progress(topic)
        loaded.append((topic, load(topic)))
    md = ["# Derivations", ""] + [f"- [{d.title}](#{heading_anchor(d.title)})" for _, d in loaded]
    body = ["<h1>Derivations</h1>", ("<p>Every step of <code>meanfield derive</code>, as computed by sympy; "
             "each equation's TeX source is under it.</p>"),
            "<nav><ol>" + "".join(f"<li><a href='#{t}'>{html.escape(d.title)}</a></li>" for t, d in loaded) + "</ol></nav>"]
    for topic, d in loaded:
        md += ["", f"## {d.title}"]
        body.append(f"<section id='{topic}'><h2>{html.escape(d.title)}</h2>")
        for step in d.steps:
            md += ["", f"**{step.key}**: {step.description}", "", equation_markdown(step.expr)]
            body.append(f"<div class='step'><b>{html.escape(step.key)}</b>: {html.escape(step.description)}</div>"
                        + equation_html(step.expr))
        body.append("</section>")
        if topic == "noise":
            ctx.number("minimax_beta", float(d["minimax_beta_delta1"]), "minimax c in σ(c u) ≈ Φ(u), per unit of δ")
    n = sum(len(d.steps) for _, d in loaded)
    (ctx.directory / "page.md").write_text("\n".join(md) + "\n")
    (ctx.directory / "page.html").write_text(html_page("meanfield: derivations", "\n".join(body)))
    ctx.note(f"{n} derivation steps in {len(loaded)} topics, rendered as MathML with their TeX in page.html "
             "(no network needed) and as TeX equations in page.md.")


def activations(ctx) -> None:
    """ESP across beta with its ReLU and linear limits; g(h) of ESP against the sigmoid unit; erf vs logistic."""
    import matplotlib.pyplot as plt
    import sympy as sp
    from scipy.special import ndtr

    import numerics
    from theory import gate, noise

    esp, sig, relu = (numerics.activation(n) for n in ("esp", "sigmoid", "relu"))
    h = np.linspace(-6, 6, 601)
    betas = (0.25, 1.0, 2.0, 5.0)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    data = {"h": h}
    for beta in betas:
        data[f"esp_beta_{beta}"] = esp.value(h, beta)
        a.plot(h, data[f"esp_beta_{beta}"], label=f"ESP, β = {beta:g}")
    a.plot(h, relu.value(h, 1.0), "k--", label="ReLU (β → ∞)")
    linear = sp.lambdify(gate.h, gate.derivation()["noisy_series"].removeO().subs(gate.beta, 0))  # h/2
    a.plot(h, linear(h), "k:", label="h/2 (β → 0)")
    a.set(xlabel="field h", ylabel="⟨j⟩ = h σ(βh)", title="ESP interpolates linear → ReLU", ylim=(-1.5, 6))
    a.legend()
    hh = np.linspace(-4, 12, 801)
    data["h_gradient"] = hh
    data["g_esp"], data["g_sigmoid"] = esp.d_h(hh, 1.0), sig.d_h(hh, 1.0)
    b.plot(hh, data["g_esp"], label="ESP: g = σ(βh)[1 + βh σ(−βh)]")
    b.plot(hh, data["g_sigmoid"], label="sigmoid: g = β σ(βh) σ(−βh)")
    b.set(xlabel="field h (β = 1)", ylabel="back-propagated factor g(h)", title="g → 1 for ESP, → 0 for sigmoid")
    b.legend()
    ctx.figure("activations", fig, "ESP for several β with its ReLU and linear limits (left); the back-propagated "
               "factor g(h): ESP tends to 1 for h ≫ 1/β while the sigmoid unit's vanishes (right).", data)
    ctx.number("g_esp_at_beta_h_10", float(esp.d_h(10.0, 1.0)), "ESP g(h) at βh = 10")
    ctx.number("g_sigmoid_at_beta_h_10", float(sig.d_h(10.0, 1.0)), "sigmoid g(h) at βh = 10")

    c_star, err = noise.minimax_constant()
    u = np.linspace(-4, 4, 801)
    slope = float(noise.matched_beta().subs(noise.delta, 1))  # sqrt(8/pi)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    erf_law = ndtr(u)
    a.plot(u, erf_law, "k", label="½[1 + erf(u/√2)]")
    a.plot(u, 1 / (1 + np.exp(-slope * u)), "--", label="σ(√(8/π) u), slope-matched")
    a.plot(u, 1 / (1 + np.exp(-c_star * u)), ":", label=f"σ({c_star:.4f} u), minimax")
    a.set(xlabel="(Ū − b)/δ", ylabel="firing probability P(s = 1)", title="Gaussian noise: erf law and logistic fits")
    a.legend()
    b.plot(u, 1 / (1 + np.exp(-slope * u)) - erf_law, "--", label="slope-matched")
    b.plot(u, 1 / (1 + np.exp(-c_star * u)) - erf_law, ":", label="minimax")
    b.set(xlabel="(Ū − b)/δ", ylabel="logistic − erf law", title="approximation error")
    b.legend()
    ctx.figure("noise", fig, "The Gaussian-noise firing probability and its logistic approximations: slope matching "
               f"gives β = √(8/π)/δ ≈ {slope:.4f}/δ, the minimax fit c* = {c_star:.7f}/δ (max error {err:.5f}).",
               {"u": u, "erf_law": erf_law, "slope_matched": slope, "minimax": c_star, "minimax_error": err})
    ctx.number("matched_beta_delta_1", slope, "slope-matched β for δ = 1, √(8/π)")


STAGES = (
    Stage("derivations", "Derivations: the gate, noise and cross-entropy results", derivations),
    Stage("activations", "Activations: ESP, its limits and the back-propagated factor", activations),
)
