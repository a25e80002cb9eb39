"""Shared fixtures: the notebooks executed at the smoke profile, and the book built from them."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def smoke_env(tmp_path_factory) -> dict:
    """A run store and results folder of the test session's own, never the committed ones."""
    base = tmp_path_factory.mktemp("smoke")
    os.environ["VGGLIB_RUNS"] = str(base / "runs")
    return {"runs": base / "runs", "results": base / "results"}


@pytest.fixture(scope="session")
def smoke_results(smoke_env) -> Path:
    """Every table's record at the smoke profile, computed as a user would: ``python -m vgglib
    reproduce all`` (Tables 11–12 read the installed Fashion-MNIST test set)."""
    subprocess.run([sys.executable, "-m", "vgglib", "reproduce", "all", "--profile", "smoke",
                    "--results", str(smoke_env["results"])], check=True, cwd=ROOT)
    return smoke_env["results"]


@pytest.fixture(scope="session")
def executed_book(tmp_path_factory, smoke_results) -> Path:
    """Every notebook converted (jupytext), executed by papermill at ``smoke`` on those records
    — each parameter checked against the ones the notebook declares — into a copy of the book
    sources, and the book built from them with warnings as errors."""
    from vgglib import book as book_build

    book = tmp_path_factory.mktemp("book") / "book"
    shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_build", "_nb"))
    book_build.build(book, "smoke", smoke_results, jupyter_book=str(BIN / "jupyter-book"))
    return book
