"""Fetch what the make targets need on a fresh machine, so that ``make test`` and
``make reproduce-…`` do all the set-up themselves::

    python -m vgglib.fetch fashion-mnist [--root DATA]   # the data of the smoke and quick profiles
    python -m vgglib.fetch chromium                      # the browser of the book's test

Each is used where it already is; else installed from Debian (as root, with apt-get); else, for
Fashion-MNIST, downloaded with checksums into ``~/.cache/vgglib/fashion-mnist``. When none of
these works, Fashion-MNIST ends with a short message naming the ways and exit code 2; a missing
Chromium only says how to get it (exit 0), since just the browser test needs it and skips.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

NO_FASHION_MNIST = """\
Fashion-MNIST is not on this machine, which can neither install nor download it. Either
  install Debian's package as root (apt-get install dataset-fashion-mnist), or point DATA=/path (make)
  or VGGLIB_DATA at its 4 IDX files, or run `python -m vgglib.fetch fashion-mnist` where there is network."""
NO_CHROMIUM = ("Chromium is not installed, so the book's browser test will skip: `make test` installs it "
               "when run as root,\nor install it yourself: apt-get install chromium.")


def apt_available() -> bool:
    """True when this process may install Debian packages: apt-get exists and we are root."""
    return shutil.which("apt-get") is not None and os.geteuid() == 0


def network_available(host: str = "raw.githubusercontent.com", port: int = 443) -> bool:
    """True when the host serving Fashion-MNIST answers a TCP connection within 5 s."""
    try:
        socket.create_connection((host, port), timeout=5).close()
        return True
    except OSError:
        return False


def apt_install(package: str) -> bool:
    """Install a Debian package, reading the package lists first if apt does not know it yet."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    known = subprocess.run(["apt-cache", "show", package], capture_output=True, env=env, check=False)
    if known.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
    print(f"Installing Debian's {package} (apt-get)", flush=True)
    return subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
                          env=env, check=False).returncode == 0


def find_fashion_mnist(root: str | None) -> Path | None:
    """Where Fashion-MNIST is (vgglib.data's search path), or None."""
    from vgglib import data
    try:
        return data.find_fashion_mnist(root)
    except FileNotFoundError:
        return None


def fetch_fashion_mnist(root: str | None = None) -> int:
    """Find Fashion-MNIST, else install Debian's package, else download it; the exit code."""
    from vgglib import data
    if (folder := find_fashion_mnist(root)) is None and apt_available():
        apt_install("dataset-fashion-mnist")
        folder = find_fashion_mnist(root)
    if folder is None and network_available():
        try:
            folder = data.download_fashion_mnist()
        except (OSError, ValueError) as e:
            print(f"Downloading Fashion-MNIST failed: {e}", file=sys.stderr)
    if folder is None:
        print(NO_FASHION_MNIST, file=sys.stderr)
        return 2
    print(f"Fashion-MNIST: {folder}")
    return 0


def chromium() -> str | None:
    """The Chromium executable on PATH (Debian names it chromium), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def fetch_chromium() -> int:
    """Find Chromium, else install Debian's as root, else say how to get it; always exit code 0."""
    if chromium() is None and apt_available():
        apt_install("chromium")
    print(f"Chromium: {chromium()}" if chromium() else NO_CHROMIUM)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m vgglib.fetch {fashion-mnist,chromium} [--root DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m vgglib.fetch", description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("fashion-mnist", "chromium"))
    parser.add_argument("--root", help="a folder to look in first (make's DATA)")
    args = parser.parse_args(argv)
    return fetch_fashion_mnist(args.root) if args.what == "fashion-mnist" else fetch_chromium()


if __name__ == "__main__":
    sys.exit(main())
