"""Stages for the ESP paper's experiments (Milletari et al., arXiv:1805.08786, Sec. 3 and appendix B).

Binary classification with 2-10-1 and 2-8-2-1 networks of ESP, ReLU and
sigmoid units on the paper's linear (Lindata.mat, 1000 epochs) and non-linear
(NLdata.mat, 2500 epochs) tasks, several seeds each, every figure a median
with its interquartile band; the Hessian along the same runs (alpha, gamma,
residuals, spectral width, eigenvector maps); the architecture study on the
non-linear task; the digits experiment (the authors' "MNIST"); and the
table of the paper's claims against our numbers (:mod:`esp_claims`). The
authors' stored runs are drawn over ours.
"""

from __future__ import annotations

import numpy as np

from meanfield.reproduce import Stage
from meanfield.reproduce.esp_figures import (
    COLOR,
    LABEL,
    MARKER,
    PAGE,
    authors_epochs,
    band,
    layer_axis,
    log_axis,
)
from meanfield.reproduce.esp_runs import (
    ACTS,
    CONFIGS,
    POLICIES,
    SCHEDULE,
    SPREADS,
    TASKS,
    authors,
    digits_data,
    fmt_q,
    get_run,
    n_seeds,
    quartiles,
    runs_of,
    spread,
    task_data,
)

TITLE = {"linear": "linear task", "nonlinear": "non-linear task"}
SCHEDULE_TEXT = "Adam, lr 0.01 ×0.9 every 500 steps, full batch"


def _legend_handles(authors_style: str):
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=COLOR[a], marker=MARKER[a] if authors_style == "marker" else None, ls="-" if authors_style == "line" else "",
                      label=LABEL[a]) for a in ACTS]
    if authors_style == "line":
        handles.append(Line2D([], [], color="0.3", ls="--", label="authors' run"))
    else:
        handles.append(Line2D([], [], color="0.3", marker="o", mfc="none", ls="", label="authors' run"))
    return handles


def _grid(title_fn):
    """The paper's 2x2 layout: rows 2-10-1 / 2-8-2-1, columns linear / non-linear task."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(PAGE, 5.6), sharex="col")
    for (task, arch), ax in zip(CONFIGS, axes.flat):
        ax.set_title(title_fn(task, arch))
    return fig, axes


def _finish(fig, handles) -> None:
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.94))


def _all_runs(ctx) -> dict:
    runs = {}
    for task, arch in CONFIGS:
        data = task_data(ctx, task)
        runs[task, arch] = runs_of(ctx, task, arch, data)
    return runs


def _note_data(ctx) -> None:
    for task in TASKS:
        d = task_data(ctx, task)
        ctx.note(f"{TITLE[task]}: {d.source}; {len(d.X)} training / {len(d.Xt)} test points (the authors' split).")
    ctx.note(f"{n_seeds(ctx)} seeds per curve; within a seed ESP, ReLU and sigmoid start from the same W and b "
             "(Glorot uniform, zero biases); ESP's β ~ N(0, 0.004²) trained, ReLU/sigmoid β = 1. Bands: median and "
             "interquartile range over seeds. The authors' stored run (one seed) is drawn dashed or hollow; its "
             "checkpoint epochs were not stored, so its checkpoints are spread evenly over the paper's span.")


def training(ctx) -> None:
    """Fig. 3(a): the four loss panels, 1000 epochs (linear) and 2500 (non-linear)."""
    _note_data(ctx)
    runs = _all_runs(ctx)
    fig, axes = _grid(lambda task, arch: f"{TITLE[task]}, {arch}")
    out = {"seeds": n_seeds(ctx), "schedule": SCHEDULE}
    for (task, arch), ax in zip(CONFIGS, axes.flat):
        epochs = TASKS[task][2]
        for act in ACTS:
            rs = runs[task, arch][act]
            loss = np.array([r.loss for r in rs])
            band(ax, np.arange(loss.shape[1]), loss, act)
            theirs = authors(f"{task}_{arch}_{act}_cost")
            ax.plot(authors_epochs(len(theirs), epochs), theirs, "--", color=COLOR[act], lw=1.1)
            key = f"{task}_{arch}_{act}"
            q1, med, q3 = np.percentile(loss, [25, 50, 75], axis=0)
            out[key] = {"median": med, "q1": q1, "q3": q3, "authors": theirs}
            ctx.number(f"loss_{key}", list(quartiles(loss[:, -1])), f"final training loss [Q1, median, Q3], {task}, {arch}, {act}")
            ctx.number(f"accuracy_{key}", [round(float(np.median([r.train_accuracy for r in rs])), 4),
                                          round(float(np.median([r.final_test_accuracy for r in rs])), 4)],
                       f"median train/test accuracy, {task}, {arch}, {act}")
        log_axis(ax)
    for ax in axes[:, 0]:
        ax.set_ylabel("training loss (BCE)")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    _finish(fig, _legend_handles("line"))
    ctx.figure("loss", fig, f"Fig. 3(a): training loss against epoch ({SCHEDULE_TEXT}), median and interquartile band "
               f"over {n_seeds(ctx)} seeds; dashed: the authors' stored run.", out)


def hessian(ctx) -> None:
    """Fig. 3(b) and 4 (right): alpha and gamma against the loss; Fig. 4 (left): zero residuals; spectral width;
    appendix B eigenvector maps. All from the checkpoints of the runs the loss panels show."""
    runs = _all_runs(ctx)
    ctx.note(f"The runs of the loss panels ({n_seeds(ctx)} seeds, data and initial values as there). "
             "Hessian of the training loss over all trainable parameters (W, b and, for ESP, β) at every checkpoint "
             "(every 10 epochs on the linear task, 25 on the non-linear one) of the same runs as the loss panels. "
             "Zero policies: exact (λ == 0, the authors' code), relative (|λ| ≤ P·eps·max|λ|), absolute (|λ| ≤ 1e-10).")
    _index_figures(ctx, runs)
    policy_table = _policy_table(ctx, runs)
    _residual_figure(ctx, runs)
    _spread_figures(ctx, runs)
    _eigenvector_figure(ctx, runs)
    _write_page(ctx, "Hessian: α and γ at the end of training under every zero policy",
                f"Median [Q1, Q3] over {n_seeds(ctx)} seeds at the last checkpoint.", policy_table)


def _index_figures(ctx, runs: dict) -> None:
    """Fig. 3(b) and Fig. 4 (right): alpha and gamma (exact policy) against the training loss at every checkpoint."""
    for name, symbol, key, figname, what in (("alpha", "α", "index", "Fig. 3(b)", "negative (α)"),
                                             ("gamma", "γ", "zeros", "Fig. 4 (right)", "zero (γ)")):
        fig, axes = _grid(lambda task, arch: f"{TITLE[task]}, {arch}")
        data = {}
        for (task, arch), ax in zip(CONFIGS, axes.flat):
            for act in ACTS:
                rs = runs[task, arch][act]
                x = np.concatenate([r.loss_at_checkpoints() for r in rs])
                y = np.concatenate([getattr(r, name)[0] for r in rs])
                ax.plot(x, y, MARKER[act], color=COLOR[act], ms=2.5, alpha=0.35, mew=0)
                theirs_x = authors(f"{task}_{arch}_{act}_cost")
                theirs_y = authors(f"{task}_{arch}_{act}_{key}")
                ax.plot(theirs_x, theirs_y, MARKER[act], mfc="none", mec=COLOR[act], ms=5, mew=1.0)
                data[f"{task}_{arch}_{act}"] = {"loss": x, name: y, "authors_loss": theirs_x, f"authors_{name}": theirs_y}
            ax.set_ylim(-0.04, 0.84)
        for ax in axes[:, 0]:
            ax.set_ylabel(f"{symbol} (exact policy)")
        for ax in axes[1]:
            ax.set_xlabel("training loss ε")
        _finish(fig, _legend_handles("marker"))
        ctx.figure(name, fig, f"{figname}: fraction of {what} Hessian eigenvalues against the training loss at every "
                   f"checkpoint of {n_seeds(ctx)} seeds (filled, exact zero policy); hollow: the authors' stored run. "
                   "The other zero policies are in the table of the stage page.", data)


def _policy_table(ctx, runs: dict) -> str:
    """alpha and gamma at the end under every zero policy: the stage's numbers and a markdown table."""
    rows = ["| panel | activation | " + " | ".join(f"α {p} | γ {p}" for p in POLICIES) + " |",
            "|---|---|" + "---|---|" * len(POLICIES)]
    for task, arch in CONFIGS:
        for act in ACTS:
            rs = runs[task, arch][act]
            cells = []
            for i, p in enumerate(POLICIES):
                a = [r.alpha[i, -1] for r in rs]
                g = [r.gamma[i, -1] for r in rs]
                cells += [fmt_q(a, 2), fmt_q(g, 2)]
                ctx.number(f"gamma_{p}_{task}_{arch}_{act}", list(quartiles(g)), f"γ ({p}) at the end [Q1, median, Q3], {task}, {arch}, {act}")
                ctx.number(f"alpha_{p}_{task}_{arch}_{act}", list(quartiles(a)), f"α ({p}) at the end [Q1, median, Q3], {task}, {arch}, {act}")
            rows.append(f"| {TITLE[task]}, {arch} | {LABEL[act]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _residual_figure(ctx, runs: dict) -> None:
    """Fig. 4 (left): fraction of near-zero training residuals against epoch."""
    fig, axes = _grid(lambda task, arch: f"{TITLE[task]}, {arch}")
    data = {}
    for (task, arch), ax in zip(CONFIGS, axes.flat):
        for act in ACTS:
            rs = runs[task, arch][act]
            z = np.array([r.zero_residuals for r in rs])
            band(ax, rs[0].epoch, z, act, steps=True)
            data[f"{task}_{arch}_{act}"] = {"epoch": rs[0].epoch, "zero_residuals": z}
        ax.set_ylim(-0.03, 1.03)
    for ax in axes[:, 0]:
        ax.set_ylabel("fraction |ŷ − y| ≤ 0.01")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    _finish(fig, _legend_handles("line")[:3])
    ctx.figure("residuals", fig, "Fig. 4 (left): fraction of training points with residual |ŷ − y| ≤ 0.01 against "
               f"epoch, median and interquartile band over {n_seeds(ctx)} seeds.", data)


def _spread_figures(ctx, runs: dict) -> None:
    """Spread of the Hessian spectrum against epoch, in both readings of "spread"."""
    for kind, label in (("range", r"$\lambda_{\max} - \lambda_{\min}$"), ("bulk", "eigenvalue IQR")):
        fig, axes = _grid(lambda task, arch: f"{TITLE[task]}, {arch}")
        data = {}
        for (task, arch), ax in zip(CONFIGS, axes.flat):
            for act in ACTS:
                rs = runs[task, arch][act]
                width = np.array([spread(r, kind) for r in rs])
                band(ax, rs[0].epoch, width, act)
                data[f"{task}_{arch}_{act}"] = {"epoch": rs[0].epoch, kind: width}
            log_axis(ax)
        for ax in axes[:, 0]:
            ax.set_ylabel(label)
        for ax in axes[1]:
            ax.set_xlabel("epoch")
        _finish(fig, _legend_handles("line")[:3])
        ctx.figure(f"spectrum_{kind}", fig, f"Spread of the Hessian spectrum against epoch ({SPREADS[kind][0]}), median and "
                   f"interquartile band over {n_seeds(ctx)} seeds: the paper's 'ReLU's distribution shrinks, ESP's is "
                   "wider at the end'.", data)


def _eigenvector_figure(ctx, runs: dict) -> None:
    """Appendix B: the eigenvector coefficient maps at the end of training, 2-8-2-1, seed 0."""
    import matplotlib.pyplot as plt

    from numerics.mlp import hessian as exact_hessian
    from numerics.mlp import spectrum

    fig, axes = plt.subplots(2, 3, figsize=(PAGE, 5.4))
    data = {}
    for i, task in enumerate(TASKS):
        for j, act in enumerate(("relu", "sigmoid", "esp")):  # the paper's order
            r = runs[task, "2-8-2-1"][act][0]
            net = r.net
            s = spectrum.spectrum(exact_hessian.hessian(net, r.params(-1), *_xy(ctx, task)))
            coef = s.eigenvectors.T
            ax = axes[i, j]
            im = ax.imshow(coef, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
            ax.grid(False)
            layer_axis(ax, net)
            ax.set_title(f"{LABEL[act]}, {TITLE[task].split()[0]}")
            ax.set_yticks([0, coef.shape[0] - 1], ["λ min", "λ max"] if j == 0 else ["", ""])
            data[f"{task}_{act}"] = {"coefficients": coef, "eigenvalues": s.eigenvalues, "ipr": spectrum.ipr(s.eigenvectors)}
        axes[i, 0].set_ylabel("eigenvector")
    for ax in axes[1]:
        ax.set_xlabel("parameter (by layer)")
    fig.tight_layout(rect=(0, 0, 0.92, 1))
    cax = fig.add_axes((0.935, 0.15, 0.015, 0.7))
    fig.colorbar(im, cax=cax, label="coefficient")
    ctx.figure("eigenvectors", fig, "Appendix B: signed coefficients of each Hessian eigenvector (rows, ascending λ) on "
               "each trainable parameter (columns, grouped by layer L1-L3: W, b, then β for ESP, dotted lines between "
               "them) at the end of training, 2-8-2-1, seed 0, both tasks.", data)


def _xy(ctx, task):
    d = task_data(ctx, task)
    return d.X, d.y


ARCH_STUDY = ("2-8-2-1", "2-10-2-1", "2-8-5-1")


def architecture_runs(ctx) -> dict:
    """{arch: {act: [Run per seed]}}; 2-8-2-1 is the loss panel's runs, the wider networks are trained without Hessians."""
    data = task_data(ctx, "nonlinear")
    epochs = TASKS["nonlinear"][2]
    out = {}
    for arch in ARCH_STUDY:
        if arch == "2-8-2-1":
            out[arch] = runs_of(ctx, "nonlinear", arch, data)
            continue
        out[arch] = {}
        for act in ACTS:
            ctx.progress(f"nonlinear {arch} {act}")
            out[arch][act] = [get_run(ctx, data, arch, act, s, epochs, epochs // 10, analyse=False) for s in range(n_seeds(ctx))]
    return out


def architecture(ctx) -> None:
    """The paper's architecture remark on the non-linear task: 2-8-2-1, 2-10-2-1, 2-8-5-1 x ESP/ReLU/sigmoid."""
    import matplotlib.pyplot as plt

    runs = architecture_runs(ctx)
    ctx.note(f"non-linear task, {TASKS['nonlinear'][2]} epochs, {n_seeds(ctx)} seeds per network, shared W and b "
             "initial values within a seed and architecture.")
    fig, ax = plt.subplots(figsize=(PAGE * 0.75, 3.6))
    rng = np.random.default_rng(0)
    rows = ["| network | " + " | ".join(LABEL[a] for a in ACTS) + " |", "|---|" + "---|" * len(ACTS)]
    data = {}
    for i, arch in enumerate(ARCH_STUDY):
        cells = []
        for j, act in enumerate(ACTS):
            final = np.array([r.loss[-1] for r in runs[arch][act]])
            x = i + (j - 1) * 0.25
            ax.plot(x + rng.uniform(-0.05, 0.05, final.size), final, MARKER[act], color=COLOR[act], ms=4, alpha=0.6, mew=0,
                    label=LABEL[act] if i == 0 else None)
            lo, med, hi = quartiles(final)
            ax.plot([x - 0.1, x + 0.1], [med, med], color="k", lw=1.5)
            ax.plot([x, x], [lo, hi], color="k", lw=0.8)
            cells.append(fmt_q(final))
            data[f"{arch}_{act}"] = final
            ctx.number(f"arch_loss_{arch}_{act}", [lo, med, hi], f"final loss [Q1, median, Q3], non-linear task, {arch}, {act}")
        rows.append(f"| {arch} | " + " | ".join(cells) + " |")
    ax.set_xticks(range(len(ARCH_STUDY)), ARCH_STUDY)
    log_axis(ax)
    ax.set(ylabel="final training loss", xlabel="network")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.16), ncol=3)
    ctx.figure("architectures", fig, "Architecture study, non-linear task: final training loss of every seed (points), "
               "median (bar) and interquartile range (line) per network and activation.", data)
    _write_page(ctx, "Architecture study: final training loss, median [Q1, Q3]", "", "\n".join(rows))


DIGITS_ARCH = "64-25-10"


def digits(ctx) -> None:
    """The paper's "MNIST" experiment: 64-25-10 networks on scikit-learn's 8x8 digits (1437 train / 360 test)."""
    import matplotlib.pyplot as plt

    data = digits_data()
    epochs = 200 if ctx.quick else 1500
    every = epochs // 50
    ctx.note("The authors' \"MNIST\" set is scikit-learn's 8×8 digits: their stored accuracies move in steps of 1/1437 "
             "and 1/360, the sizes of a 1437/360 split of its 1797 images; it is used here, split as they did.")
    ctx.note("Our output layer is softmax with cross-entropy; the authors' stored loss starts at ln 2 (a per-class "
             "sigmoid cross-entropy), so only their test accuracy is drawn over ours.")
    fig, (a, b) = plt.subplots(1, 2, figsize=(PAGE, 3.2))
    out = {"epochs": epochs, "seeds": n_seeds(ctx)}
    for act in ACTS:
        rs = []
        for s in range(n_seeds(ctx)):
            ctx.progress(f"digits {act} seed {s}")
            rs.append(get_run(ctx, data, DIGITS_ARCH, act, s, epochs, every, output="softmax", analyse=False))
        loss = np.array([r.loss for r in rs])
        acc = np.array([r.test_accuracy for r in rs])
        band(a, np.arange(loss.shape[1]), loss, act)
        band(b, rs[0].record_epoch, acc, act)
        theirs = authors(f"digits_{DIGITS_ARCH}_{act}_accuracy")[1]
        b.plot(authors_epochs(len(theirs), epochs), theirs, "--", color=COLOR[act], lw=1.1)
        out[act] = {"loss_median": np.median(loss, axis=0), "record_epoch": rs[0].record_epoch,
                    "test_accuracy_median": np.median(acc, axis=0), "authors_test_accuracy": theirs}
        ctx.number(f"digits_{act}", [float(np.median(loss[:, -1])), float(np.median(acc[:, -1]))],
                   f"digits {DIGITS_ARCH} {act}: median final loss and test accuracy over {n_seeds(ctx)} seeds")
    a.set(xlabel="epoch", ylabel="training loss (cross-entropy)")
    log_axis(a)
    b.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1.02))
    _finish(fig, _legend_handles("line"))
    ctx.figure("digits", fig, f"The digits experiment ({DIGITS_ARCH}, 1437/360, {epochs} epochs, {SCHEDULE_TEXT}): "
               f"median and interquartile band over {n_seeds(ctx)} seeds; dashed: the authors' stored test accuracy "
               "(their checkpoints spread evenly over our span).", out)


def claims(ctx) -> None:
    """The paper's claims, the authors' values, ours (median [IQR] over seeds) and a verdict by a stated rule."""
    from meanfield.reproduce import esp_claims

    rows = esp_claims.evaluate(ctx, _all_runs(ctx), architecture_runs(ctx))
    esp_claims.write(ctx, rows)


def _write_page(ctx, title: str, intro: str, table: str) -> None:
    (ctx.directory / "page.md").write_text(f"# {title}\n\n{intro}\n\n{table}\n")


STAGES = (
    Stage("esp_training", "ESP paper: training loss of ESP, ReLU and sigmoid networks (Fig. 3a)", training),
    Stage("esp_hessian", "ESP paper: α, γ, residuals, spectrum and eigenvectors along the same runs", hessian),
    Stage("esp_architecture", "ESP paper: architecture study on the non-linear task", architecture),
    Stage("esp_digits", "ESP paper: the digits experiment (64-25-10)", digits),
    Stage("esp_claims", "ESP paper: the claims against our runs", claims),
)
