"""Figures of §3.1: the augmented training input and the init chain's learning curves."""
from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from ...profiles import get_profile


def curve_label(row: str) -> str:
    """A training record's row as the legend names it: the key, and what it is."""
    if ":" in row:
        return f"{row} (random init)"
    return f"{row} (random init)" if row.startswith("A/") else f"{row} (from A)"


def curves(result: dict) -> Figure:
    """Validation top-1 error per epoch of each net of the record; a shaded line marks each
    epoch after which the learning rate fell by 10."""
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.subplots()
    for row, curve in result["curves"].items():
        epochs = [m["epoch"] for m in curve]
        line, = ax.plot(epochs, [m["val_top1_err"] for m in curve], "o-", label=curve_label(row))
        for m in curve:
            if m["schedule"] == "decay":
                ax.axvline(m["epoch"], color=line.get_color(), alpha=0.25, lw=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation top-1 error (%)")
    ax.set_ylim(0, None)
    ax.legend()
    return fig


def augmentation(profile: str, seed: int = 0, n: int = 6, data_root: str | Path | None = None) -> Figure:
    """Training crops at the profile's analogues of S = 256, 384 and [256, 512] (rescale, crop,
    flip, colour shift), shown before the mean is subtracted.  Reads the first training images."""
    from ...augment import Augmenter, Normalise, seeded_generator
    from ...data import profile_splits
    from ...runs import RunStore
    from ...stats import cached_stats
    from ...train import dataset_id

    p = get_profile(profile)
    splits = profile_splits(p, data_root)
    stats = cached_stats(splits.train, RunStore().data_dir(dataset_id(splits)) / "stats.json")
    images, _ = splits.train.load(list(range(n)))
    regimes = {"S = 256": p.scale(256), "S = 384": p.scale(384), "S ∈ [256, 512]": (p.scale(256), p.scale(512))}
    fig = Figure(figsize=(9, 5), layout="constrained")
    axes = fig.subplots(len(regimes), n)
    for row_axes, (name, s) in zip(axes, regimes.items()):
        aug = Augmenter(p.crop, s, stats, Normalise((0.0, 0.0, 0.0)))
        crops = aug(images, aug.sample(n, seeded_generator(seed, 7)))
        for ax, crop in zip(row_axes, crops):
            ax.imshow(crop.permute(1, 2, 0).clamp(0, 255).byte())
            ax.axis("off")
        size = f"{s[0]}–{s[1]}" if isinstance(s, tuple) else s
        row_axes[0].set_title(f"{name} ({size} px)", loc="left", fontsize=10)
    return fig
