"""Stages for the ESP paper's experiments (Milletari et al., section 3 and appendix B).

Binary classification with 2-10-1 and 2-8-2-1 networks of ESP, ReLU and
sigmoid units on the linear and non-linear tasks, with the paper's schedule
(Adam, lr 0.01 decayed by 0.9 every 500 steps, full batch); the Hessian of
the training loss along training (alpha, gamma, residuals, spectra,
eigenvectors); and the digits experiment with a 64-25-10 network.
"""

from __future__ import annotations

import numpy as np

from meanfield.reproduce import Stage

SCHEDULE = {"lr": 0.01, "decay_rate": 0.9, "decay_steps": 500}
TASKS = {"linear": ("Lindata.mat", 0.25), "nonlinear": ("NLdata.mat", 0.2)}  # file, test fraction (paper's split)
ARCHS = ("2-10-1", "2-8-2-1")
ACTS = ("esp", "relu", "sigmoid")
SPLIT_SEED = 1  # the authors' train_test_split(..., random_state=1)


def task_data(ctx, task: str):
    """(X_train, X_test, y_train, y_test, source) for the paper's task, or its synthetic twin."""
    from numerics import data

    file, test_size = TASKS[task]
    if ctx.data_dir is not None:
        X, y = data.load(ctx.data_dir / file)
        source = f"paper data {file}"
    else:
        X, y = data.synthetic(task, seed=ctx.seed)
        source = f"built-in synthetic '{task}' task"
    return (*data.split(X, y, test_size, SPLIT_SEED), source)


def _epochs(ctx, full: int, quick: int) -> int:
    return quick if ctx.quick else full


def _train(ctx, arch, act, X, y, Xt, yt, epochs, seed, checkpoints=None, output="sigmoid"):
    import numerics

    net = numerics.Network.from_spec(arch, hidden=act, output=output)
    result = numerics.train(net, X, y, epochs, seed=seed, X_test=Xt, y_test=yt, checkpoints=checkpoints,
                            record=max(1, epochs // 100), **SCHEDULE)
    return net, result


def training(ctx) -> None:
    """The paper's four loss panels: {linear, non-linear} x {2-10-1, 2-8-2-1}, three activations each."""
    import matplotlib.pyplot as plt

    epochs = _epochs(ctx, 5000, 800)
    seed = np.random.SeedSequence(ctx.seed)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), sharex=True)
    data = {"epochs": epochs, "schedule": SCHEDULE}
    for i, task in enumerate(TASKS):
        X, Xt, y, yt, source = task_data(ctx, task)
        ctx.note(f"{task} task: {source}, {len(X)} training / {len(Xt)} test points.")
        for j, arch in enumerate(ARCHS):
            ax = axes[i, j]
            for act in ACTS:
                ctx.progress(f"{task} {arch} {act}")
                net, result = _train(ctx, arch, act, X, y, Xt, yt, epochs, seed)
                loss = np.asarray(result.history["loss"])
                ax.semilogy(np.arange(len(loss)), loss, label=act)
                key = f"{task}_{arch}_{act}"
                train_acc = net.accuracy(result.params, X, y)
                test_acc = net.accuracy(result.params, Xt, yt)
                data[key] = {"loss": loss, "train_accuracy": train_acc, "test_accuracy": test_acc}
                ctx.number(f"loss_{key}", float(loss[-1]), f"final training loss, {task} task, {arch}, {act}")
                ctx.number(f"accuracy_{key}", [round(train_acc, 4), round(test_acc, 4)],
                           f"train/test accuracy, {task} task, {arch}, {act}")
            ax.set(title=f"{task} task, {arch}", ylabel="training loss (BCE)")
            ax.legend()
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    ctx.figure("loss", fig, f"Training loss against epoch (Adam, lr 0.01 ×0.9 every 500 steps, full batch, "
               f"{epochs} epochs) for ESP, ReLU and sigmoid networks: the paper's four panels.", data)


def digits(ctx) -> None:
    """The paper's "MNIST" experiment: 64-25-10 softmax networks on the 8x8 digits (1437 train / 360 test)."""
    import matplotlib.pyplot as plt

    from numerics import data

    X, y = data.digits()
    X, Xt, y, yt = data.split(X, y, 360, SPLIT_SEED)
    epochs = _epochs(ctx, 1500, 150)
    seed = np.random.SeedSequence(ctx.seed)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    out = {"epochs": epochs}
    for act in ACTS:
        ctx.progress(f"digits {act}")
        net, result = _train(ctx, "64-25-10", act, X, y, Xt, yt, epochs, seed, output="softmax")
        loss = np.asarray(result.history["loss"])
        rec = np.asarray(result.history["epoch"])
        a.semilogy(np.arange(len(loss)), loss, label=act)
        b.plot(rec, result.history["test_accuracy"], label=act)
        test_acc = net.accuracy(result.params, Xt, yt)
        out[act] = {"loss": loss, "record_epoch": rec, "test_accuracy": result.history["test_accuracy"]}
        ctx.number(f"digits_{act}", [float(loss[-1]), round(test_acc, 4)], f"digits 64-25-10 {act}: final loss, test accuracy")
    a.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="digits, 64-25-10")
    b.set(xlabel="epoch", ylabel="test accuracy", title="digits, 64-25-10")
    a.legend()
    b.legend()
    ctx.figure("digits", fig, f"The digits experiment (8×8 images, 1437 training / 360 test, {epochs} epochs, "
               "paper schedule): training loss and test accuracy for ESP, ReLU and sigmoid hidden units.", out)


def hessian(ctx) -> None:
    """The Hessian along training on the non-linear task, 2-8-2-1 (section 3, appendix B)."""
    import matplotlib.pyplot as plt

    from numerics import hessian as exact_hessian
    from numerics import spectrum as spec

    epochs = _epochs(ctx, 5000, 800)
    n_checkpoints = 25 if ctx.quick else 50
    checkpoints = max(1, epochs // n_checkpoints)
    X, Xt, y, yt, source = task_data(ctx, "nonlinear")
    ctx.note(f"non-linear task: {source}; Hessian of the training loss over all trainable parameters "
             f"(W, b and, for ESP, beta) at every {checkpoints}th epoch.")
    seed = np.random.SeedSequence(ctx.seed)
    runs = {}
    for act in ACTS:
        ctx.progress(f"train {act}")
        net, result = _train(ctx, "2-8-2-1", act, X, y, Xt, yt, epochs, seed, checkpoints=checkpoints)
        loss = np.asarray(result.history["loss"])
        rows = {"epoch": [], "loss": [], "alpha": {p: [] for p in spec.POLICIES}, "gamma": {p: [] for p in spec.POLICIES},
                "zero_residuals": []}
        for i, epoch in enumerate(result.history["checkpoint_epoch"]):
            ctx.progress(f"{act}: Hessian at epoch {epoch}")
            params = result.checkpoint_params(i)
            s = spec.spectrum(exact_hessian.hessian(net, params, X, y), vectors=(i == len(result.history["checkpoint_epoch"]) - 1))
            ind = spec.all_indices(s.eigenvalues)
            rows["epoch"].append(int(epoch))
            rows["loss"].append(float(loss[min(int(epoch), len(loss) - 1)]))
            for p in spec.POLICIES:
                rows["alpha"][p].append(ind["alpha"][p])
                rows["gamma"][p].append(ind["gamma"][p])
            rows["zero_residuals"].append(spec.residual_fraction(net.predict(params, X) - net.targets(X, y)[1]))
            if i == 0 or i == len(result.history["checkpoint_epoch"]) // 10:
                rows.setdefault("early_eigenvalues", s.eigenvalues)
            rows["late_eigenvalues"] = s.eigenvalues
            if s.eigenvectors is not None:
                rows["coefficients"] = spec.coefficients(s.eigenvectors)
                rows["ipr"] = spec.ipr(s.eigenvectors)
        runs[act] = rows
        for p in spec.POLICIES:
            ctx.number(f"alpha_{p}_{act}", rows["alpha"][p][-1], f"alpha ({p} policy) at the end, non-linear 2-8-2-1, {act}")
            ctx.number(f"gamma_{p}_{act}", rows["gamma"][p][-1], f"gamma ({p} policy) at the end, non-linear 2-8-2-1, {act}")

    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), sharex=True)
    for j, p in enumerate(spec.POLICIES):
        for act in ACTS:
            axes[0, j].plot(runs[act]["loss"], runs[act]["alpha"][p], "o-", ms=3, label=act)
            axes[1, j].plot(runs[act]["loss"], runs[act]["gamma"][p], "o-", ms=3, label=act)
        axes[0, j].set(title=f"{p} zero policy", ylabel="α (fraction λ < 0)")
        axes[1, j].set(xlabel="training loss", ylabel="γ (fraction λ = 0)", xscale="log")
    axes[0, 0].legend()
    ctx.figure("alpha_gamma", fig, "Fractions of negative (α) and zero (γ) Hessian eigenvalues against the training "
               "loss along training (non-linear task, 2-8-2-1), under the exact, relative and absolute zero policies.",
               {act: {k: runs[act][k] for k in ("epoch", "loss", "alpha", "gamma")} for act in ACTS})

    fig, ax = plt.subplots()
    for act in ACTS:
        ax.plot(runs[act]["epoch"], runs[act]["zero_residuals"], "o-", ms=3, label=act)
    ax.set(xlabel="epoch", ylabel="fraction of |ŷ − y| ≤ 0.01", title="zero residuals along training")
    ax.legend()
    ctx.figure("residuals", fig, "Fraction of training points with residual |ŷ − y| ≤ 0.01 against epoch "
               "(non-linear task, 2-8-2-1).", {act: {k: runs[act][k] for k in ("epoch", "zero_residuals")} for act in ACTS})

    fig, axes = plt.subplots(2, 3, figsize=(12, 6))
    for j, act in enumerate(ACTS):
        for i, key in enumerate(("early_eigenvalues", "late_eigenvalues")):
            lam = runs[act][key]
            scaled = np.sign(lam) * np.log10(1 + np.abs(lam) / 1e-8)
            axes[i, j].hist(scaled, bins=40, color=f"C{j}")
            axes[i, j].set(title=f"{act}, {'early' if i == 0 else 'end of training'}",
                           xlabel="sign(λ) log10(1 + |λ|/1e-8)", ylabel="count")
    ctx.figure("eigenvalues", fig, "Hessian eigenvalue histograms early and at the end of training (signed log scale; "
               "the central bin holds the exact zeros).",
               {act: {"early": runs[act]["early_eigenvalues"], "late": runs[act]["late_eigenvalues"]} for act in ACTS})

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, act in zip(axes, ACTS):
        im = ax.imshow(runs[act]["coefficients"], aspect="auto", cmap="magma", vmin=0, vmax=1)
        ax.grid(False)
        ax.set(title=f"{act}: |eigenvector coefficients|", xlabel="parameter", ylabel="eigenvector (ascending λ)")
    fig.colorbar(im, ax=axes, shrink=0.8)
    ctx.figure("eigenvectors", fig, "Appendix B: |coefficient| of each Hessian eigenvector on each parameter at the end "
               "of training (non-linear task, 2-8-2-1); localized rows mean eigenvectors that coincide with parameters.",
               {act: {"coefficients": runs[act]["coefficients"], "ipr": runs[act]["ipr"]} for act in ACTS})
    for act in ACTS:
        ctx.number(f"mean_ipr_{act}", float(np.mean(runs[act]["ipr"])), f"mean inverse participation ratio at the end, {act}")


STAGES = (
    Stage("esp_training", "ESP paper: training loss of ESP, ReLU and sigmoid networks", training),
    Stage("esp_hessian", "ESP paper: the Hessian along training, alpha and gamma", hessian),
    Stage("esp_digits", "ESP paper: the digits experiment (64-25-10)", digits),
)
