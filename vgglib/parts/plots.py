"""What the parts' figures share: our colour and the paper's, and the two-panel comparison of
our results with the paper's state-of-the-art tables (Tables 7 and 10), each on its own axis,
since the levels of an analogue and of ILSVRC are not comparable."""
from __future__ import annotations

import textwrap

from matplotlib.figure import Figure

OURS, PAPER = "#dd8452", "#8c8c8c"


def ours_beside_papers(ours: dict[str, float], theirs: dict[str, float], titles: tuple[str, str], xlabel: str,
                       wrap: int = 55) -> Figure:
    """Horizontal bars of our systems (top) and the paper's table (bottom), labels wrapped at
    ``wrap`` characters, never cut, in the order given."""
    fig = Figure(figsize=(9, 0.42 * len(theirs) + 2.2), layout="constrained")
    axes = fig.subplots(2, 1, height_ratios=[len(ours) + 1, len(theirs) + 1])
    for ax, d, colour, title in zip(axes, (ours, theirs), (OURS, PAPER), titles):
        ax.barh(["\n".join(textwrap.wrap(k, wrap)) for k in d], list(d.values()), color=colour)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10, loc="left")
        ax.tick_params(axis="y", labelsize=8)
        ax.set_xlabel(xlabel)
    return fig
