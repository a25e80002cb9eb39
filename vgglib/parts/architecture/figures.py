"""Figures and checks of §2, computed from the code (no training, no data)."""
from __future__ import annotations

import pandas as pd
import torch
from matplotlib.figure import Figure

from ... import arch, evaluate, paper
from ...profiles import get_profile

CONFIGS = ("A", "B", "C", "D", "E")


def params_and_cost(table2: pd.DataFrame, macs: pd.DataFrame, profile: str) -> Figure:
    """Parameters at full size (counted, and the paper's) and multiply-adds per crop, at the
    paper's size and at a profile's, each on its own axis."""
    p = get_profile(profile)
    configs = list(CONFIGS)
    fig = Figure(figsize=(7.8, 3.2), layout="constrained")
    ax, bx, cx = fig.subplots(1, 3)
    ax.bar(configs, table2.loc[configs, "ours (exact)"] / 1e6, color="#4c72b0", label="ours (counted)")
    ax.scatter(configs, [paper.TABLE2[c] for c in configs], color="#dd8452", zorder=3, label="paper (Table 2)")
    ax.set_ylabel("parameters (millions)")
    ax.set_ylim(120, 150)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("parameters, full size", fontsize=9)
    bx.bar(configs, macs.loc[configs, "full (224px) GMACs"], color="#4c72b0")
    bx.set_ylabel("G multiply-adds")
    bx.set_title("per 224-px crop, paper's nets", fontsize=9)
    col = f"{p.name} ({p.crop}px) GMACs"
    cx.bar(configs, macs.loc[configs, col] * 1e3, color="#55a868")
    cx.set_ylabel("M multiply-adds")
    cx.set_title(f"per {p.crop}-px crop, {p.name} profile", fontsize=9)
    return fig


def dense_check(profile: str, config: str = "D") -> dict:
    """§3.2: the dense net on a crop-sized input equals the plain net, and its score map grows
    with the test scale.  Returns the largest logit gap and the map size at each Q, at the
    stride dense evaluation runs at (:func:`vgglib.evaluate.pass_stride`)."""
    p = get_profile(profile)
    torch.manual_seed(0)
    net = arch.build(config, num_classes=10, width=p.width, crop=p.crop, fc_width=p.fc_width).eval()
    with torch.no_grad():
        x = torch.randn(1, 3, p.crop, p.crop)
        gap = (net.score_map(x).flatten(1) - net(x)).abs().max().item()
        sizes = {q: tuple(net.score_map(torch.randn(1, 3, q, q), stride=evaluate.pass_stride(q, q, p.crop)).shape[-2:])
                 for q in (p.crop, p.scale(256), p.scale(384), p.scale(512))}
    return {"gap": gap, "sizes": sizes}
