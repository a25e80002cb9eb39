"""One table style for the book: a DataFrame as plain HTML with the theme's table classes.

Numbers are formatted for reading, not for round trips: counts with thousands separators
(132,863,336), errors and scores with two decimals, "–" for a missing value, yes/no for
booleans, and the three verdicts as short coloured words.  Every table is wrapped in a
container that scrolls sideways when the page is narrower than the table (a phone), with a
visible scrollbar and, for wide tables, a hint (``book/_static/vgg.css``)."""
from __future__ import annotations

import math
import numbers
from html import escape

import pandas as pd
from IPython.display import HTML

from ..claims import VERDICTS

MISSING = "–"


class Raw(str):
    """A cell's HTML, put in the table as it is (a link); every other value is escaped."""
#: Tables with more columns than this get the "scroll sideways" hint on narrow screens.
WIDE = 5


def cell(value: object, decimals: int = 2) -> str:
    """One value as the book prints it (plain text, not yet escaped)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{float(value):,.{decimals}f}"
    text = str(value)
    return MISSING if text in ("", "—", "nan", "None") else text


def _td(value, decimals: int, tag: str = "td", wrap: bool = False) -> str:
    if isinstance(value, Raw):
        attr = ' class="wrap"' if wrap else ""
        return f"<{tag}{attr}>{value}</{tag}>"
    text = cell(value, decimals)
    classes = ["wrap"] if wrap else []
    if isinstance(value, numbers.Number) and not isinstance(value, bool) and text != MISSING:
        classes.append("num")
    if text in VERDICTS:
        classes.append("verdict verdict-" + text.replace(" ", "-"))
    attr = f' class="{" ".join(classes)}"' if classes else ""
    return f"<{tag}{attr}>{escape(text)}</{tag}>"


def html(df: pd.DataFrame, index: bool = False, decimals: int | dict[str, int] = 2,
         caption: str | None = None) -> str:
    """The table as an HTML string: ``decimals`` for every float column, or per column."""
    def places(col) -> int:
        return decimals.get(col, 2) if isinstance(decimals, dict) else decimals

    cols = list(df.columns)
    # Text columns with long entries wrap (at a readable width) instead of widening the table.
    wrap = {c for c in cols if df[c].map(lambda v: isinstance(v, str) and len(v) > 32).any()}
    head = "".join(f"<th>{escape(str(c))}</th>" for c in ([df.index.name or ""] if index else []) + cols)
    rows = []
    for key, row in zip(df.index, df.itertuples(index=False)):
        cells = [_td(key, 2, "th")] if index else []
        cells += [_td(v, places(c), wrap=c in wrap) for c, v in zip(cols, row)]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    wide = len(cols) + index > WIDE
    cap = f'<p class="vgg-caption">{escape(caption)}</p>' if caption else ""
    hint = '<div class="vgg-scroll-hint">scroll sideways for more columns →</div>' if wide else ""
    return (f'<div class="vgg-table{" vgg-wide" if wide else ""}">{cap}{hint}'
            f'<div class="vgg-scroll" tabindex="0" role="region" aria-label="{escape(caption or "table")}">'
            f'<table class="table vgg"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div></div>')


def table(df: pd.DataFrame, index: bool = False, decimals: int | dict[str, int] = 2,
          caption: str | None = None) -> HTML:
    """The table for display in a notebook cell (see :func:`html`)."""
    return HTML(html(df, index, decimals, caption))


def _pair(pair, unit: str) -> str:
    """``a vs b``: two decimals for percentages, whole numbers as such for counts."""
    if pair is None:
        return MISSING
    def one(v):
        return cell(int(v)) if "%" not in unit and float(v).is_integer() else cell(v)
    return f"{one(pair[0])} vs {one(pair[1])}"


def claims_frame(claims: list, pages: dict[str, str] | None = None) -> pd.DataFrame:
    """Claims for reading: the statement (marked † where our analogue is a weak test of it), the
    verdict next to it (so a phone shows both without scrolling), our pair and the paper's pair
    as "a vs b", the noise and its kind; with ``pages`` (table → page name) a link to the
    table's page."""
    rows = []
    for c in claims:
        row = {"claim": Raw(f"{escape(c.statement)}{' †' if c.weak else ''}"
                            f'<br><span class="vgg-note">{escape(c.unit)} · <code>{escape(c.id)}</code></span>'),
               "verdict": c.verdict, "ours (a vs b)": _pair(c.ours, c.unit), "paper (a vs b)": _pair(c.paper, c.unit),
               "noise": Raw(f'{cell(c.noise)}<br><span class="vgg-note">{escape(c.noise_kind)}</span>')}
        if pages is not None:
            page = pages.get(c.table)
            label = f"Table {c.table[5:]}" if c.table[5:].isdigit() else c.table
            row["table"] = Raw(f'<a href="{page}.html">{escape(label)}</a>') if page else label
        rows.append(row)
    return pd.DataFrame(rows)


def weak_notes(claims: list) -> pd.DataFrame:
    """The claims marked †, and why our analogue is a weak test of each."""
    return pd.DataFrame([{"claim": c.statement, "why it is a weak test here": c.weak} for c in claims if c.weak])


#: The paper's sections as the Claims page heads them.
SECTIONS = {"§2.3": "§2.3 Architecture: parameters and stacks of 3×3 filters",
            "§3.1": "§3.1 Training: initialisation",
            "§4.1": "§4.1 Single-scale evaluation (Table 3)",
            "§4.2": "§4.2 Multi-scale evaluation (Table 4)",
            "§4.3": "§4.3 Multi-crop evaluation (Table 5)",
            "§4.4": "§4.4 ConvNet fusion (Table 6)",
            "§4.5": "§4.5 Comparison with the state of the art (Table 7)",
            "App. A": "Appendix A: localisation (Tables 8–10)",
            "App. B": "Appendix B: generalisation of very deep features (Tables 11–12)"}


def claims_by_section(claims: list, pages: dict[str, str]) -> HTML:
    """Every claim, one table per section of the paper in the order the claims come."""
    order = list(dict.fromkeys(c.section for c in claims))
    parts = []
    for section in order:
        these = [c for c in claims if c.section == section]
        parts.append(html(claims_frame(these, pages), caption=SECTIONS.get(section, section)))
    return HTML("".join(parts))
