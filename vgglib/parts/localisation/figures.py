"""Figures of Tables 8–10, from the records: box strips on the first test images (the images
are re-read from the data set; the boxes come from the record), Table 9 beside the paper on
separate axes, and Table 10 with our best row named by its record key."""
from __future__ import annotations

from pathlib import Path

import torch
from matplotlib.figure import Figure

from ... import paper
from ...boxes import central_crop
from ...profiles import get_profile
from ..plots import OURS, PAPER, ours_beside_papers
from .report import draw_box
from .rows import TABLE8_S, TABLE9_ROWS

TABLE8_COLOURS = {"FC1+FC2/SCR": "#4c72b0", "FC1+FC2/PCR": "#dd8452", "all/PCR": "#c44e52"}
TABLE9_SHOWN = {"384/384": "#dd8452", "fusion 256/256 + 384/352,384": "#c44e52"}


def test_images(result: dict, profile: str,
                data_root: str | Path | None = None) -> tuple[torch.Tensor, list[str], list[str]]:
    """The test images a record's ``samples`` name, their true class names, and the class
    names of the data set."""
    from ...box_data import loc_test_set
    from ...data import profile_splits

    p = get_profile(profile)
    test = loc_test_set(p, profile_splits(p, data_root), result["provenance"].get("seed", 0))
    images, labels = test.images.load(result["samples"]["index"])
    classes = list(test.images.classes)
    return images, [classes[int(i)] for i in labels], classes


def _strip(n: int) -> tuple[Figure, list]:
    cols = min(4, n)
    rows = -(-n // cols)
    fig = Figure(figsize=(2.4 * cols, 2.75 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _show(ax, image: torch.Tensor) -> None:
    ax.imshow(image.permute(1, 2, 0).numpy())
    ax.set_xticks([]), ax.set_yticks([])


def table8_strip(result: dict, images: torch.Tensor, truth: list[str], profile: str) -> Figure:
    """The first test canvases: true box (green), the central crop the net sees (dotted) and
    each Table 8 net's box for the true class."""
    s, p = result["samples"], get_profile(profile)
    q = p.scale(TABLE8_S)
    fig, axes = _strip(len(s["index"]))
    for j, ax in enumerate(axes):
        h, w = images[j].shape[-2:]
        _show(ax, images[j])
        draw_box(ax, central_crop(h, w, q, p.crop).tolist(), "#9ecae1", "central crop", ":", 1.2)
        draw_box(ax, s["truth"][j], "limegreen", "true box", width=2.4)
        for name in s["pred"]:
            draw_box(ax, s["pred"][name][j], TABLE8_COLOURS.get(name, "black"), name)
        ax.set_title(truth[j], fontsize=10)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=3, fontsize=9)
    return fig


def table9_strip(result: dict, images: torch.Tensor, truth: list[str], classes: list[str]) -> Figure:
    """The first test canvases: true box (green) and the merged box of the top-1 predicted
    class from the S = 384 net and from the two-net fusion; titles name the true and the
    predicted class."""
    s = result["samples"]
    fig, axes = _strip(len(s["index"]))
    for j, ax in enumerate(axes):
        _show(ax, images[j])
        draw_box(ax, s["truth"][j], "limegreen", "true box", width=2.4)
        for name, colour in TABLE9_SHOWN.items():
            draw_box(ax, result["rows"][name]["sample_top1"][j], colour, name)
        ax.set_title(f"{truth[j]}\npredicted: {classes[s['top1_class'][j]]}", fontsize=10)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=3, fontsize=9)
    return fig


def table9_rows(result9: dict) -> list[str]:
    """Table 9's rows that the record holds, in the order of the page's table (the paper's)."""
    return [r for r in TABLE9_ROWS if r in result9["rows"]]


def table9_bars(result9: dict) -> Figure:
    """Top-5 localisation error per row, ours and the paper's (validation) on separate axes;
    the dotted line in each is its own protocol-1 error (central crop, true class)."""
    rows = table9_rows(result9)
    fig = Figure(figsize=(9, 0.45 * len(rows) + 1.4), layout="constrained")
    ax, axp = fig.subplots(1, 2, sharey=True)
    ax.barh(rows, [result9["rows"][r]["top5"] for r in rows], color=OURS)
    ax.axvline(result9["centre_crop_error"], color="black", linestyle=":", label="central crop, true class")
    axp.barh(rows, [paper.TABLE9[r][0] for r in rows], color=PAPER)
    axp.axvline(paper.TABLE8[("all", "PCR")], color="black", linestyle=":", label="central crop, true class")
    ax.invert_yaxis()
    ax.set_title("ours (Fashion-MNIST canvases)", fontsize=10)
    axp.set_title("paper (ILSVRC validation)", fontsize=10)
    for a in (ax, axp):
        a.set_xlabel("top-5 localisation error (%)")
        a.legend(fontsize=8, loc="lower right")
    return fig


def table10_rows(result9: dict) -> tuple[dict[str, float], dict[str, float]]:
    """Our best Table 9 row (by its record key) and the paper's Table 10 (test error where it
    reports one, else validation)."""
    best = min(result9["rows"], key=lambda k: result9["rows"][k]["top5"])
    ours = {f"ours, best of Table 9: {best}": result9["rows"][best]["top5"]}
    theirs = {m: (t if t is not None else v) for m, (v, t) in paper.TABLE10.items()}
    return ours, theirs


def table10_sota(result9: dict) -> Figure:
    """Table 10: our best localisation (top, Fashion-MNIST canvases) and the paper's entries
    (bottom, ILSVRC), each on its own axis."""
    ours, theirs = table10_rows(result9)
    return ours_beside_papers(ours, theirs, ("ours (Fashion-MNIST canvases, not ILSVRC)",
                                             "paper's Table 10 (ILSVRC; test error where reported)"),
                              "top-5 localisation error (%)", wrap=50)
