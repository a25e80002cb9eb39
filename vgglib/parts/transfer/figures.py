"""Figures of Appendix B (Tables 11–12), from the records."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .report import NET_ROWS, aggregation_frame, per_class_frame


def aggregation_labels(result11: dict) -> list[str]:
    """One label per (target, net) bar pair, in :func:`aggregation_frame`'s order: the net's
    record key and the target's short label."""
    return [f"{net}\n{t['label'].split(':')[0]}" for t in result11["targets"].values() for net in NET_ROWS]


def table11_figure(result11: dict) -> Figure:
    """Top: the Caltech-style target's D & E descriptors, first two principal components.
    Bottom: scales averaged against stacked, per net and target."""
    agg = aggregation_frame(result11)
    caltech = next((t for t in result11["targets"].values() if "embedding" in t), None)
    fig = Figure(figsize=(7.5, 7.4), layout="constrained")
    ax, bx = fig.subplots(2, 1, height_ratios=[1.1, 1])
    if caltech is not None:
        xy, label = np.array(caltech["embedding"]["xy"]), np.array(caltech["embedding"]["label"])
        points = ax.scatter(xy[:, 0], xy[:, 1], c=label, cmap="tab10", s=8)
        ax.legend(*points.legend_elements(), title="class", fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5))
        ax.set_title(f"{caltech['label']}: D & E descriptors (stacked), first two principal components, "
                     "split 1 test images", fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    x = np.arange(len(agg))
    bx.bar(x - 0.2, agg["averaged"], 0.4, color="#4c72b0", label="scales averaged")
    bx.bar(x + 0.2, agg["stacked"], 0.4, color="#dd8452", label="scales stacked")
    bx.set_xticks(x, aggregation_labels(result11), fontsize=8)
    bx.set_ylim(max(0, agg[["averaged", "stacked"]].min().min() - 10), 100)
    bx.set_ylabel("mAP / mean class recall (%)")
    bx.set_title("scales averaged vs stacked, per net and target", fontsize=9)
    bx.legend(fontsize=8, loc="upper left")
    return fig


def table12_figure(result12: dict) -> Figure:
    """AP per class, the whole image alone against the image and the given box."""
    per_class = per_class_frame(result12)
    fig = Figure(figsize=(8, 3.8), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(per_class))
    for shift, key, colour in ((-0.2, "image only", "#4c72b0"), (0.2, "image and box", "#dd8452")):
        ax.bar(x + shift, per_class[key], 0.4, color=colour, label=f"{key} ({result12['rows'][key]['mAP']:.1f} mAP)")
    ax.set_xticks(x, per_class["class"], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("AP (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{result12['label']}: AP per class, D & E features", fontsize=9, pad=22)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    return fig
