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
def executed_book(tmp_path_factory, smoke_env) -> Path:
    """Every notebook executed by papermill under ``smoke`` into a copy of the book sources."""
    import jupytext
    import papermill as pm

    book = tmp_path_factory.mktemp("book") / "book"
    shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_build", "_nb"))
    (book / "_nb").mkdir()
    (book / "_nb" / "src").mkdir()
    for md in NOTEBOOKS:
        nb = book / "_nb" / "src" / f"{md.stem}.ipynb"
        jupytext.write(jupytext.read(md), nb)
        declared = pm.inspect_notebook(str(nb))
        params = {"profile": "smoke", "results_dir": str(smoke_env["results"]), "reproduce": True}
        pm.execute_notebook(str(nb), str(book / "_nb" / nb.name), kernel_name="vgglib",
                            parameters={k: v for k, v in params.items() if k in declared},
                            progress_bar=False, cwd=str(ROOT))
    subprocess.run([str(BIN / "jupyter-book"), "build", str(book), "--warningiserror", "--quiet"],
                   check=True, capture_output=True)
    return book
