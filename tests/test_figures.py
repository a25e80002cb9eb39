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
from vgglib.parts.classification import report  # noqa: E402
from vgglib.parts.localisation import figures as loc  # noqa: E402
from vgglib.parts.localisation import report as loc_report  # noqa: E402
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
    rows = [row for row in paper.TABLE4 if row in r["rows"]]         # the page's table's order and labels
    table = report.table4_frame(r)
    assert yticks(ours) == [f"{c}, S = {s}" for c, s in zip(table["config"], table["train S"])]
    assert bar_widths(ours) == [r["rows"][row]["multi"]["top1"] for row in rows]
    assert bar_widths(theirs) == [paper.TABLE4[row][0] for row in rows]
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
    scale = {"D/256-512": "D, S = 256;512", "E/256-512": "E, S = 256;512"}
    assert yticks(ours) == [f"{scale[row]}, {words[m]}" for row, m in keys]
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
    assert yticks(ours) == loc.table9_rows(r9) == list(loc_report.table9_frame(r9)["train S / test Q"])
    assert bar_widths(ours) == [r9["rows"][row]["top5"] for row in yticks(ours)]
    assert bar_widths(theirs) == [paper.TABLE9[row][0] for row in yticks(ours)]
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
    assert ax.get_ylim() == (0, 100) and bx.get_ylim()[1] == 100           # AP and recall within their range


def test_figures_fit_the_page_width():
    """A figure wider than the book's text column is shrunk to fit it, and its labels with it: the
    multi-panel figures are drawn at most 7.8 inches wide (the column is about 6 at the book's dpi)."""
    from vgglib.parts.architecture import figures as arch_figures
    from vgglib.parts.architecture import report as arch_report

    r = ROOT / "results" / "quick"
    records = ResultSet(r)
    figs = [cls.table4_scales(records["table4"]), transfer.table11_figure(records["table11"]),
            arch_figures.params_and_cost(arch_report.table2(), arch_report.multiply_adds_table(), "quick")]
    assert all(f.get_figwidth() <= 7.8 for f in figs)


def test_table_style():
    import pandas as pd

    html = show.html(pd.DataFrame({"n": [132_863_336], "err": [3244.6], "ok": [True], "x": [None],
                                   "verdict": ["does not hold"]}))
    assert "132,863,336" in html and "3,244.60" in html and ">yes<" in html and ">–<" in html
    assert "3244.600" not in html and "True" not in html
    assert 'class="verdict verdict-does-not-hold"' in html and 'class="table vgg"' in html
    assert show.HINT in html                              # every table carries the hint vgg.js shows when needed
    assert "</td>\n<td" in html                          # search snippets keep neighbouring cells apart
    frame = pd.DataFrame({"net": ["A", "B"], "error": [1.0, 2.0], "verdict": ["holds", "inconclusive"]})
    assert list(show.verdict_first(frame)) == ["verdict", "net", "error"]
    assert list(show.verdict_first(frame, keys=1)) == ["net", "verdict", "error"]
    plan = show.html(pd.DataFrame({"A": ["input", "conv3-64, conv3-64"], "B": ["input", "conv3-64"]}),
                     span_equal=True, breaks=", ")
    assert '<td class="span" colspan="2">input</td>' in plan and "conv3-64<br>conv3-64" in plan
