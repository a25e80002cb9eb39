"""The Performance page's figures, drawn from the benchmark's report and the end-to-end record
only: every label is a row of the report, every bar its number."""
from __future__ import annotations

from matplotlib.figure import Figure

from ..parts.plots import OURS
from .report import throughput_bars

FLOOR = "#4c72b0"


def _missing(text: str) -> Figure:
    """A small figure saying what is missing, so the page's numbered figure always exists."""
    fig = Figure(figsize=(8, 1.2))
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10)
    return fig


def throughput(report: dict | None) -> Figure:
    """Training images/s: vgglib's step with data against the model-only step, and net D along
    each CPU fast path."""
    bars = throughput_bars(report) if report else []
    if not len(bars):
        return _missing("no throughput measured yet: make bench")
    fig = Figure(figsize=(8, 0.35 * len(bars) + 1), layout="constrained")
    ax = fig.subplots()
    for key, colour, name in (("throughput", OURS, "with data vs model-only"), ("fast_paths", FLOOR, "CPU fast paths")):
        part = bars[bars["section"] == key]
        ax.barh(part["net"] + ": " + part["path"], part["images_per_s"], color=colour, label=name)
    ax.invert_yaxis()
    ax.set_xlabel("training images/s")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def breakdown(e2e: dict | None) -> Figure:
    """Where an end-to-end run's wall time went, beside each component's compute floor."""
    if not e2e or "breakdown" not in e2e:
        return _missing("no end-to-end run with a floor yet: make bench-e2e")
    rows = sorted(e2e["breakdown"], key=lambda r: r["wall_s"])
    fig = Figure(figsize=(8, 0.3 * len(rows) + 1.2), layout="constrained")
    ax = fig.subplots()
    names = [r["component"] for r in rows]
    ax.barh(names, [r["wall_s"] / 60 for r in rows], color=OURS, label="wall time")
    ax.barh(names, [r["floor_s"] / 60 for r in rows], color=FLOOR, label="compute floor")
    ax.set_xlabel("minutes")
    ax.set_title(f"{e2e['target']} at {e2e['profile']}: {e2e['wall_s'] / 60:.1f} min, "
                 f"{e2e['wall_over_floor']}× its floor of {e2e['floor_s'] / 60:.1f} min", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    return fig
