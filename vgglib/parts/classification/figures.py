"""Figures of Tables 3–7, drawn from the records only: every label is a record key and every
plotted value the record's number for it.  Our errors (Fashion-MNIST analogues) and the paper's
(ILSVRC-2012) are never drawn on one axis: they differ in level and agree, if at all, in
direction, so each gets its own panel."""
from __future__ import annotations

import textwrap

from matplotlib.figure import Figure

from ... import arch, paper
from ..plots import OURS, PAPER, ours_beside_papers
from .paper_claims import METHODS5, paper_row, table6_claims

COLOURS = {"A": "#937860", "A-LRN": "#da8bc3", "B": "#8172b3", "C": "#4c72b0", "D": "#dd8452", "E": "#55a868"}
STYLES = {"256": "o-", "384": "s-", "256-512": "^-"}


def _figure(w: float, h: float, ncols: int = 1, **kw):
    fig = Figure(figsize=(w, h), layout="constrained")
    axes = fig.subplots(1, ncols, **kw)
    return fig, axes


def depth_rows(result3: dict, scale: str = "256") -> list[str]:
    """Table 3's rows at one training scale, A to E in the record's order (no LRN)."""
    return [r for r in result3["rows"] if r.endswith(f"/{scale}") and r.split("/")[0] in "ABCDE"]


def table3_depth(result3: dict) -> Figure:
    """Top-1 error against weight layers at S = 256, single test scale: ours and the paper's
    in separate panels."""
    rows = depth_rows(result3)
    layers = [sum(lay.kind in ("conv", "fc") for lay in arch.plan(r.split("/")[0])) for r in rows]
    fig, (ax, axp) = _figure(9, 3.4, 2)
    for a, values, colour, title in ((ax, [result3["rows"][r]["top1"] for r in rows], OURS, "ours (Fashion-MNIST)"),
                                     (axp, [paper.TABLE3[r][0] for r in rows], PAPER, "paper (ILSVRC-2012)")):
        a.plot(layers, values, "o-", color=colour)
        for x, y, r in zip(layers, values, rows):
            a.annotate(r.split("/")[0], (x, y), textcoords="offset points", xytext=(4, 4))
        a.set_xticks(layers, [str(n) for n in layers])
        a.set_xlabel("weight layers")
        a.set_ylabel("top-1 error (%)")
        a.set_title(title, fontsize=10)
    return fig


def table4_scales(result4: dict) -> Figure:
    """Each net's top-1 error at each of its test scales (ours), with the multi-scale average
    as a dashed line; one panel per training scale."""
    scales = list(dict.fromkeys(r.split("/")[1] for r in result4["rows"]))
    fig, axes = _figure(min(2.6 * len(scales), 7.8), 3.4, len(scales), sharey=True, squeeze=False)
    axes = axes[0]
    for ax, scale in zip(axes, scales):
        for row, r in result4["rows"].items():
            config, s = row.split("/")
            if s != scale:
                continue
            qs, errs = zip(*sorted((int(q), e) for q, e in r["per_q"].items()))
            ax.plot(qs, errs, STYLES.get(s, "o-"), color=COLOURS.get(config), label=row)
            ax.hlines(r["multi"]["top1"], min(qs), max(qs), colors=COLOURS.get(config), linestyles="dashed", lw=0.8)
        ax.set_title(f"trained at S = {scale.replace('-', ';')}", fontsize=9)
        ax.set_xlabel("test scale Q (paper units)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("top-1 error (%), ours")
    return fig


def _paired_bars(labels: list[str], ours: list[float], theirs: list[float], xlabel: str,
                 title_ours: str = "ours (Fashion-MNIST)", title_paper: str = "paper (ILSVRC-2012)",
                 height: float | None = None) -> Figure:
    """Two panels with the same rows, each on its own axis: ours, then the paper's."""
    fig, (ax, axp) = _figure(9, height or 0.32 * len(labels) + 1.2, 2, sharey=True)
    ax.barh(labels, ours, color=OURS)
    axp.barh(labels, theirs, color=PAPER)
    ax.invert_yaxis()
    for a, title, values in ((ax, title_ours, ours), (axp, title_paper, theirs)):
        a.set_title(title, fontsize=10)
        a.set_xlabel(xlabel)
        lo, hi = min(values), max(values)
        a.set_xlim(max(0.0, lo - 0.3 * (hi - lo) - 0.5), hi + 0.1 * (hi - lo) + 0.5)
    return fig


def row_label(row: str) -> str:
    """A record's row as the tables name it: its configuration and training scale."""
    config, s = paper_row(row)
    return f"{config}, S = {s}"


def table4_paper(result4: dict) -> Figure:
    """Multi-scale top-1 error per row, ours and the paper's side by side on separate axes:
    compare the order of the bars, not their lengths.  The rows, and their labels, are those
    of the page's Table 4 (the paper's order)."""
    rows = [r for r in paper.TABLE4 if r in result4["rows"]]
    return _paired_bars([row_label(r) for r in rows], [result4["rows"][r]["multi"]["top1"] for r in rows],
                        [paper.TABLE4[r][0] for r in rows], "top-1 error (%), multi-scale dense")


#: The paper's Table 5 names each method so; our records use the keys on the left.
METHOD_NAMES = dict(zip(METHODS5, ("dense", "multi-crop", "multi-crop & dense")))


def table5_labels(result5: dict) -> list[tuple[str, str]]:
    """(row, method) of every bar of Table 5's figure: the record's rows, each with the paper's
    three methods in the paper's order."""
    return [(row, method) for row in result5["rows"] for method in METHODS5]


def table5_methods(result5: dict) -> Figure:
    """Dense, multi-crop and both, per net: ours and the paper's on separate axes."""
    keys = table5_labels(result5)
    return _paired_bars([f"{row_label(row)}, {METHOD_NAMES.get(m, m)}" for row, m in keys],
                        [result5["rows"][r][m]["top1"] for r, m in keys],
                        [paper.TABLE5[r][METHOD_NAMES.get(m, m)][0] for r, m in keys],
                        "top-1 error (%)")


def table6_fusions(result6: dict, result5: dict | None = None) -> Figure:
    """Each fusion's top-1 error (bars) and the best single net in it, tested the same way
    (dots), ours."""
    names = list(result6["rows"])
    best = [c.ours[1] for c in table6_claims(result6, result5)]
    fig, ax = _figure(8, 0.5 * len(names) + 1.2)
    labels = ["\n".join(textwrap.wrap(n, 40)) for n in names]
    ax.barh(labels, [result6["rows"][n]["top1"] for n in names], color=OURS, label="fusion")
    ax.scatter(best, labels, color="black", zorder=3, label="best single net in the fusion")
    ax.invert_yaxis()
    values = [result6["rows"][n]["top1"] for n in names] + best
    ax.set_xlim(min(values) * 0.85, max(values) * 1.05)
    ax.set_xlabel("top-1 error (%), ours (Fashion-MNIST)")
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def table6_growing(result6: dict) -> Figure:
    """The submission's fusion grown best net first: the fusion's top-1 error after each net
    joins (line) and that net's error alone (dots)."""
    grown = result6["growing"]
    fig, ax = _figure(7, 3.2)
    x = range(1, len(grown) + 1)
    ax.plot(x, [g["fused"] for g in grown], marker="o", color=OURS, label="fusion of the nets so far")
    ax.scatter(x, [g["single"] for g in grown], color="black", zorder=3, label="the net added, alone")
    ax.set_xticks(list(x), [f"+ {g['net']}" for g in grown], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("top-1 error (%), ours (Fashion-MNIST)")
    ax.legend(fontsize=8)
    return fig


def table7_rows(result5: dict, result6: dict) -> tuple[dict[str, float], dict[str, float]]:
    """Our two systems (best single net, best fusion) and the paper's Table 7, top-1 val error."""
    singles = {f"{row}, {METHOD_NAMES[m]}": ms[m]["top1"] for row, ms in result5["rows"].items() for m in METHODS5}
    single = min(singles, key=singles.__getitem__)
    fusion = min(result6["rows"], key=lambda k: result6["rows"][k]["top1"])
    ours = {f"best single net: {single}": singles[single], f"best fusion: {fusion}": result6["rows"][fusion]["top1"]}
    theirs = {name: v[0] for name, v in paper.TABLE7.items() if v[0] is not None}
    return ours, theirs


def table7_sota(result5: dict, result6: dict) -> Figure:
    """Table 7: our two systems (left, Fashion-MNIST) and the paper's entries with a top-1
    error (right, ILSVRC-2012), each on its own axis; full names, wrapped, never cut."""
    ours, theirs = table7_rows(result5, result6)
    return ours_beside_papers(ours, theirs, ("ours (Fashion-MNIST, not ImageNet)",
                                             "paper's Table 7 (ILSVRC-2012 validation)"), "top-1 error (%)")
