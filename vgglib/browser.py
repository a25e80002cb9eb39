"""The built book as a reader meets it: headless Chromium driven over the DevTools protocol on a
pipe (``--remote-debugging-pipe``: the standard library only, no driver, no network), at the
viewport a reader has, to measure what a page shows and to take its pictures.

    python -m vgglib.browser book/_build/html /tmp/book-shots     # the landing page and a few
                                                                   # chapters at 1280 and 390 px

:func:`audit` reports, for one page at one width, the scrolling regions that hide columns with
no visible hint, anything wider than the page, the article's text and the text on its first
screen; the book's tests read it for every page."""
from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

#: The widths a reader meets the book at: a laptop and a phone, and the screen's height.
WIDTHS = (1280, 390)
SCREEN = 800
#: The pages whose pictures ``python -m vgglib.browser`` takes, by file stem.
SHOTS = ("intro", "_nb/claims", "_nb/table4_multi_scale", "_nb/table9_dense_localisation", "_nb/departures",
         "_nb/performance")

#: Runs in the page after it loaded: what overflows, whether each scroller that hides content
#: has a visible hint, and the text (all of the article's, and what the first screen shows).
AUDIT_JS = r"""
(async (screen) => {
  await new Promise(r => setTimeout(r, 300));
  const W = window.innerWidth;
  const shown = el => {
    const r = el.getBoundingClientRect();
    return el.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true}) &&
      r.width > 0 && r.height > 0;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const article = document.querySelector('article') || document.body;
  const unhinted = [];
  for (const el of article.querySelectorAll('*')) {
    if (el.scrollWidth <= el.clientWidth + 1 || !shown(el)) continue;
    if (getComputedStyle(el).overflowX === 'visible') continue;
    const box = el.closest('.vgg-table');
    const hint = box && box.querySelector('.vgg-scroll-hint');
    if (!(hint && shown(hint))) unhinted.push(name(el) + ': ' + el.innerText.slice(0, 60));
  }
  // the visible part of a text node: inside the viewport and every clipping ancestor's box
  const clip = node => {
    let r = {left: 0, top: 0, right: W, bottom: Infinity};
    for (let el = node.parentElement; el; el = el.parentElement) {
      const s = getComputedStyle(el);
      if (s.display === 'none' || s.visibility === 'hidden') return null;
      if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
        const b = el.getBoundingClientRect();
        r = {left: Math.max(r.left, b.left), top: Math.max(r.top, b.top),
             right: Math.min(r.right, b.right), bottom: Math.min(r.bottom, b.bottom)};
      }
    }
    return r;
  };
  const first = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const c = clip(n);
    if (!c) continue;
    const range = document.createRange();
    const words = n.textContent.split(/(\s+)/);
    let at = 0;
    for (const w of words) {
      if (w.trim()) {
        range.setStart(n, at); range.setEnd(n, at + w.length);
        const b = range.getBoundingClientRect();
        if (b.width > 0 && b.top >= c.top - 1 && b.bottom <= Math.min(c.bottom, screen) + 1 &&
            b.left >= c.left - 1 && b.right <= c.right + 1) first.push(w);
      }
      at += w.length;
    }
  }
  const figures = [...article.querySelectorAll('img')].filter(i => i.naturalWidth > 0 && shown(i))
    .map(i => ({src: i.getAttribute('src'), scale: i.clientWidth / i.naturalWidth}));
  return {width: W, page_overflow: document.documentElement.scrollWidth - W, unhinted: unhinted,
          figures: figures, text: article.innerText, first_screen: first.join(' ')};
})
"""


class Chromium:
    """A headless Chromium spoken to over its DevTools pipe (file descriptors 3 and 4)."""

    def __init__(self, executable: str | None = None):
        exe = executable or shutil.which("chromium") or shutil.which("chromium-browser")
        if exe is None:
            raise FileNotFoundError("Chromium is not installed: python -m vgglib.fetch chromium")
        self._profile = tempfile.mkdtemp(prefix="vgglib-chromium-")
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()

        def fds() -> None:   # in the child: the pipe's ends on the descriptors Chromium reads
            a, b = os.dup(to_browser), os.dup(from_browser)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._process = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={self._profile}", "--remote-debugging-pipe", "about:blank"],
            preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._id = b"", 0

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the browser and remove its profile."""
        try:
            self.call("Browser.close")
        except (OSError, EOFError, RuntimeError):
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        for fd in (self._write, self._read):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def _message(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             until: str | None = None) -> dict:
        """Send one command and return its result; with ``until``, also wait for that event."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        result, seen = None, until is None
        while result is None or not seen:
            m = self._message()
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                result = m["result"]
            seen = seen or m.get("method") == until
        return result

    @contextmanager
    def page(self, url: str, width: int, height: int = SCREEN) -> Iterator[str]:
        """A tab showing ``url`` at a ``width`` × ``height`` viewport (a phone's below 600 px),
        loaded; yields its session id."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                             "deviceScaleFactor": 1, "mobile": width < 600}, session)
            self.call("Page.enable", {}, session)
            self.call("Page.navigate", {"url": url}, session, until="Page.loadEventFired")
            yield session
        finally:
            self.call("Target.closeTarget", {"targetId": target})

    def evaluate(self, session: str, expression: str) -> object:
        """The value of a JavaScript expression in the page (promises awaited)."""
        out = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, session)
        if "exceptionDetails" in out:
            raise RuntimeError(f"script failed: {out['exceptionDetails']}")
        return out["result"].get("value")

    def screenshot(self, session: str, path: Path) -> Path:
        """The viewport as a PNG."""
        data = self.call("Page.captureScreenshot", {"format": "png"}, session)["data"]
        path.write_bytes(base64.b64decode(data))
        return path


def audit(browser: Chromium, url: str, width: int, height: int = SCREEN) -> dict:
    """One page at one width: ``page_overflow`` (pixels the page is wider than the viewport),
    ``unhinted`` (regions that scroll sideways with no visible hint), ``figures`` (each image's
    ``src`` and ``scale``, its shown width over its drawn width: below one, its labels shrink
    with it), ``text`` (the article's rendered text) and ``first_screen`` (the words visible in
    the first ``height`` pixels)."""
    with browser.page(url, width, height) as session:
        return browser.evaluate(session, f"({AUDIT_JS})({height})")


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """The built book served on localhost, as ``make serve`` serves it; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def shots(html: Path, out: Path, pages: tuple[str, ...] = SHOTS, widths: tuple[int, ...] = WIDTHS) -> list[Path]:
    """The first screen of each page at each width, as ``<out>/<page>-<width>.png``."""
    out.mkdir(parents=True, exist_ok=True)
    taken = []
    with serve(html) as base, Chromium() as browser:
        for page in pages:
            for width in widths:
                with browser.page(f"{base}/{page}.html", width) as session:
                    browser.evaluate(session, "new Promise(r => setTimeout(r, 300))")
                    taken.append(browser.screenshot(session, out / f"{Path(page).name}-{width}.png"))
    return taken


def main(argv: list[str] | None = None) -> None:
    """``python -m vgglib.browser HTML_DIR OUT_DIR``: the pictures of :data:`SHOTS`."""
    ap = argparse.ArgumentParser(prog="python -m vgglib.browser", description=__doc__.split("\n\n")[0])
    ap.add_argument("html", type=Path, help="the built book (book/_build/html)")
    ap.add_argument("out", type=Path, help="where the PNGs go")
    a = ap.parse_args(argv)
    for path in shots(a.html, a.out):
        print(path)


if __name__ == "__main__":
    main()
