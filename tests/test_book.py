"""The notebooks execute under smoke, and the built book works in a real browser, offline."""
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest
from conftest import NOTEBOOKS

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.parametrize("name", [nb.stem for nb in NOTEBOOKS])
def test_notebook_executes_under_smoke(executed_book, name):
    nb = nbformat.read(executed_book / "_nb" / f"{name}.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "every notebook has a figure"
    assert nb.metadata.papermill.parameters["profile"] == "smoke"


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


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: `make test` installs it when run "
                    "as root (python -m vgglib.fetch chromium), or apt-get install chromium")
def test_architecture_page_in_a_browser(executed_book):
    html = executed_book / "_build" / "html"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(SimpleHTTPRequestHandler, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dom = dump_dom(f"http://127.0.0.1:{port}/_nb/architecture.html")
    finally:
        server.shutdown()
    assert "Table 2: number of parameters" in dom
    assert "138357544" in dom.replace(",", "")          # D, counted
    assert "conv1-256" in dom                            # Table 1, config C
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', dom)
    assert images, "the figure is on the page"
    assert all((html / "_nb" / src).resolve().is_file() for src in images)
