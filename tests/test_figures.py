"""Every figure of the book, built from the committed quick records: its labels are the record
keys it plots, in order, and its bars and lines are the record's numbers (no notebook runs)."""
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from vgglib import paper  # noqa: E402
from vgglib.parts import show  # noqa: E402
from vgglib.parts.classification import figures as cls  # noqa: E402
from vgglib.parts.localisation import figures as loc  # noqa: E402
from vgglib.parts.training import figures as training  # noqa: E402
from vgglib.parts.transfer import figures as transfer  # noqa: E402
from vgglib.results import ResultSet  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def records() -> ResultSet:
    return ResultSet(ROOT / "results" / "quick")


def yticks(ax) -> list[str]:
    return [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]


def bar_widths(ax) -> list[float]:
    return [round(p.get_width(), 6) for p in ax.patches]


def test_table4_rows_are_the_records_and_never_share_an_axis_with_the_paper(records):
    r = records["table4"]
    fig = cls.table4_paper(r)
    ours, theirs = fig.axes
    assert yticks(ours) == list(r["rows"])
    assert bar_widths(ours) == [v["multi"]["top1"] for v in r["rows"].values()]
    assert bar_widths(theirs) == [paper.TABLE4[row][0] for row in r["rows"]]
    assert all(len(ax.patches) == len(r["rows"]) for ax in fig.axes)   # one series per axis
    lines = cls.table4_scales(r)
    plotted = {ln.get_label(): list(ln.get_ydata()) for ax in lines.axes for ln in ax.get_lines()}
    assert plotted == {row: list(v["per_q"].values()) for row, v in r["rows"].items()}


def test_table5_labels_come_from_the_records_in_order(records):
    r = records["table5"]
    ours, theirs = cls.table5_methods(r).axes
    # written out, not built with the figure's own helpers: every record row with the paper's
    # three methods, in the paper's order and words
    words = {"dense": "dense", "multi-crop": "multi-crop", "dense+multi-crop": "multi-crop & dense"}
    keys = [(row, m) for row in ("D/256-512", "E/256-512") for m in words]
    assert list(r["rows"]) == ["D/256-512", "E/256-512"]
    assert yticks(ours) == [f"{row}, {words[m]}" for row, m in keys]
    assert bar_widths(ours) == [r["rows"][row][m]["top1"] for row, m in keys]
    assert bar_widths(theirs) == [paper.TABLE5[row][words[m]][0] for row, m in keys]


def test_table3_and_table6(records):
    r3 = records["table3"]
    ours, theirs = cls.table3_depth(r3).axes
    rows = cls.depth_rows(r3)
    assert [a.get_text() for a in ours.texts] == [row.split("/")[0] for row in rows]
    assert list(ours.get_lines()[0].get_ydata()) == [r3["rows"][row]["top1"] for row in rows]
    assert list(theirs.get_lines()[0].get_ydata()) == [paper.TABLE3[row][0] for row in rows]
    r6 = records["table6"]
    (ax,) = cls.table6_fusions(r6).axes
    assert yticks(ax) == list(r6["rows"])
    assert bar_widths(ax) == [v["top1"] for v in r6["rows"].values()]


def test_table7_labels_are_whole_and_distinct(records):
    ours, theirs = cls.table7_rows(records["table5"], records["table6"])
    top, bottom = cls.table7_sota(records["table5"], records["table6"]).axes
    assert yticks(top) == list(ours) and yticks(bottom) == list(theirs)     # wrapped, never cut
    assert len(set(yticks(bottom))) == len(theirs)
    assert bar_widths(top) == list(ours.values()) and bar_widths(bottom) == list(theirs.values())
    assert "best single net: D/256-512, multi-crop & dense" in ours


def test_table9_and_table10(records):
    r9 = records["table9"]
    ours, theirs = loc.table9_bars(r9).axes
    assert yticks(ours) == loc.table9_rows(r9) == list(r9["rows"])
    assert bar_widths(ours) == [v["top5"] for v in r9["rows"].values()]
    assert bar_widths(theirs) == [paper.TABLE9[row][0] for row in r9["rows"]]
    top, bottom = loc.table10_sota(r9).axes
    (label,) = yticks(top)
    best = label.removeprefix("ours, best of Table 9: ")
    assert best in r9["rows"] and "canvas-" not in label                        # a row's name, no internal hash
    assert bar_widths(top) == [r9["rows"][best]["top5"]] == [min(bar_widths(ours))]
    assert yticks(bottom) == list(paper.TABLE10)


def test_localisation_strips_have_readable_titles(records):
    r8, r9 = records["table8"], records["table9"]
    n = len(r8["samples"]["index"])
    images, truth = torch.zeros(n, 3, 56, 56), [f"class {i}" for i in range(n)]
    fig8 = loc.table8_strip(r8, images, truth, "quick")
    assert [ax.get_title() for ax in fig8.axes] == truth
    assert all(ax.title.get_fontsize() >= 10 for ax in fig8.axes)
    assert [t.get_text() for t in fig8.legends[0].get_texts()] == ["central crop", "true box", *r8["samples"]["pred"]]
    classes = [f"c{i}" for i in range(10)]
    fig9 = loc.table9_strip(r9, images, truth, classes)
    assert [ax.get_title() for ax in fig9.axes] == [
        f"{t}\npredicted: {classes[c]}" for t, c in zip(truth, r9["samples"]["top1_class"])]


def test_training_and_transfer(records):
    rt = records["training"]
    (ax,) = training.curves(rt).axes
    assert [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")] == \
        [training.curve_label(row) for row in rt["curves"]]
    assert all(row in training.curve_label(row) for row in rt["curves"])
    r11 = records["table11"]
    _, bx = transfer.table11_figure(r11).axes
    assert [t.get_text() for t in bx.get_xticklabels()] == transfer.aggregation_labels(r11)
    r12 = records["table12"]
    (ax,) = transfer.table12_figure(r12).axes
    assert [t.get_text() for t in ax.get_xticklabels()] == r12["classes"]
    heights = [round(p.get_height(), 6) for p in ax.patches]
    assert heights[:len(r12["classes"])] == pytest.approx(r12["rows"]["image only"]["ap"], nan_ok=True)


def test_table_style():
    import pandas as pd

    html = show.html(pd.DataFrame({"n": [132_863_336], "err": [3244.6], "ok": [True], "x": [None],
                                   "verdict": ["does not hold"]}))
    assert "132,863,336" in html and "3,244.60" in html and ">yes<" in html and ">–<" in html
    assert "3244.600" not in html and "True" not in html
    assert 'class="verdict verdict-does-not-hold"' in html and 'class="table vgg"' in html
