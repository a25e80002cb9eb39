"""One table style for the book: a DataFrame as plain HTML with the theme's table classes.

Numbers are formatted for reading, not for round trips: counts with thousands separators
(132,863,336), errors and scores with two decimals, "–" for a missing value, yes/no for
booleans, and the three verdicts as short coloured words.  Every table is wrapped in a
container that scrolls sideways when the page is narrower than the table, with a visible
scrollbar and a "scroll →" hint that ``book/_static/vgg.js`` shows whenever the table is wider
than its page (``book/_static/vgg.css``).  Cells and rows are separated by white space, so the
search's snippets keep the words of neighbouring cells apart."""
from __future__ import annotations

import math
import numbers
import re
from html import escape

import pandas as pd
from IPython.display import HTML

from ..claims import VERDICTS

MISSING = "–"


class Raw(str):
    """A cell's HTML, put in the table as it is (a link); every other value is escaped."""


#: Tables with more columns than this show the "scroll" hint on narrow screens even without
#: JavaScript (vgg.js shows it on any table wider than its page).
WIDE = 5
#: The hint above a table wider than its page.
HINT = "scroll sideways for more columns →"
#: What the Departures table's paper column says where the paper gives no value.
NOT_GIVEN = "not given"


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


def _line(value: str) -> str:
    """A cell's longest line as the reader sees it (a Raw cell's line breaks kept, tags dropped)."""
    text = re.sub(r"<[^>]+>", "", value.replace("<br>", "\n")) if isinstance(value, Raw) else value
    return max(text.split("\n"), key=len)


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
         caption: str | None = None, span_equal: bool = False, breaks: str | None = None) -> str:
    """The table as an HTML string: ``decimals`` for every float column, or per column.  With
    ``span_equal`` a row whose cells are all equal is one cell across the table (as the paper's
    Table 1 prints "maxpool"); with ``breaks`` each text cell is split into lines at that
    separator."""
    def places(col) -> int:
        return decimals.get(col, 2) if isinstance(decimals, dict) else decimals

    cols = list(df.columns)
    # Text columns with long entries wrap (at a readable width) instead of widening the table.
    long = df.map(lambda v: isinstance(v, str) and len(_line(v)) > 32) if not breaks else df.map(lambda v: False)
    wrap = {c for c in cols if long[c].any()}
    head = "\n".join(f"<th>{escape(str(c))}</th>" for c in ([df.index.name or ""] if index else []) + cols)
    rows = []
    for key, row in zip(df.index, df.itertuples(index=False)):
        if span_equal and not index and len(set(map(str, row))) == 1 and len(row) > 1:
            rows.append(f'<tr><td class="span" colspan="{len(cols)}">{escape(cell(row[0]))}</td></tr>')
            continue
        if breaks:
            row = [Raw("<br>".join(map(escape, v.split(breaks)))) if isinstance(v, str) else v for v in row]
        cells = [_td(key, 2, "th")] if index else []
        cells += [_td(v, places(c), wrap=c in wrap) for c, v in zip(cols, row)]
        rows.append("<tr>" + "\n".join(cells) + "</tr>")
    wide = len(cols) + index > WIDE
    cap = f'<p class="vgg-caption">{escape(caption)}</p>' if caption else ""
    return (f'<div class="vgg-table{" vgg-wide" if wide else ""}">{cap}<div class="vgg-scroll-hint">{HINT}</div>'
            f'<div class="vgg-scroll" tabindex="0" role="region" aria-label="{escape(caption or "table")}">'
            f'<table class="table vgg"><thead><tr>{head}</tr></thead>\n'
            f'<tbody>{chr(10).join(rows)}</tbody></table></div></div>')


def verdict_first(df: pd.DataFrame, keys: int = 0) -> pd.DataFrame:
    """The same table with its verdict columns (those holding a verdict) right after its first
    ``keys`` columns, and a claim's statement, if it has one, just after them: what a reader
    looks for first, on screen without scrolling."""
    def is_verdict(c: str) -> bool:
        return df[c].map(lambda v: v in VERDICTS).any()

    cols = list(df.columns)
    lead = cols[:keys]
    verdicts = [c for c in cols[keys:] if is_verdict(c)]
    statement = [c for c in cols[keys:] if c == "claim"]
    return df[lead + verdicts + statement + [c for c in cols[keys:] if c not in verdicts + statement]]


def table(df: pd.DataFrame, index: bool = False, decimals: int | dict[str, int] = 2,
          caption: str | None = None, span_equal: bool = False, breaks: str | None = None) -> HTML:
    """The table for display in a notebook cell (see :func:`html`)."""
    return HTML(html(df, index, decimals, caption, span_equal, breaks))


def _pair(pair, unit: str) -> str:
    """``a vs b``: two decimals for percentages, whole numbers as such for counts."""
    if pair is None:
        return MISSING
    def one(v):
        return cell(int(v)) if "%" not in unit and float(v).is_integer() else cell(v)
    return f"{one(pair[0])} vs {one(pair[1])}"


def claims_frame(claims: list, pages: dict[str, str] | None = None) -> pd.DataFrame:
    """Claims for reading: the verdict first, the statement (marked † where our analogue is a
    weak test of it) beside it, with ``pages`` (table → page name) a link to the table's page,
    then our pair with the paper's under it ("a vs b") and the noise with its kind — so that a
    page's width shows the verdict, the claim and its table without scrolling."""
    rows = []
    for c in claims:
        row = {"verdict": c.verdict,
               "claim": Raw(f"{escape(c.statement)}{' †' if c.weak else ''}"
                            f'<br><span class="vgg-note">{escape(c.unit)} · <code>{escape(c.id)}</code></span>')}
        if pages is not None:
            page = pages.get(c.table)
            label = f"Table {c.table[5:]}" if c.table[5:].isdigit() else c.table
            row["table"] = Raw(f'<a href="{page}.html">{escape(label)}</a>') if page else label
        row["ours (a vs b)"] = Raw(f'{escape(_pair(c.ours, c.unit))}<br><span class="vgg-note">paper: '
                                   f'{escape(_pair(c.paper, c.unit))}</span>')
        row["noise (±)"] = Raw(f'{cell(c.noise)}<br><span class="vgg-note">{escape(c.noise_kind)}</span>')
        rows.append(row)
    return pd.DataFrame(rows)


def departures(df: pd.DataFrame, caption: str | None = None) -> HTML:
    """The Departures table (:func:`vgglib.departures.frame`) for reading at any width: each
    departure a row of three columns (what, the paper's value, ours) with its reason and where
    it is measured in a full-width row under it; the paper's "not given" is marked."""
    rows = []
    for d in df.itertuples(index=False):
        given = ' class="not-given"' if d.paper.startswith(NOT_GIVEN) else ""
        rows.append(f'<tr class="what"><td><b>{escape(d.what)}</b></td>\n<td data-label="paper"{given}>'
                    f'{escape(d.paper)}</td>\n<td data-label="ours">{escape(d.ours)}</td></tr>\n'
                    f'<tr class="why"><td colspan="3"><b>Why:</b> '
                    f'{escape(d.why)}.\n<b>Where measured:</b> {escape(d.measured)}.</td></tr>')
    cap = f'<p class="vgg-caption">{escape(caption)}</p>' if caption else ""
    return HTML(f'<div class="vgg-table">{cap}<div class="vgg-scroll-hint">{HINT}</div>'
                f'<div class="vgg-scroll" tabindex="0" role="region" aria-label="departures">'
                f'<table class="table vgg departures"><thead><tr><th>departure</th>\n<th>paper</th>\n'
                f'<th>ours</th></tr></thead>\n<tbody>{chr(10).join(rows)}</tbody></table></div></div>')


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
