"""What every page of the book does with its records: glue the provenance sentence and the
tally of its claims for the prose (MyST-NB ``glue``), so that no number is typed into text."""
from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
from IPython.display import HTML, Image, Markdown
from matplotlib.figure import Figure
from myst_nb import glue

from ..claims import FAILS, HOLDS, INCONCLUSIVE, Claim, tally
from ..results import ResultSet, provenance_line, retrained_since
from . import all_frames, show, tables


def glue_provenance(records: ResultSet, name: str, key: str = "provenance") -> str:
    """Glue the provenance sentence of record ``name`` (pasted with ``{glue:md}`provenance```),
    saying in bold when nets it used have since been retrained for another record."""
    record = records[name]
    line = provenance_line(record["provenance"], record.get("uses"), retrained_since(name, records), name)
    glue(key, Markdown(line), display=False)
    return line


def glue_tally(claims: list, prefix: str = "") -> dict[str, int]:
    """Glue how many claims there are and how many hold, are inconclusive and do not hold:
    keys ``{prefix}claims``, ``{prefix}holds``, ``{prefix}inconclusive``, ``{prefix}fails``."""
    t = tally([c.verdict for c in claims])
    counts = {"claims": len(claims), "holds": t[HOLDS], "inconclusive": t[INCONCLUSIVE], "fails": t[FAILS]}
    for k, v in counts.items():
        glue(prefix + k, v, display=False)
    return counts


def glue_paper(**numbers: float) -> dict[str, float]:
    """Glue numbers that a page's prose quotes from the paper, read from :mod:`vgglib.paper`
    (keys ``paper_<name>``, pasted with ``{glue:text}`paper_<name>:.1f```), so that the paper's
    numbers too are written in one place and never retyped into text."""
    for name, value in numbers.items():
        glue(f"paper_{name}", value, display=False)
    return numbers


def png(fig: Figure) -> Image:
    """A matplotlib figure as a PNG image output (what ``glue`` stores and the book shows),
    independent of the kernel's matplotlib backend."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return Image(buf.getvalue(), format="png")


def glue_figure(key: str, fig: Figure) -> None:
    """Glue a figure for a ``{glue:figure}`` directive (numbered, captioned)."""
    glue(key, png(fig), display=False)


#: Where the book build puts the CSV exports, relative to the pages (``book/_nb/``).
DATA = "data"


def downloads(stems: list[str]) -> str:
    """MyST text: a download link per table CSV (copied into the book by :mod:`vgglib.book`)."""
    return "\n".join(f"- {{download}}`{stem}.csv <{DATA}/csv/{stem}.csv>`" for stem in stems)


def glue_downloads(records: ResultSet, key: str = "downloads") -> str:
    """Glue the download list of every table whose records exist (``{glue:md}`` as MyST)."""
    text = downloads(list(all_frames(records)))
    glue(key, Markdown(text), display=False)
    return text


def diagnosis(records: ResultSet, name: str, frame: Callable[[dict], pd.DataFrame], caption: str,
              sentence: Callable[[dict], str] | None = None,
              claims: Callable[[dict], list[Claim]] | None = None) -> list[Markdown | HTML]:
    """A diagnosis section's outputs from the record ``name``: its sentence (where it has one),
    its table and the claims it tests (where it tests some); or, where that record was not
    computed at this profile (a diagnosis is optional), a line naming the command that does."""
    if name not in records:
        return [Markdown(f"No diagnosis record at this profile yet: `python -m vgglib reproduce {name}`.")]
    record = records[name]
    out = [Markdown(sentence(record))] if sentence else []
    out.append(show.table(frame(record), caption=caption))
    if claims:
        out.append(show.table(show.claims_frame(claims(record))))
    return out


def tip(name: str, profile: str) -> str:
    """What every page tells its reader about its records (Markdown): as built, it renders them;
    where record ``name`` is missing, the command that computes it at ``profile`` (or the
    notebook's ``compute`` parameter), with the records it reads (computed first where missing)."""
    text = (f"As built, this page renders stored records; opened in `make lab`, its `compute` parameter "
            f"runs the experiment instead. If `{name}` is missing for a profile, compute it with "
            f"`python -m vgglib reproduce {name} --profile {profile}` "
            f"(or `vgglib.reproduce.reproduce(\"{name}\", \"{profile}\")` from Python)")
    needs = [tables()[n].title.split(":")[0] for n in tables()[name].needs]
    if not needs:
        return text + "."
    one = len(needs) == 1
    return (text + f": it reads the record{'' if one else 's'} of {' and '.join(needs)}, computing "
            f"{'it' if one else 'them'} first if {'it is' if one else 'they are'} missing.")


def analogue_note(record: dict, profile: str) -> str:
    """What a classification page's numbers are (Markdown, for its note): at a Fashion-MNIST
    profile, width-scaled analogues measured on the record's own number of test images, not
    comparable in level with the paper's; at the paper's scale, the paper's nets."""
    from fractions import Fraction

    from ..data import FASHION_MNIST_CLASSES
    from ..profiles import get_profile

    p, n = get_profile(profile), record["provenance"]["test_images"]
    if p.dataset != "fashion-mnist":
        return (f"At the `{profile}` profile the nets are the paper's, at {p.crop}-pixel crops, and errors are "
                f"measured on {n:,} images of `{record['provenance'].get('dataset', p.dataset)}`.")
    k = len(FASHION_MNIST_CLASSES)
    return (f"At the `{profile}` profile the nets are width-scaled analogues ({Fraction(p.width).limit_denominator()} "
            f"of the paper's width, {p.crop}-pixel crops) trained on Fashion-MNIST ({k} classes), and errors are "
            f"measured on {n:,} of its test images: they are **not comparable in level** with the paper's "
            f"ILSVRC-2012 numbers, only in direction. With {k} classes top-5 error is near zero for every net, "
            f"so the tables keep the paper's top-5 column but lead with top-1.")


def canvas_note(profile: str) -> str:
    """What Appendix A's pages measure (Markdown, for their note): at a profile that draws its
    boxes on canvases, the canvases and the analogue nets, from the profile's settings."""
    from fractions import Fraction

    from ..profiles import get_profile

    p = get_profile(profile)
    loc = p.localisation
    if loc is None or not loc.canvas:
        return f"At the `{profile}` profile the localisation data are ILSVRC-2012's boxes, as the paper's."
    return (f"At the `{profile}` profile the localisation data are **not ILSVRC**: each test image is a "
            f"{loc.canvas}×{loc.canvas}-pixel canvas with one real Fashion-MNIST *test* image pasted at "
            f"{loc.min_side:.0%}–{loc.max_side:.0%} of its side, at a random position, among {loc.clutter} "
            f"fragments of other test images, its box known exactly (training canvases use training images "
            f"only). The nets are width-scaled analogues of net D ({Fraction(p.width).limit_denominator()} of "
            f"the paper's width, {p.crop}-pixel crops), and scales S and Q are the paper's mapped to pixels as "
            f"everywhere in this book. Errors are therefore **not comparable in level** with the paper's, only in "
            f"direction. Each claim compares two errors measured on the same test images; the noise is the half "
            f"width of the interval of that paired difference, as the Claims page states the noise model (one "
            f"seed, so this is sampling noise of the test set only).")


def glue_tip(name: str, profile: str, key: str = "tip") -> str:
    """Glue :func:`tip` for record ``name`` (pasted with ``{glue:md}`tip``` in the page's tip)."""
    text = tip(name, profile)
    glue(key, Markdown(text), display=False)
    return text
