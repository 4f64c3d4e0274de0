"""Drawing helpers of the ESP stages: median and interquartile band over seeds, the authors' run over ours,
parameter columns grouped by layer, and a check that no two texts of a figure overlap."""

from __future__ import annotations

import numpy as np

LABEL = {"esp": "ESP", "relu": "ReLU", "sigmoid": "sigmoid"}
COLOR = {"esp": "C0", "relu": "C1", "sigmoid": "C2"}
MARKER = {"esp": "o", "relu": "s", "sigmoid": "D"}
PAGE = 7.0  # inches: the width of a printed page's text block
MIN_POINTS = 8.0


def band(ax, x, curves, act: str, steps: bool = False) -> None:
    """Median over seeds (line) and the interquartile range (shaded) of ``curves`` (seeds x points);
    ``steps``: a quantity that jumps between checkpoints, drawn as steps."""
    q1, med, q3 = np.percentile(np.asarray(curves, dtype=np.float64), [25, 50, 75], axis=0)
    ax.fill_between(x, q1, q3, color=COLOR[act], alpha=0.25, lw=0, step="post" if steps else None)
    ax.plot(x, med, color=COLOR[act], label=LABEL[act], drawstyle="steps-post" if steps else "default")


def log_axis(ax, axis: str = "y") -> None:
    """Logarithmic axis labelled plainly at 1, 2, 5 x 10^k (at 10^k only when it spans more than two decades),
    with unlabelled minor ticks; call it after plotting."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    subs = (1.0, 2.0, 5.0) if np.log10(hi / lo) <= 2.2 else (1.0,)
    target.set_major_locator(LogLocator(base=10, subs=subs, numticks=12))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}" if 1e-3 <= v < 1e5 else f"{v:.0e}".replace("e-0", "e-")))
    target.set_minor_formatter(NullFormatter())


def authors_epochs(n: int, epochs: int) -> np.ndarray:
    """The authors stored n checkpoints without their epochs: drawn evenly spaced over the paper's span."""
    return np.linspace(0, epochs, n)


def parameter_groups(net) -> list[tuple[str, int, int]]:
    """(name, first column, end column) of each trainable parameter array in flatten order (W1, b1, beta1, W2, ...)."""
    groups, col = [], 0
    for l in range(net.n_layers):
        n_in, n_out = net.sizes[l], net.sizes[l + 1]
        for name, size in ((f"W{l + 1}", n_in * n_out), (f"b{l + 1}", n_out), (f"β{l + 1}", int(net.train_beta[l].sum()))):
            if size:
                groups.append((name, col, col + size))
                col += size
    return groups


def layer_axis(ax, net) -> None:
    """Columns of an eigenvector map grouped by layer: a line between layers, a dotted one between W, b and β,
    one tick per layer labelled L1, L2, ..."""
    groups = parameter_groups(net)
    ticks, labels = [], []
    for l in range(net.n_layers):
        mine = [g for g in groups if g[0][-1] == str(l + 1)]
        lo, hi = mine[0][1], mine[-1][2]
        ticks.append((lo + hi) / 2 - 0.5)
        labels.append(f"L{l + 1}")
        if l:
            ax.axvline(lo - 0.5, color="k", lw=1.0)
        for g in mine[1:]:
            ax.axvline(g[1] - 0.5, color="k", lw=0.5, ls=":")
    ax.set_xticks(ticks, labels)


def text_problems(fig, min_points: float = MIN_POINTS) -> list[str]:
    """Every pair of drawn, non-empty text elements whose boxes overlap, and every text under ``min_points``."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tick_labels, drawn = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick_labels.update((id(tick.label1), id(tick.label2)))
            for tick in axis._update_ticks():  # the ticks inside the view, the ones drawn
                drawn += [lab for lab in (tick.label1, tick.label2) if lab.get_visible()]
    texts = [t for t in fig.findobj(Text) if id(t) not in tick_labels and t.get_visible()] + drawn
    texts = [t for t in texts if t.get_text().strip()]
    problems = [f"{t.get_text()!r}: {t.get_fontsize():.1f} pt" for t in texts if t.get_fontsize() < min_points - 1e-9]
    boxes = [t.get_window_extent(renderer) for t in texts]
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            a, b = boxes[i], boxes[j]
            # overlapping by more than half a point both ways (texts that only touch are not overlaps)
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 0.7 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.7:
                problems.append(f"{texts[i].get_text()!r} overlaps {texts[j].get_text()!r}")
    return problems
