"""The notebooks execute under smoke, and the built book works in a real browser, offline."""
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from conftest import NOTEBOOKS, ROOT

pytestmark = pytest.mark.slow
#: Pages without a figure: the Claims page is tables and a tally, the departures page a table.
NO_FIGURE = {"claims", "departures"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.parametrize("name", [nb.stem for nb in NOTEBOOKS])
def test_notebook_executes_under_smoke(executed_book, name):
    nb = nbformat.read(executed_book / "_nb" / f"{name}.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    if name not in NO_FIGURE:
        # glued figures are stored under a prefixed mime type and pasted by {glue:figure}
        pngs = [k for o in outputs for k in o.get("data", {}) if k.endswith("image/png")]
        assert pngs, "every notebook has a figure"
        assert (executed_book / "_build" / "html" / "_nb" / f"{name}.html").read_text().count("<img") >= 1
    assert nb.metadata.papermill.parameters["profile"] == "smoke"


def test_an_unknown_parameter_fails(tmp_path):
    from vgglib.book import check_parameters, convert

    nb = convert(ROOT / "notebooks" / "table4_multi_scale.md", tmp_path / "table4.ipynb")
    check_parameters(nb, {"profile": "smoke", "results_dir": "x"})
    with pytest.raises(ValueError, match="declares no parameter 'reproduce'"):
        check_parameters(nb, {"profile": "smoke", "reproduce": True})


def test_notebooks_declare_their_parameters():
    """A page that computes its table declares what vgglib.notebook passes it (its table's
    choices read from the driver); the pages with nothing to compute, the profile and records."""
    import tempfile

    import papermill as pm

    from vgglib.book import PROFILE_ONLY, convert
    from vgglib.notebook import notebook_of, parameters
    from vgglib.parts import tables

    computes = {notebook_of(name).stem: name for name in tables() if notebook_of(name)}
    explore = ["profile", "results_dir", "net", "weights", "image", "scales"]
    with tempfile.TemporaryDirectory() as d:
        for md in NOTEBOOKS:
            if md.stem not in PROFILE_ONLY:
                declared = pm.inspect_notebook(str(convert(md, Path(d) / f"{md.stem}.ipynb")))
                expected = (parameters(computes[md.stem]) if md.stem in computes
                            else explore if md.stem == "explore_dense_test" else ["profile", "results_dir"])
                assert list(declared) == expected, md.name


def test_built_pages_load_nothing_from_the_network(executed_book):
    html = executed_book / "_build" / "html"
    pages = list(html.rglob("*.html"))
    assert len(pages) >= 2
    remote = re.compile(r'<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//', re.I)
    for page in pages:
        assert not remote.search(page.read_text()), f"{page} loads something from the network"


def dump_dom(url: str) -> str:
    """The page's DOM after its scripts ran, from headless Chromium."""
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def served_dom(html: Path, page: str) -> str:
    """A built page's DOM, served from localhost (as ``make serve`` would)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(SimpleHTTPRequestHandler, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return dump_dom(f"http://127.0.0.1:{port}/{page}")
    finally:
        server.shutdown()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: `make test` installs it when run "
                    "as root (python -m vgglib.fetch chromium), or apt-get install chromium")
def test_architecture_page_in_a_browser(executed_book):
    html = executed_book / "_build" / "html"
    dom = served_dom(html, "_nb/architecture.html")
    assert "Table 2: number of parameters" in dom
    assert "138357544" in dom.replace(",", "")          # D, counted
    assert "conv1-256" in dom                            # Table 1, config C
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', dom)
    assert images, "the figure is on the page"
    assert all((html / "_nb" / src).resolve().is_file() for src in images)


def smoke_tally(claims) -> tuple[str, str]:
    """The tally of ``claims.csv``'s experimental claims as the book words it, written out here:
    arithmetic claims (of a table computed from code alone) apart."""
    from vgglib.claims import tally
    from vgglib.parts import tables

    experimental = claims[[tables()[t].study for t in claims["table"]]]
    t = tally(experimental["verdict"])
    return (f"{t['holds']} of {len(experimental)} experimental claims hold, {t['inconclusive']} are "
            f"inconclusive and {t['does not hold']} do not"), f"{len(claims) - len(experimental)} arithmetic claims"


def test_claims_page_comes_first_with_the_tally_and_every_claim(executed_book, smoke_results):
    import pandas as pd

    html = executed_book / "_build" / "html"
    intro = (html / "intro.html").read_text()
    nav = re.findall(r'<a class="reference internal" href="([^"#]+)"', intro)
    assert nav and nav[0] == "_nb/claims.html", "the Claims page is the book's first chapter"
    claims = pd.read_csv(smoke_results / "claims.csv")
    experimental, arithmetic = smoke_tally(claims)
    page = (html / "_nb" / "claims.html").read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert experimental in text and arithmetic in text
    landing = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", intro))
    assert experimental in landing, "the landing page shows the tally"
    missing = [i for i in claims["id"] if i.replace("&", "&amp;") not in page and i not in text]
    assert not missing, f"claims not on the page: {missing}"
    assert (html / "_downloads").is_dir() and list((html / "_downloads").rglob("claims.csv"))


#: Words of a project's tracker, which a reader of the book has no use for.
TRACKER = re.compile(r"\b(issues?|tickets?|TODO|FIXME|closing note|item \d+|the brief|budgets?|"
                     r"acceptance criteri\w+)\b", re.I)
#: The least a figure may be shrunk to fit the page at 1280 px (its labels shrink with it).
LEAST_FIGURE_SCALE = 0.6


def book_pages(html: Path) -> list[str]:
    """Every page of the built book, as paths without ``.html``."""
    return ["intro", *sorted(f"_nb/{p.stem}" for p in (html / "_nb").glob("*.html"))]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: python -m vgglib.fetch chromium")
def test_every_page_reads_whole_at_a_laptops_and_a_phones_width(executed_book):
    """At 1280 and 390 px: nothing is wider than the page, every region that scrolls sideways
    shows its hint, no Markdown shows as literal backticks or asterisks, no tracker word is in
    the text, and at 1280 px no figure is shrunk so far that its labels cannot be read."""
    from vgglib.browser import WIDTHS, Chromium, audit, serve

    html, problems = executed_book / "_build" / "html", []
    with serve(html) as base, Chromium() as browser:
        for page in book_pages(html):
            for width in WIDTHS:
                a = audit(browser, f"{base}/{page}.html", width)
                where = f"{page} at {width} px"
                if a["page_overflow"] > 0:
                    problems.append(f"{where}: the page is {a['page_overflow']} px wider than the screen")
                problems += [f"{where}: scrolls with no hint: {u}" for u in a["unhinted"]]
                problems += [f"{where}: literal Markdown: {m!r}"
                             for m in re.findall(r".{0,30}(?:`|\*\*).{0,30}", a["text"])]
                problems += [f"{where}: tracker word {m.group()!r}" for m in TRACKER.finditer(a["text"])]
                if width == max(WIDTHS):
                    problems += [f"{where}: figure {f['src']} shown at {f['scale']:.2f} of its size"
                                 for f in a["figures"] if f["scale"] < LEAST_FIGURE_SCALE]
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: python -m vgglib.fetch chromium")
def test_the_landing_pages_first_screen_says_what_was_measured_the_tally_and_the_time(executed_book,
                                                                                       smoke_results):
    """Within the first 800 px, at a laptop's and at a phone's width: the data set, the tally of
    the experimental claims, how long reproducing takes on CPU cores and on a GPU, and the link to
    the Claims page."""
    import pandas as pd

    from vgglib.browser import SCREEN, WIDTHS, Chromium, audit, serve

    experimental, _ = smoke_tally(pd.read_csv(smoke_results / "claims.csv"))
    html = executed_book / "_build" / "html"
    with serve(html) as base, Chromium() as browser:
        for width in WIDTHS:
            first = re.sub(r"\s+", " ", audit(browser, f"{base}/intro.html", width, SCREEN)["first_screen"])
            assert "Fashion-MNIST" in first and "smoke profile" in first, (width, first)
            assert experimental in first, (width, first)
            assert re.search(r"every table in \d+(\.\d)?\s(h|min|s) on \d+ CPU cores", first), (width, first)
            assert "GPU: not measured yet" in first and "The Claims page" in first, (width, first)


def test_no_number_in_prose_is_typed_in():
    """Every percentage in a page's text is pasted by ``glue`` from a computation or from
    ``vgglib.paper``, so neither our numbers nor the paper's can be mistyped or go stale."""
    typed = []
    for md in NOTEBOOKS:
        prose = re.sub(r"```.*?```", "", md.read_text(), flags=re.S)   # code cells
        prose = re.sub(r"\{glue:[a-z]+\}`[^`]*`", "", prose)           # glued values
        typed += [(md.stem, m.group()) for m in re.finditer(r"\d+(?:\.\d+)?\s?%", prose)]
    assert not typed


def test_the_papers_quoted_numbers_come_from_vgglib_paper(executed_book):
    from vgglib import paper

    page = (executed_book / "_build" / "html" / "_nb" / "table12_action.html").read_text()
    image, box = paper.TABLE12["VGG D&E, image only"], paper.TABLE12["VGG D&E, image and bounding box"]
    assert re.search(rf"image alone gives\s*(<[^>]+>\s*)*{image:.1f}(<[^>]+>\s*)*%", page)
    assert re.search(rf"adding the box,\s*(<[^>]+>\s*)*{box:.1f}", page)


def test_exploration_page_shows_the_test_taken_apart(executed_book):
    """The exploration of the paper's test is a chapter of the book, with its figures drawn."""
    html = executed_book / "_build" / "html"
    assert "_nb/explore_dense_test.html" in (html / "intro.html").read_text()
    page = (html / "_nb" / "explore_dense_test.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
    assert len(images) >= 7, "windows, crops, flips, final posterior, curves, confusion and worst errors"
    assert all((html / "_nb" / src).resolve().is_file() for src in images)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert "Dense evaluation: the class-score map" in text
    assert len(re.findall(r"Fig\. \d+", text)) >= 7, "every figure numbered and captioned"
