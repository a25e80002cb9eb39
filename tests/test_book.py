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


def test_notebooks_declare_only_profile_and_results_dir():
    import tempfile

    import papermill as pm

    from vgglib.book import PROFILE_ONLY, convert

    with tempfile.TemporaryDirectory() as d:
        for md in NOTEBOOKS:
            if md.stem not in PROFILE_ONLY:
                declared = pm.inspect_notebook(str(convert(md, Path(d) / f"{md.stem}.ipynb")))
                assert list(declared) == ["profile", "results_dir"], md.name


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


def test_claims_page_comes_first_with_the_tally_and_every_claim(executed_book, smoke_results):
    import pandas as pd

    from vgglib.claims import tally

    html = executed_book / "_build" / "html"
    intro = (html / "intro.html").read_text()
    nav = re.findall(r'<a class="reference internal" href="([^"#]+)"', intro)
    assert nav and nav[0] == "_nb/claims.html", "the Claims page is the book's first chapter"
    claims = pd.read_csv(smoke_results / "claims.csv")
    t = tally(claims["verdict"])
    sentence = (f"{t['holds']} of {len(claims)} claims hold, {t['inconclusive']} inconclusive, "
                f"{t['does not hold']} do not.")
    page = (html / "_nb" / "claims.html").read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert sentence in text
    landing = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", intro))
    assert f"{t['holds']} of {len(claims)} hold" in landing, "the landing page shows the tally"
    missing = [i for i in claims["id"] if i.replace("&", "&amp;") not in page and i not in text]
    assert not missing, f"claims not on the page: {missing}"
    assert (html / "_downloads").is_dir() and list((html / "_downloads").rglob("claims.csv"))


#: Percentages a page's prose may state without glue: not results, nor the paper's numbers,
#: but how something was built (the canvases' item sizes) or history (the old one-window pass).
DESCRIBED = {("table4_multi_scale", "85 %")}


def test_no_number_in_prose_is_typed_in():
    """Every percentage in a page's text is pasted by ``glue`` from a computation or from
    ``vgglib.paper``, so neither our numbers nor the paper's can be mistyped or go stale."""
    typed = []
    for md in NOTEBOOKS:
        prose = re.sub(r"```.*?```", "", md.read_text(), flags=re.S)   # code cells
        prose = re.sub(r"\{glue:[a-z]+\}`[^`]*`", "", prose)           # glued values
        typed += [(md.stem, m.group()) for m in re.finditer(r"\d+(?:\.\d+)?\s?%", prose)
                  if (md.stem, m.group()) not in DESCRIBED]
    assert not typed


def test_the_papers_quoted_numbers_come_from_vgglib_paper(executed_book):
    from vgglib import paper

    page = (executed_book / "_build" / "html" / "_nb" / "table12_action.html").read_text()
    image, box = paper.TABLE12["VGG D&E, image only"], paper.TABLE12["VGG D&E, image and bounding box"]
    assert re.search(rf"image alone gives\s*(<[^>]+>\s*)*{image:.1f}(<[^>]+>\s*)*%", page)
    assert re.search(rf"adding the box,\s*(<[^>]+>\s*)*{box:.1f}", page)
