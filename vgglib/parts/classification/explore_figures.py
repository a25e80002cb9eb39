"""Figures of the exploration of the paper's test (:mod:`.explore`): the dense windows and their
posteriors, the multi-crop grid, what flipping adds, the final posterior, and the net's errors
on its test set.  Every value drawn is one the evaluator computes for the image shown."""
from __future__ import annotations

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..plots import OURS, PAPER
from .explore import Look, Scored

#: Grids up to this many cells a side get their values written in the cells.
ANNOTATE = 8
#: The widest figure, in inches: the page shows it at nearly its drawn size, labels readable.
WIDTH = 8.0
VIEWS = {"image": "the image alone", "mirror": "its mirror alone", "both": "both averaged (the paper's test)"}


def _show(ax: Axes, image: torch.Tensor, title: str) -> None:
    """An image (3, H, W), float or uint8 on 0–255, without axes."""
    ax.imshow(image.permute(1, 2, 0).clamp(0, 255).byte().numpy())
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def _grid(fig: Figure, ax: Axes, values: torch.Tensor, title: str, vmin: float | None = None,
          vmax: float | None = None, fmt: str = "{:.2f}") -> None:
    """A map of values (ny, nx), one cell per window or crop, written in where it is small."""
    im = ax.imshow(values.numpy(), cmap="viridis", vmin=vmin, vmax=vmax)
    if max(values.shape) <= ANNOTATE:
        for (y, x), v in zip(((y, x) for y in range(values.shape[0]) for x in range(values.shape[1])),
                             values.flatten().tolist()):
            ax.text(x, y, fmt.format(v), ha="center", va="center", fontsize=7, color="white")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(im, ax=ax, shrink=0.8).ax.tick_params(labelsize=7)


def _outlines(ax: Axes, ys: list[int], xs: list[int], crop: int, colour: str) -> None:
    """Crop-sized squares at the corners (ys × xs); the first drawn bold."""
    for i, (y, x) in enumerate((y, x) for y in ys for x in xs):
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), crop, crop, fill=False, edgecolor=colour,
                               lw=2.0 if i == 0 else 0.6, alpha=1.0 if i == 0 else 0.6))


def windows(look: Look, cls: int, classes: list[str], crop: int) -> Figure:
    """Dense evaluation at each test scale (one row each): the rescaled image with the windows
    whose scores the dense pass averages, the class-score map of class ``cls``, each window's
    posterior of that class, and each window's own top class."""
    fig = Figure(figsize=(WIDTH, 2.2 * len(look.scales)), layout="constrained")
    axes = fig.subplots(len(look.scales), 4, squeeze=False)
    for row, s in zip(axes, look.scales):
        _show(row[0], s.image, f"Q = {s.q} ({s.q_px} px)\nwindows: {s.scores[0].numel()}")
        _outlines(row[0], s.window_ys, s.window_xs, crop, OURS)
        _grid(fig, row[1], s.scores[cls], f"score map\n'{classes[cls]}'")
        _grid(fig, row[2], s.windows[cls], f"window posteriors\n'{classes[cls]}'", 0.0, 1.0)
        top = s.windows.argmax(0)
        row[3].imshow(top.numpy(), cmap="tab10", vmin=0, vmax=max(9, len(classes) - 1))
        if max(top.shape) <= ANNOTATE:
            for y in range(top.shape[0]):
                for x in range(top.shape[1]):
                    row[3].text(x, y, classes[int(top[y, x])][:8], ha="center", va="center", fontsize=6)
        row[3].set_title("each window's\ntop class", fontsize=9)
        row[3].set_xticks([])
        row[3].set_yticks([])
    return fig


def crops(look: Look, cls: int, classes: list[str], crop: int) -> Figure:
    """Multi-crop evaluation at each test scale (one row each): the 5×5 grid of crops on the
    rescaled image, and each crop's posterior of class ``cls``, as it is and mirrored."""
    fig = Figure(figsize=(0.85 * WIDTH, 2.6 * len(look.scales)), layout="constrained")
    axes = fig.subplots(len(look.scales), 3, squeeze=False)
    for row, s in zip(axes, look.scales):
        n = len(s.crop_ys)
        _show(row[0], s.image, f"Q = {s.q} ({s.q_px} px)\ncrops: {n}×{n}")
        _outlines(row[0], s.crop_ys, s.crop_xs, crop, PAPER)
        for ax, post, view in ((row[1], s.crops, "image"), (row[2], s.flipped_crops, "mirror")):
            _grid(fig, ax, post[:, cls].view(n, n), f"crop posteriors, {view}\n'{classes[cls]}'", 0.0, 1.0)
    return fig


def flips(look: Look, cls: int, classes: list[str]) -> Figure:
    """What flipping adds: the posterior of class ``cls`` at each test scale, dense and
    multi-crop, from the image alone, its mirror alone, and both averaged."""
    fig = Figure(figsize=(WIDTH, 3.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    width = 0.8 / len(VIEWS)
    for ax, method in zip(axes, ("dense", "multi-crop")):
        for k, (view, name) in enumerate(VIEWS.items()):
            values = [float((s.dense if method == "dense" else s.multicrop)(view)[cls]) for s in look.scales]
            ax.bar([i + (k - 1) * width for i in range(len(values))], values, width, label=name)
        ax.set_xticks(range(len(look.scales)), [f"Q = {s.q}" for s in look.scales])
        ax.set_title(method, fontsize=10)
        ax.set_ylim(0, 1)
    axes[0].set_ylabel(f"posterior of '{classes[cls]}'")
    axes[1].legend(fontsize=8)
    return fig


def final(look: Look, classes: list[str], label: int | None) -> Figure:
    """The final posterior of every class, averaged over the test scales: dense, multi-crop,
    and both averaged (the paper's best single-net test); the true class, where known, marked."""
    fig = Figure(figsize=(0.85 * WIDTH, 0.48 * len(classes) + 1.2), layout="constrained")
    ax = fig.subplots()
    methods = ("dense", "multi-crop", "dense+multi-crop")
    width = 0.8 / len(methods)
    for k, method in enumerate(methods):
        ax.barh([i + (k - 1) * width for i in range(len(classes))], look.final(method).tolist(), width, label=method)
    names = [f"{c} (true)" if i == label else c for i, c in enumerate(classes)]
    ax.set_yticks(range(len(classes)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("posterior, averaged over the test scales")
    ax.legend(fontsize=8)
    return fig


def confusion(result: Scored, classes: list[str]) -> Figure:
    """The confusion matrix on the test set (rows: the true class, columns: the predicted one),
    each row as a share of its class, with the counts written in."""
    counts = result.confusion()
    shares = counts / counts.sum(1, keepdim=True).clamp(min=1)
    fig = Figure(figsize=(0.8 * WIDTH, 5.6), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(shares.numpy(), cmap="Blues", vmin=0, vmax=1)
    if len(classes) <= 2 * ANNOTATE:
        for t in range(len(classes)):
            for p in range(len(classes)):
                ax.text(p, t, str(int(counts[t, p])), ha="center", va="center", fontsize=7,
                        color="white" if shares[t, p] > 0.5 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(im, ax=ax, shrink=0.8, label="share of the true class")
    return fig


def worst(result: Scored, classes: list[str], k: int = 8) -> Figure:
    """The ``k`` test images the net gets wrong most confidently, each with its true class, the
    class it predicts and that class's posterior."""
    picked = result.worst(k)
    fig = Figure(figsize=(min(1.6 * max(len(picked), 1), WIDTH), 2.2), layout="constrained")
    axes = fig.subplots(1, max(len(picked), 1), squeeze=False)[0]
    images, _ = result.images.load(picked) if picked else ([], None)
    for ax, i, image in zip(axes, picked, images):
        p = result.posteriors[i]
        _show(ax, image, f"{classes[int(result.labels[i])]}\n→ {classes[int(p.argmax())]} ({float(p.max()):.2f})")
    for ax in axes[len(picked):]:
        ax.axis("off")
        ax.set_title("no errors", fontsize=9)
    return fig


def absent(reason: str) -> Figure:
    """A small figure saying why a figure of the page cannot be drawn for this net."""
    fig = Figure(figsize=(6, 0.8), layout="constrained")
    ax = fig.subplots()
    ax.text(0.5, 0.5, f"Not drawn: {reason}.", ha="center", va="center")
    ax.axis("off")
    return fig
